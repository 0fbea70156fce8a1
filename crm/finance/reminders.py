"""Periodic job: remind the owners of payment plans about overdue instalments (催款)."""

from datetime import date, datetime, time

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.finance.receivables import open_instalments
from crm.records.services import remind


def remind_overdue_instalments(today: date | None = None) -> int:
    """One reminder per overdue instalment for its plan's owner, in the current tenant.

    Idempotent: the reminder is keyed on the instalment's due day, so running again (the same day or
    the next) adds nothing. Returns how many overdue instalments were seen.
    """
    today = today or timezone.localdate()
    overdue = (
        open_instalments()
        .filter(due_date__lt=today, plan__owner__isnull=False)
        .select_related("plan__owner", "plan__order", "plan__account")
    )
    count = 0
    for instalment in overdue:
        plan = instalment.plan
        due_at = timezone.make_aware(datetime.combine(instalment.due_date, time(9)))
        message = _(
            "%(account)s: instalment %(n)d of %(what)s (%(open)s %(currency)s) was due on %(due)s."
        ) % {
            "account": plan.account,
            "n": instalment.sequence,
            "what": plan.order or plan,
            "open": instalment.outstanding,
            "currency": plan.currency,
            "due": instalment.due_date.isoformat(),
        }
        remind(plan.owner, "instalment_overdue", instalment, message, due_at)
        count += 1
    return count
