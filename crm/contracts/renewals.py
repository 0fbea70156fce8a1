"""Contract renewal (续签) and the contracts' periodic jobs: renewal reminders and expiry.

Both jobs work in the current tenant, act as the system and are idempotent; the Celery beat fan-out
across tenants runs them daily.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.contracts.models import Contract
from crm.contracts.services import RENEWAL_REMINDER, _add_lines, _check_header, contract_number
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.models import Reminder
from crm.records.services import dismiss_reminders, get_for, remind
from crm_platform.errors import Conflict

REMIND_AT = time(9)  # reminders fall due at nine in the morning, tenant time


def renew_contract(
    *, actor, contract, start_date: date | None = None, end_date: date | None = None, title: str = ""
) -> Contract:
    """A follow-on draft contract for an active or expired one: same account, terms and lines, linked
    by `renewed_from`; the old contract is marked renewed and its renewal reminders are done.

    By default the new term starts the day after the old one ends and lasts as long.
    """
    with transaction.atomic(), acting_as(actor):
        old = get_for(actor, Contract, pk_of(contract), for_update=True)
        if old.status not in (Contract.Status.ACTIVE, Contract.Status.EXPIRED):
            raise Conflict(_("Only active or expired contracts can be renewed."))
        start = start_date or old.end_date + timedelta(days=1)
        new = Contract(
            title=(title or old.title)[:200],
            account=old.account,
            renewed_from=old,
            currency=old.currency,
            amount=old.amount,
            tax_amount=old.tax_amount,
            start_date=start,
            end_date=end_date or start + (old.end_date - old.start_date),
            key_terms=old.key_terms,
            payment_terms=old.payment_terms,
            renewal_notice_days=old.renewal_notice_days,
        )
        new.place(owner=old.owner or actor, org_unit=old.org_unit, channel_node=old.channel_node)
        errors: dict[str, list[str]] = {}
        _check_header(new, errors)
        if errors:
            raise ValidationError(errors)
        old.status = Contract.Status.RENEWED
        old.save(update_fields=["status", "updated_at"])
        dismiss_reminders([old], RENEWAL_REMINDER)
        new.number = contract_number()
        new.save()
        lines = list(old.lines.all())
        for line in lines:
            line.pk = line.id = None
        _add_lines(new, lines)
        publish("contract.renewed", old, renewal=new.pk)
        publish("contract.created", new, amount=str(new.amount), renews=old.pk)
        return new


def renewal_due_at(contract: Contract) -> datetime:
    """When the owner is reminded: `renewal_notice_days` before the end date, at nine."""
    day = contract.end_date - timedelta(days=contract.renewal_notice_days)
    return timezone.make_aware(datetime.combine(day, REMIND_AT))


def remind_renewals(now: datetime | None = None) -> int:
    """Periodic job: remind the owners of active contracts that end within their notice period.

    Idempotent: the reminder is keyed on the contract and its due time, so a second run (the same day
    or any later one) adds nothing. Returns how many reminders were created.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    candidates = Contract.objects.filter(
        status=Contract.Status.ACTIVE, owner__isnull=False, end_date__gte=today
    ).select_related("owner", "account")
    before = Reminder.objects.filter(kind=RENEWAL_REMINDER).count()
    with acting_as(None, job="remind_renewals"):
        for contract in candidates:
            due_at = renewal_due_at(contract)
            if timezone.localdate(due_at) > today:
                continue
            message = _("Contract %(number)s with %(account)s ends on %(end)s: renew it or let it end.") % {
                "number": contract.number,
                "account": contract.account,
                "end": contract.end_date.isoformat(),
            }
            remind(contract.owner, RENEWAL_REMINDER, contract, message, due_at)
    return Reminder.objects.filter(kind=RENEWAL_REMINDER).count() - before


def expire_contracts(now: datetime | None = None) -> int:
    """Periodic job: active contracts whose end date has passed become expired. Returns how many."""
    today = timezone.localdate(now or timezone.now())
    count = 0
    with acting_as(None, job="expire_contracts"):
        for contract in Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__lt=today):
            with transaction.atomic():
                contract.status = Contract.Status.EXPIRED
                contract.save(update_fields=["status", "updated_at"])
                publish("contract.expired", contract)
            count += 1
    return count
