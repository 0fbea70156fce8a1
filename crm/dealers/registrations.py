"""Deal registrations (报备): submit with conflict detection, review by the level above, convert into
account and opportunity, expire after the protection period.

Who reviews is decided in crm/dealers/reviewers.py, what conflicts in crm/dealers/conflicts.py.
"""

from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from crm.catalog.models import Product
from crm.customers import normalize
from crm.customers.models import Account
from crm.customers.services import add_contact, create_account
from crm.dealers.conflicts import FIELD_OF, SYSTEM, describe, find_conflicts
from crm.dealers.models import DealerPolicy, DealRegistration
from crm.dealers.reviewers import may_review, node_of
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.money import rounded
from crm.records.services import get_for, next_number
from crm.sales.services import create_opportunity
from crm_platform.errors import Conflict, PermissionDenied

REGISTRATION_NUMBERING = ("deal_registration", "BB-{yyyy}{mm}-{seq:05d}")
POLICY_ADMIN_ROLES = frozenset({"admin"})


def dealer_policy() -> DealerPolicy:
    """The tenant's registration rules (defaults until an admin saves them)."""
    return DealerPolicy.objects.order_by("pk").first() or DealerPolicy()


def configure_registrations(*, actor, protection_days=None, conflict_mode=None) -> DealerPolicy:
    """Change the protection period and what a conflict does (warn the reviewer, or refuse)."""
    if actor is not None and getattr(actor.role, "code", None) not in POLICY_ADMIN_ROLES:
        raise PermissionDenied(_("Only an administrator may change the deal registration rules."))
    with transaction.atomic(), acting_as(actor):
        policy = dealer_policy()
        if protection_days is not None:
            policy.protection_days = protection_days
        if conflict_mode is not None:
            policy.conflict_mode = conflict_mode
        policy.full_clean()
        policy.save()
        return policy


def submit_registration(
    *,
    actor,
    account=None,
    company_name: str = "",
    credit_code: str = "",
    phone: str = "",
    contact_name: str = "",
    products: Iterable = (),
    expected_amount=0,
    currency: str = settings.DEFAULT_CURRENCY,
    expected_close_date=None,
    notes: str = "",
) -> DealRegistration:
    """Register a deal on the actor's channel node, for an existing `account` or a new prospect
    (company name required; credit code and phone are normalised). Conflicts are stored for the
    reviewer, or refuse the registration with a field error when the tenant blocks them."""
    node = node_of(actor)
    if node is None:
        raise PermissionDenied(_("Only dealer users register deals."))
    with transaction.atomic(), acting_as(actor):
        errors: dict[str, list[str]] = {}
        registration = DealRegistration(
            contact_name=(contact_name or "").strip(), currency=currency, notes=notes or ""
        )
        registration.place(owner=actor, channel_node=node)
        if account is not None:
            account = get_for(actor, Account, pk_of(account))
            registration.account = account
            registration.company_name, registration.name_key = account.name, account.name_key
            registration.credit_code, registration.phone = account.credit_code, account.phone
        else:
            _prospect(registration, company_name, credit_code, phone, errors)
        chosen = _products(products, errors)
        plain: dict[str, str] = {}
        amount = decimal_or_error(expected_amount, "expected_amount", plain)
        if amount is not None and (amount < 0 or amount != rounded(amount)):
            plain["expected_amount"] = _("Enter an amount of zero or more, in cents at most.")
        registration.expected_amount = amount if amount is not None else 0
        if not (len(currency) == 3 and currency.isascii() and currency.isupper()):
            plain["currency"] = _("Use a three-letter ISO currency code, e.g. CNY.")
        today = timezone.localdate()
        close = _date(expected_close_date)
        if close is None:
            plain["expected_close_date"] = _("Enter the expected close date.")
        elif close < today:
            plain["expected_close_date"] = _("The expected close date cannot be in the past.")
        registration.expected_close_date = close or today
        registration.submitted_at = timezone.now()
        registration.expires_on = today + timedelta(days=dealer_policy().protection_days)
        for field, message in plain.items():
            errors.setdefault(field, []).append(message)
        _model_errors(registration, errors)
        if errors:
            raise ValidationError(errors)
        registration.conflicts = find_conflicts(registration, today)
        if registration.conflicts and dealer_policy().conflict_mode == DealerPolicy.ConflictMode.BLOCK:
            first = registration.conflicts[0]
            field = FIELD_OF[first["matched_on"][0]]
            raise ValidationError({field: [ValidationError(describe(first), code="conflict")]})
        # Numbered only once accepted: a refused registration does not burn a number.
        registration.number = next_number(*REGISTRATION_NUMBERING)
        registration.save()
        registration.products.set(chosen)
        publish("deal_registration.submitted", registration, conflicts=len(registration.conflicts))
        return registration


def _prospect(registration, company_name, credit_code, phone, errors) -> None:
    registration.company_name = (company_name or "").strip()
    if not registration.company_name:
        errors["company_name"] = [_("Enter the customer's company name, or choose an existing account.")]
    registration.name_key = normalize.company_key(registration.company_name)
    for field, normalise, raw in (
        ("credit_code", normalize.credit_code, credit_code),
        ("phone", normalize.phone, phone),
    ):
        try:
            setattr(registration, field, normalise(raw or ""))
        except ValidationError as exc:
            setattr(registration, field, "")
            errors.update(exc.message_dict)


