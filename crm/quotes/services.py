"""Quotes: save (header and lines together), send, the customer's answer, revisions, expiry.

Price approval (the discount limit and its hook for the workflow engine) is in crm/quotes/approval.py;
the arithmetic in crm/quotes/pricing.py.
"""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.customers.models import Account, Contact
from crm.quotes import approval
from crm.quotes.models import Quote, QuoteLine
from crm.quotes.pricing import HUNDRED, apply_totals, priced_lines
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.services import get_for, next_number
from crm.sales.models import Opportunity
from crm_platform.errors import ApprovalRequired, Conflict, NotFound

QUOTE_NUMBERING = ("quote", "BJ{yyyy}{mm}-{seq:04d}")
VALIDITY_DAYS = 30  # a new quote's default validity
HEADER_FIELDS = frozenset(
    {
        "account",
        "contact",
        "opportunity",
        "title",
        "currency",
        "valid_until",
        "discount_percent",
        "terms",
        "note",
    }
)


def save_quote(*, actor, quote_id=None, lines: Iterable[Mapping], **header) -> Quote:
    """Create a quote (no `quote_id`) or change one still open to change, lines replaced as a whole.

    Header: account (required for a new quote), contact, opportunity, title, currency, valid_until
    (default: 30 days from today), discount_percent (on the whole quote), terms, note. Lines: see
    crm/quotes/pricing.py. Every input problem comes back at once as field errors (`lines[2].quantity`);
    nothing is written unless everything is valid. Changing an approved or pending quote returns it
    to draft and voids the approval.
    """
    unknown = set(header) - HEADER_FIELDS
    if unknown:
        raise TypeError(f"save_quote() got unexpected fields: {', '.join(sorted(unknown))}")
    with transaction.atomic(), acting_as(actor):
        if quote_id is None:
            quote = Quote(valid_until=timezone.localdate() + timedelta(days=VALIDITY_DAYS))
        else:
            quote = get_for(actor, Quote, quote_id, for_update=True)
            if not quote.is_editable:
                raise Conflict(
                    _("A quote that is %(status)s cannot change; revise it instead.")
                    % {"status": quote.get_status_display()}
                )
        errors = _apply_header(actor, quote, header, creating=quote_id is None)
        level = quote.channel_node.level if quote.channel_node_id else None
        try:
            new_lines = priced_lines(lines, currency=quote.currency, channel_level=level)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        voided = approval.void_approval(quote)
        quote.prepared_by = actor
        apply_totals(quote, new_lines)
        if quote.pk is None:
            # Numbered only once valid: a refused quote does not burn a number.
            quote.number = next_number(*QUOTE_NUMBERING)
        else:
            quote.lines.all().delete()
        quote.save()
        for line in new_lines:
            line.quote = quote
        QuoteLine.objects.bulk_create(new_lines)
        name = "quote.created" if quote_id is None else "quote.updated"
        publish(name, quote, grand_total=str(quote.grand_total), approval_voided=voided)
        return quote


def send_quote(*, actor, quote) -> Quote:
    """Send a draft or approved quote to the customer; it is frozen from then on.

    A quote over the sender's discount limit needs an approval first (ApprovalRequired).
    """
    with transaction.atomic(), acting_as(actor):
        quote = get_for(actor, Quote, pk_of(quote), for_update=True)
        if quote.status == Quote.Status.PENDING_APPROVAL:
            raise ApprovalRequired(_("This quote is waiting for price approval."))
        if quote.status not in (Quote.Status.DRAFT, Quote.Status.APPROVED):
            raise Conflict(_("Only draft or approved quotes can be sent."))
        if not quote.lines.exists():
            raise ValidationError({"lines": [_("A quote needs at least one line.")]})
        if quote.valid_until < timezone.localdate():
            raise ValidationError({"valid_until": [_("The quote's validity has passed; extend it first.")]})
        reasons = approval.needs_price_approval(quote, actor)
        if reasons and quote.status != Quote.Status.APPROVED:
            raise ApprovalRequired(" ".join(reasons))
        quote.status = Quote.Status.SENT
        quote.sent_at = timezone.now()
        quote.save(update_fields=["status", "sent_at", "updated_at"])
        publish("quote.sent", quote, grand_total=str(quote.grand_total))
        return quote


def accept_quote(*, actor, quote) -> Quote:
    """Record that the customer accepted a sent quote (a contract or order may follow from it)."""
    return _answer(actor, quote, Quote.Status.ACCEPTED, "")


def reject_quote(*, actor, quote, reason: str = "") -> Quote:
    """Record that the customer turned a sent quote down; a revision may follow."""
    return _answer(actor, quote, Quote.Status.REJECTED, reason)


