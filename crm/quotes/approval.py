"""The price-approval hook of quotes: the one place the approval workflow engine calls.

The rule: the discount of every line, and of the quote as a whole (everything below list price, as
a share of the list amount), must stay within the discount limit of the submitter's role — the user
who sends the quote or submits it for approval (`accounts.Role.max_discount_percent`; a user without
a role, or the system, has no allowance).
A quote over the limit cannot be sent (`send_quote` raises ApprovalRequired) until approved.

For the workflow engine:
- `needs_price_approval(quote, submitter)` says whether, and why, a quote needs approval (entry criteria);
- `submit_for_price_approval(actor=..., quote=...)` puts it in "pending approval" and publishes
  "quote.approval_requested" (the engine subscribes and starts its process);
- `record_price_approval(actor=..., quote=..., approved=..., comment=...)` is what the engine calls
  with the outcome: approved, or back to draft.
Any change to the quote after that (crm/quotes/services.py `save_quote`) returns it to draft and
voids the approval, so an approval always covers exactly the prices that were approved.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.quotes.models import Quote
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import get_for
from crm_platform.errors import Conflict

ZERO = Decimal("0")


def discount_limit(user) -> Decimal:
    """The largest discount (percent) `user` may give without approval."""
    role = getattr(user, "role", None)
    return role.max_discount_percent if role is not None else ZERO


def needs_price_approval(quote: Quote, submitter) -> list[str]:
    """Why `quote`, sent by `submitter`, needs a price approval (empty: it does not), one reason each."""
    limit = discount_limit(submitter)
    reasons = []
    for line in quote.lines.select_related("product"):
        if line.discount_percent > limit:
            reasons.append(
                _("Line %(position)d (%(sku)s): discount %(discount)s%% is over the limit of %(limit)s%%.")
                % {
                    "position": line.position,
                    "sku": line.product.sku,
                    "discount": _percent(line.discount_percent),
                    "limit": _percent(limit),
                }
            )
    overall = quote.overall_discount_percent
    if overall > limit:
        reasons.append(
            _("The quote's overall discount of %(discount)s%% is over the limit of %(limit)s%%.")
            % {"discount": _percent(overall), "limit": _percent(limit)}
        )
    return reasons


def submit_for_price_approval(*, actor, quote) -> Quote:
    """Ask for approval of a draft quote's prices: status "pending approval", event for the engine."""
    with transaction.atomic(), acting_as(actor):
        quote = get_for(actor, Quote, pk_of(quote), for_update=True)
        if quote.status != Quote.Status.DRAFT:
            raise Conflict(_("Only draft quotes can be submitted for approval."))
        if not quote.lines.exists():
            raise ValidationError({"lines": [_("A quote needs at least one line.")]})
        reasons = needs_price_approval(quote, actor)
        quote.status = Quote.Status.PENDING_APPROVAL
        quote.save(update_fields=["status", "updated_at"])
        publish(
            "quote.approval_requested",
            quote,
            reasons=reasons,
            submitted_by=getattr(actor, "pk", None),
            discount_percent=str(quote.overall_discount_percent.quantize(Decimal("0.01"))),
        )
        return quote


def record_price_approval(*, actor, quote, approved: bool, comment: str = "") -> Quote:
    """The approval's outcome for a pending quote: "approved" (may be sent), or back to "draft"."""
    with transaction.atomic(), acting_as(actor, comment=comment):
        quote = get_for(actor, Quote, pk_of(quote), for_update=True)
        if quote.status != Quote.Status.PENDING_APPROVAL:
            raise Conflict(_("This quote is not waiting for approval."))
        quote.approval_comment = (comment or "")[:500]
        if approved:
            quote.status = Quote.Status.APPROVED
            quote.approved_by = actor
            quote.approved_at = timezone.now()
        else:
            quote.status = Quote.Status.DRAFT
            quote.approved_by = None
            quote.approved_at = None
        quote.save(update_fields=["status", "approved_by", "approved_at", "approval_comment", "updated_at"])
        publish("quote.approved" if approved else "quote.approval_rejected", quote, comment=comment)
        return quote


def void_approval(quote: Quote) -> bool:
    """Forget a pending or given approval (the quote changed); returns whether there was one to void."""
    if quote.status not in (Quote.Status.PENDING_APPROVAL, Quote.Status.APPROVED):
        return False
    quote.status = Quote.Status.DRAFT
    quote.approved_by = None
    quote.approved_at = None
    quote.approval_comment = ""
    return True


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():f}"
