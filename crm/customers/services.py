"""Customer profiles and contacts: create and update with standardised fields and duplicate checks,
and the value class and lifecycle stage derived from deals.

The pool lives in crm/customers/pool.py, duplicates and merging in duplicates.py, leads in leads.py.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from access.permissions import check_writable, require
from crm.customers import normalize
from crm.customers.duplicates import Duplicate, check_duplicates
from crm.customers.models import Account, Contact
from crm.customers.pool import return_idle_accounts, touch_account_activity  # noqa: F401 (public API)
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import ensure_placed_within_scope, get_for, validated

EDITABLE = (
    "name",
    "kind",
    "industry",
    "size",
    "source",
    "tags",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "email",
    "credit_code",
    "value_class",
    "lifecycle",
    "custom",
)
# Value class by won amount over the last year (CNY); lifecycle by number of won deals.
CLASS_A_FROM = Decimal("1000000")
CLASS_B_FROM = Decimal("100000")
LOYAL_FROM_DEALS = 4
CHURNED_AFTER_DAYS = 365


@dataclass
class Saved:
    """A saved account, with the possible duplicates the tenant's policy lets through as a warning."""

    account: Account
    duplicates: list[Duplicate] = field(default_factory=list)


def _apply(account: Account, data: dict) -> None:
    unknown = set(data) - set(EDITABLE)
    if unknown:
        from django.core.exceptions import ValidationError

        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    for name, value in data.items():
        setattr(account, name, value)
    if "value_class" in data:
        account.value_class_overridden = True
    if "lifecycle" in data:
        account.lifecycle_overridden = True
    account.phone = normalize.phone(account.phone)
    account.email = normalize.email(account.email)
    account.credit_code = normalize.credit_code(account.credit_code)
    account.name_key = normalize.company_key(account.name)


def create_account(*, actor, owner=None, channel_node=None, **data) -> Saved:
    """A new customer profile. Owner defaults to the actor; pass owner=None explicitly via the pool."""
    require(actor, Account, "create")
    with transaction.atomic(), acting_as(actor):
        account = Account()
        _apply(account, data)
        account.place(owner=owner or actor, channel_node=channel_node)
        account.owned_since = timezone.now() if account.owner else None
        validated(account)
        duplicates = check_duplicates(account)
        account.save()
        ensure_placed_within_scope(actor, account)
        publish("account.created", account)
        return Saved(account, duplicates)


def update_account(*, actor, account, **data) -> Saved:
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account), for_update=True)
        check_writable(actor, Account, data)
        _apply(account, data)
        validated(account)
        duplicates = check_duplicates(account)
        account.save()
        publish("account.updated", account, fields=sorted(data))
        return Saved(account, duplicates)


def add_contact(*, actor, account, name: str, **data) -> Contact:
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account))
        contact = Contact(account=account, name=name, **data)
        contact.phone = normalize.phone(contact.phone)
        contact.email = normalize.email(contact.email)
        contact.place(owner=account.owner, channel_node=account.channel_node)
        validated(contact)
        if contact.is_primary:
            account.contacts.filter(is_primary=True).update(is_primary=False)
        contact.save()
        publish("contact.created", contact)
        return contact


def refresh_classification(account, now=None) -> Account:
    """Derive value class and lifecycle stage from won deals, unless a user set them by hand."""
    from crm.sales.models import Opportunity, Stage

    now = now or timezone.now()
    account = Account.objects.get(pk=pk_of(account))
    won = Opportunity.objects.filter(account=account, stage__outcome=Stage.Outcome.WON)
    totals = won.aggregate(deals=Count("id"), last=Max("updated_at"))
    last_year = won.filter(updated_at__gte=now - timedelta(days=365)).aggregate(amount=Sum("amount"))
    amount = last_year["amount"] or Decimal("0")
    if not account.value_class_overridden:
        account.value_class = (
            Account.ValueClass.A
            if amount >= CLASS_A_FROM
            else Account.ValueClass.B
            if amount >= CLASS_B_FROM
            else Account.ValueClass.C
        )
    if not account.lifecycle_overridden:
        deals, last = totals["deals"], totals["last"]
        if deals == 0:
            account.lifecycle = Account.Lifecycle.POTENTIAL
        elif last < now - timedelta(days=CHURNED_AFTER_DAYS):
            account.lifecycle = Account.Lifecycle.CHURNED
        elif deals >= LOYAL_FROM_DEALS:
            account.lifecycle = Account.Lifecycle.LOYAL
        elif deals > 1:
            account.lifecycle = Account.Lifecycle.REPEAT
        else:
            account.lifecycle = Account.Lifecycle.FIRST_PURCHASE
    account.last_deal_at = totals["last"]
    account.save(update_fields=["value_class", "lifecycle", "last_deal_at", "updated_at"])
    return account
