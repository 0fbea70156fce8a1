"""Service cases and complaints: open, assign, reprioritise, wait on the customer, resolve, close
with a satisfaction score, reopen. Service levels and the breach job are in crm/service/sla.py.

    new -> in progress <-> waiting on customer -> resolved -> closed
                 ^------------- reopen -------------'----------'
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.customers.models import Account, Contact
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.models import NumberSequence
from crm.records.services import configure_numbering, get_for, next_number, remind, validated
from crm.service.models import Case, Priority
from crm.service.sla import sla_due
from crm_platform.errors import Conflict

# The pattern carries the day, so the sequence restarts daily; numbers follow the day of entry, not a
# back-dated opening time, so they never repeat.
CASE_NUMBERING = ("case", "CS{yyyy}{mm}{dd}-{seq:04d}")


def _number() -> str:
    key, pattern = CASE_NUMBERING
    if not NumberSequence.objects.filter(key=key).exists():
        configure_numbering(key, pattern, reset=NumberSequence.Reset.DAILY)
    return next_number(key, pattern)


def _when(at: datetime | None, not_before: datetime | None = None, field: str = "at") -> datetime:
    """`at` (default now), neither in the future nor before `not_before`."""
    now = timezone.now()
    at = at or now
    if at > now:
        raise ValidationError({field: [_("This cannot be in the future.")]})
    if not_before and at < not_before:
        raise ValidationError({field: [_("This cannot be before %(time)s.") % {"time": not_before}]})
    return at


def _active_user(pk):
    user = get_user_model().objects.filter(pk=pk_of(pk), is_active=True).first()
    if user is None:
        raise ValidationError({"assignee": [_("Choose an active user.")]})
    return user


def _open(actor, case) -> Case:
    case = get_for(actor, Case, pk_of(case), for_update=True)
    if not case.is_open:
        raise Conflict(
            _("Case %(number)s is %(status)s.") % {"number": case.number, "status": case.get_status_display()}
        )
    return case


def _remind_assignee(case: Case) -> None:
    remind(
        case.assignee,
        "case_assigned",
        case,
        _("Case %(number)s for %(account)s: %(subject)s")
        % {
            "number": case.number,
            "account": case.account,
            "subject": case.subject,
        },
        case.sla_due_at,
    )


def open_case(
    *,
    actor,
    account,
    subject: str,
    kind: str,
    priority: str = Priority.NORMAL,
    description: str = "",
    contact=None,
    assignee=None,
    owner=None,
    opened_at: datetime | None = None,
) -> Case:
    """Log a case for `account`, numbered, due by its priority's hours. With an assignee it starts in
    progress. `opened_at` back-dates a case reported earlier (imports, a call logged late)."""
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account))
        errors = {}
        if contact is not None:
            contact = get_for(actor, Contact, pk_of(contact))
            if contact.account_id != account.pk:
                errors["contact"] = [
                    _("This contact does not belong to the customer %(name)s.") % {"name": account}
                ]
        try:
            opened_at = _when(opened_at, field="opened_at")
        except ValidationError as exc:
            errors.update(exc.message_dict)
            opened_at = timezone.now()
        try:
            assignee = _active_user(assignee) if assignee is not None else None
        except ValidationError as exc:
            errors.update(exc.message_dict)
            assignee = None
        case = Case(
            account=account,
            contact=contact,
            subject=subject,
            kind=kind,
            priority=priority,
            description=description,
            assignee=assignee,
            status=Case.Status.IN_PROGRESS if assignee else Case.Status.NEW,
            opened_at=opened_at,
            sla_started_at=opened_at,
            number="-",  # a placeholder until the case is known to be valid
        )
        if priority in Priority.values:
            case.sla_due_at = sla_due(priority, opened_at)
        case.place(owner=owner or actor or account.owner, channel_node=account.channel_node)
        try:
            # No due time without a valid priority: that error is the priority's.
            validated(case, exclude=["number"] if case.sla_due_at else ["number", "sla_due_at"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        # Numbered only once valid: a refused case does not burn a number.
        case.number = _number()
        case.save()
        if assignee:
            _remind_assignee(case)
        publish("case.opened", case, kind=kind, priority=priority)
        return case


def assign(*, actor, case, assignee) -> Case:
    """Give an open case to `assignee` (reminded by its due time); a new case is then in progress."""
    with transaction.atomic(), acting_as(actor):
        case = _open(actor, case)
        case.assignee = _active_user(assignee)
        if case.status == Case.Status.NEW:
            case.status = Case.Status.IN_PROGRESS
        case.save(update_fields=["assignee", "status", "updated_at"])
        _remind_assignee(case)
        publish("case.assigned", case, assignee=case.assignee_id)
        return case


def change_priority(*, actor, case, priority: str) -> Case:
    """Re-prioritise an open case: its due time is recomputed from when its SLA clock started. A case
    flagged late that is no longer late under the new priority loses the flag."""
    with transaction.atomic(), acting_as(actor):
        case = _open(actor, case)
        if priority not in Priority.values:
            raise ValidationError({"priority": [_("Choose low, normal, high or urgent.")]})
        case.priority = priority
        case.sla_due_at = sla_due(priority, case.sla_started_at)
        if case.sla_breached_at and case.sla_due_at >= timezone.now():
            case.sla_breached_at = None
        case.save(update_fields=["priority", "sla_due_at", "sla_breached_at", "updated_at"])
        publish("case.reprioritised", case, priority=priority)
        return case


def wait_for_customer(*, actor, case) -> Case:
    """The next move is the customer's (a photo of the serial plate, a visit date...)."""
    with transaction.atomic(), acting_as(actor):
        case = _open(actor, case)
        if case.status == Case.Status.WAITING:
            raise Conflict(_("The case is already waiting on the customer."))
        case.status = Case.Status.WAITING
        case.save(update_fields=["status", "updated_at"])
        publish("case.waiting", case)
        return case