def revise_quote(*, actor, quote) -> Quote:
    """A new version (v2, v3...) of the quote as a draft, same number, lines copied; the old one is
    superseded. Accepted and already superseded quotes cannot be revised."""
    with transaction.atomic(), acting_as(actor):
        old = get_for(actor, Quote, pk_of(quote), for_update=True)
        if old.status in (Quote.Status.ACCEPTED, Quote.Status.SUPERSEDED):
            raise Conflict(
                _("A quote that is %(status)s cannot be revised.") % {"status": old.get_status_display()}
            )
        lines = list(old.lines.all())
        new = Quote.objects.get(pk=old.pk)
        new.pk = new.id = None
        new.version = old.version + 1
        new.revises = old
        new.status = Quote.Status.DRAFT
        new.prepared_by = actor
        new.approved_by = new.approved_at = new.sent_at = new.answered_at = None
        new.approval_comment = ""
        new.created_at = new.updated_at = None
        new.valid_until = max(old.valid_until, timezone.localdate() + timedelta(days=VALIDITY_DAYS))
        old.status = Quote.Status.SUPERSEDED
        old.save(update_fields=["status", "updated_at"])
        new.save(force_insert=True)
        for line in lines:
            line.pk = line.id = None
            line.quote = new
        QuoteLine.objects.bulk_create(lines)
        publish("quote.revised", new, revises=old.pk, version=new.version)
        return new


def expire_quotes(today: date | None = None) -> int:
    """Periodic job: sent quotes past their validity become expired (current tenant, idempotent)."""
    today = today or timezone.localdate()
    count = 0
    with acting_as(None, job="expire_quotes"):
        for quote in Quote.objects.filter(status=Quote.Status.SENT, valid_until__lt=today):
            with transaction.atomic():
                quote.status = Quote.Status.EXPIRED
                quote.save(update_fields=["status", "updated_at"])
                publish("quote.expired", quote)
            count += 1
    return count


def _answer(actor, quote, status: str, reason: str) -> Quote:
    with transaction.atomic(), acting_as(actor, reason=reason):
        quote = get_for(actor, Quote, pk_of(quote), for_update=True)
        if quote.status != Quote.Status.SENT:
            raise Conflict(_("Only sent quotes can be accepted or rejected."))
        quote.status = status
        quote.answered_at = timezone.now()
        quote.save(update_fields=["status", "answered_at", "updated_at"])
        publish(f"quote.{status}", quote, reason=reason)
        return quote


def _apply_header(actor, quote: Quote, header: Mapping, *, creating: bool) -> dict[str, list[str]]:
    """Set the header fields given; field errors are collected, not raised."""
    errors: dict[str, list[str]] = {}
    if creating and not header.get("account"):
        errors["account"] = [_("Choose the customer account.")]
    if header.get("account"):
        try:
            account = get_for(actor, Account, pk_of(header["account"]))
        except NotFound as exc:
            errors["account"] = [str(exc.detail)]
        else:
            if account.pk != quote.account_id:
                quote.account = account
                quote.place(owner=quote.owner or actor, channel_node=account.channel_node)
    account_id = quote.account_id
    for field, model in (("contact", Contact), ("opportunity", Opportunity)):
        if field not in header:
            continue
        if not header[field]:
            setattr(quote, field, None)
            continue
        try:
            related = get_for(actor, model, pk_of(header[field]))
        except NotFound as exc:
            errors[field] = [str(exc.detail)]
            continue
        if related.account_id != account_id:
            errors[field] = [_("This belongs to another account than the quote's.")]
        else:
            setattr(quote, field, related)
    for field in ("title", "terms", "note"):
        if field in header:
            setattr(quote, field, (header[field] or "").strip())
    if "currency" in header:
        quote.currency = header["currency"] or ""
        if not (len(quote.currency) == 3 and quote.currency.isascii() and quote.currency.isupper()):
            errors["currency"] = [_("Use a three-letter ISO currency code, e.g. CNY.")]
    if "valid_until" in header:
        quote.valid_until = header["valid_until"]
        if not isinstance(quote.valid_until, date):
            errors["valid_until"] = [_("Enter a date.")]
        elif quote.valid_until < timezone.localdate():
            errors["valid_until"] = [_("The validity cannot end in the past.")]
    if "discount_percent" in header:
        problems: dict[str, str] = {}
        discount = decimal_or_error(header["discount_percent"] or 0, "discount_percent", problems)
        if discount is not None and not 0 <= discount <= HUNDRED:
            problems["discount_percent"] = _("The discount must be between 0 and 100%.")
        if problems:
            errors["discount_percent"] = [problems["discount_percent"]]
        else:
            quote.discount_percent = discount
    try:
        quote.full_clean(exclude=[*errors, "number", "account", "owner", "org_unit", "channel_node"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages)
    return errors