def _products(products, errors) -> list[Product]:
    try:
        wanted = {int(pk_of(product)) for product in products or ()}
    except (TypeError, ValueError):
        wanted = None
    found = list(Product.objects.filter(pk__in=wanted or [], is_active=True))
    if wanted is None or len(found) != len(wanted):
        errors["products"] = [_("Choose products from the catalog that are still sold.")]
    return found


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return parse_date(str(value)) if value else None
    except ValueError:
        return None


def _model_errors(registration, errors) -> None:
    try:
        registration.full_clean(
            exclude=["number", "account", "owner", "org_unit", "channel_node", "opportunity", "reviewed_by"],
            validate_constraints=False,
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field not in errors:
                errors[field] = messages


def _reviewable(actor, registration) -> DealRegistration:
    registration = get_for(actor, DealRegistration, pk_of(registration), for_update=True)
    if registration.status != DealRegistration.Status.SUBMITTED:
        raise Conflict(_("Only submitted registrations can be reviewed."))
    if not may_review(actor, registration):
        raise PermissionDenied(
            _("Registrations are reviewed by the dealer administrators one level up, or by the brand.")
        )
    if registration.expires_on < timezone.localdate():
        raise Conflict(_("This registration has expired."))
    return registration


def approve_registration(*, actor, registration) -> DealRegistration:
    """Approve: the dealer is protected for the tenant's period from today. Refused while another
    dealer holds an approved, unexpired registration for the same customer."""
    with transaction.atomic(), acting_as(actor):
        registration = _reviewable(actor, registration)
        today = timezone.localdate()
        registration.conflicts = find_conflicts(registration, today)
        protected = [c for c in registration.conflicts if c.get("status") == DealRegistration.Status.APPROVED]
        if protected:
            raise Conflict(describe(protected[0]))
        now = timezone.now()
        registration.status = DealRegistration.Status.APPROVED
        registration.reviewed_by, registration.reviewed_at, registration.approved_at = actor, now, now
        registration.expires_on = today + timedelta(days=dealer_policy().protection_days)
        registration.save()
        publish("deal_registration.approved", registration, expires_on=registration.expires_on.isoformat())
        return registration


def reject_registration(*, actor, registration, reason: str) -> DealRegistration:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the registration is rejected.")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("Keep the reason to 300 characters.")]})
    with transaction.atomic(), acting_as(actor, reason=reason):
        registration = _reviewable(actor, registration)
        registration.status = DealRegistration.Status.REJECTED
        registration.reviewed_by, registration.reviewed_at = actor, timezone.now()
        registration.rejection_reason = reason
        registration.save()
        publish("deal_registration.rejected", registration, reason=reason)
        return registration


def convert_registration(*, actor, registration, opportunity_name: str = "") -> DealRegistration:
    """Turn an approved registration into a deal: the account (created if new, duplicate-checked),
    its contact, and an opportunity on the default pipeline placed on the dealer's node."""
    with transaction.atomic(), acting_as(actor):
        registration = get_for(actor, DealRegistration, pk_of(registration), for_update=True)
        if registration.status != DealRegistration.Status.APPROVED:
            raise Conflict(_("Only approved registrations can be converted."))
        if registration.expires_on < timezone.localdate():
            raise Conflict(_("This registration has expired."))
        if node_of(actor) != registration.channel_node and not may_review(actor, registration):
            raise PermissionDenied(_("Only the registering dealer or its reviewers may convert it."))
        node, owner = registration.channel_node, registration.owner or actor
        account = registration.account
        if account is None:
            account = _new_account(actor, registration, owner)
            if registration.contact_name:
                add_contact(actor=actor, account=account, name=registration.contact_name, is_primary=True)
        opportunity = create_opportunity(
            actor=actor,
            account=account,
            name=opportunity_name.strip() or f"{registration.company_name} · {registration.number}",
            amount=registration.expected_amount,
            currency=registration.currency,
            expected_close_date=registration.expected_close_date,
            owner=owner,
        )
        if opportunity.channel_node_id != node.pk:  # an existing account may sit on another node
            opportunity.place(owner=opportunity.owner, org_unit=opportunity.org_unit, channel_node=node)
            opportunity.save(update_fields=["channel_node", "channel_path", "updated_at"])
        registration.account, registration.opportunity = account, opportunity
        registration.status = DealRegistration.Status.CONVERTED
        registration.converted_at = timezone.now()
        registration.save()
        publish("deal_registration.converted", registration, account=account.pk, opportunity=opportunity.pk)
        return registration


def _new_account(actor, registration, owner) -> Account:
    try:
        return create_account(
            actor=actor,
            owner=owner,
            channel_node=registration.channel_node,
            name=registration.company_name,
            credit_code=registration.credit_code,
            phone=registration.phone,
            source=Account.Source.CHANNEL,
        ).account
    except ValidationError as exc:
        # The account's "name" is the registration's "company_name".
        raise ValidationError(
            {
                {"name": "company_name"}.get(field, field): messages
                for field, messages in exc.message_dict.items()
            }
        ) from None


def expire_registrations(today: date | None = None) -> int:
    """Periodic job: submitted or approved registrations past their protection period expire
    (current tenant, idempotent)."""
    today = today or timezone.localdate()
    count = 0
    with acting_as(None, job="expire_registrations"):
        due = DealRegistration.objects.visible_to(SYSTEM).filter(
            status__in=(DealRegistration.Status.SUBMITTED, DealRegistration.Status.APPROVED),
            expires_on__lt=today,
        )
        for registration in due.order_by("id"):
            with transaction.atomic():
                registration.status = DealRegistration.Status.EXPIRED
                registration.expired_at = timezone.now()
                registration.save(update_fields=["status", "expired_at", "updated_at"])
                publish("deal_registration.expired", registration)
            count += 1
    return count