def resume(*, actor, case) -> Case:
    """The customer answered: back to work."""
    with transaction.atomic(), acting_as(actor):
        case = _open(actor, case)
        if case.status != Case.Status.WAITING:
            raise Conflict(_("Only a case waiting on the customer can be resumed."))
        case.status = Case.Status.IN_PROGRESS
        case.save(update_fields=["status", "updated_at"])
        publish("case.resumed", case)
        return case


def resolve(*, actor, case, resolution: str, at: datetime | None = None) -> Case:
    """Record how the case was resolved; the customer may still reopen it until it is closed."""
    with transaction.atomic(), acting_as(actor):
        case = _open(actor, case)
        if not resolution.strip():
            raise ValidationError({"resolution": [_("Describe the resolution.")]})
        case.resolved_at = _when(at, case.sla_started_at)
        case.resolution = resolution.strip()
        case.status = Case.Status.RESOLVED
        case.save(update_fields=["resolution", "resolved_at", "status", "updated_at"])
        publish("case.resolved", case, late=case.resolved_at > case.sla_due_at)
        return case


def close(*, actor, case, satisfaction: int | None = None, at: datetime | None = None) -> Case:
    """Close a resolved case, with the customer's satisfaction score (1-5) if they gave one."""
    with transaction.atomic(), acting_as(actor):
        case = get_for(actor, Case, pk_of(case), for_update=True)
        if satisfaction is not None and (
            isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5
        ):
            raise ValidationError({"satisfaction": [_("Give a score from 1 to 5, or none.")]})
        if case.status != Case.Status.RESOLVED:
            raise Conflict(_("Only a resolved case can be closed; resolve it first."))
        case.closed_at = _when(at, case.resolved_at)
        case.satisfaction = satisfaction
        case.status = Case.Status.CLOSED
        case.save(update_fields=["satisfaction", "closed_at", "status", "updated_at"])
        publish("case.closed", case, satisfaction=satisfaction)
        return case


def reopen(*, actor, case, reason: str) -> Case:
    """The problem is back: reopen a resolved or closed case. Its SLA clock starts again."""
    with transaction.atomic(), acting_as(actor, reason=reason):
        case = get_for(actor, Case, pk_of(case), for_update=True)
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why the case is reopened.")]})
        if case.is_open:
            raise Conflict(_("Case %(number)s is still open.") % {"number": case.number})
        now = timezone.now()
        case.status = Case.Status.IN_PROGRESS if case.assignee_id else Case.Status.NEW
        case.reopened_count += 1
        case.sla_started_at = now
        case.sla_due_at = sla_due(case.priority, now)
        case.sla_breached_at = case.resolved_at = case.closed_at = case.satisfaction = None
        case.resolution = ""  # the earlier one stays in the audit trail
        case.save()
        if case.assignee_id:
            _remind_assignee(case)
        publish("case.reopened", case, reason=reason, times=case.reopened_count)
        return case
