"""Service levels: the tenant's hours per priority, the due time they give a case, and the job that
flags open cases past their due time."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.services import remind, validated
from crm.service.models import Case, Priority, ServicePolicy


def service_policy() -> ServicePolicy:
    """The tenant's policy row, created with the defaults on first use."""
    return ServicePolicy.objects.order_by("pk").first() or ServicePolicy.objects.create()


def set_sla_hours(*, actor, **hours_by_priority: int) -> ServicePolicy:
    """Change the hours allowed per priority, e.g. `set_sla_hours(actor=admin, urgent=2, high=6)`.

    Cases already open keep their due time; new ones and reopened ones use the new hours.
    """
    with transaction.atomic(), acting_as(actor):
        unknown = sorted(set(hours_by_priority) - set(Priority.values))
        if unknown:
            raise ValidationError({name: [_("Unknown priority.")] for name in unknown})
        policy = ServicePolicy.objects.select_for_update().get(pk=service_policy().pk)
        for priority, hours in hours_by_priority.items():
            setattr(policy, f"{priority}_hours", hours)
        try:
            validated(policy)
        except ValidationError as exc:
            # Report per priority, the names callers passed.
            raise ValidationError(
                {name.removesuffix("_hours"): messages for name, messages in exc.message_dict.items()}
            ) from None
        policy.save()
        return policy


def sla_due(priority: str, started_at: datetime, policy: ServicePolicy | None = None) -> datetime:
    """When a case of `priority` whose clock started at `started_at` must be resolved (calendar hours)."""
    return started_at + timedelta(hours=(policy or service_policy()).hours_for(priority))


def flag_sla_breaches(now: datetime | None = None) -> int:
    """Periodic job: mark open cases whose due time has passed as breached and remind whoever works
    them (the assignee, else the owner). A case due exactly now is not late yet.

    Idempotent: flagged cases are not picked again, and reminders are keyed on the due time.
    Returns how many cases were flagged.
    """
    now = now or timezone.now()
    with transaction.atomic(), acting_as(None, job="flag_sla_breaches"):
        late = list(
            Case.objects.select_for_update(of=("self",))
            .filter(status__in=Case.OPEN_STATUSES, sla_breached_at__isnull=True, sla_due_at__lt=now)
            .select_related("assignee", "owner")
            .order_by("sla_due_at", "id")
        )
        for case in late:
            case.sla_breached_at = now
            case.save(update_fields=["sla_breached_at", "updated_at"])
            responsible = case.assignee or case.owner
            if responsible is not None:
                remind(
                    responsible,
                    "case_sla_breached",
                    case,
                    _("Case %(number)s (%(subject)s) is past its due time %(due)s.")
                    % {
                        "number": case.number,
                        "subject": case.subject,
                        "due": timezone.localtime(case.sla_due_at).strftime("%Y-%m-%d %H:%M"),
                    },
                    case.sla_due_at,
                )
            publish("case.sla_breached", case, due_at=case.sla_due_at.isoformat())
        return len(late)
