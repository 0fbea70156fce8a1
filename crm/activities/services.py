"""Follow-ups (跟进记录): log one, change it, what is due for a rep, and the reminder job.

Visit plans are in crm/activities/visits.py.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.activities.models import FollowUp
from crm.customers.models import Account, Contact
from crm.customers.services import touch_account_activity
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import MAX_ATTACHMENT_BYTES, attach, dismiss_reminders, get_for, remind, validated
from crm.sales.models import Opportunity

EDITABLE = ("method", "outcome", "result", "details", "next_follow_up_on", "custom")
# Reminders for a planned follow-up fall due at the start of the working day.
REMIND_AT = time(9)
# Clocks of phones and laptops drift; a follow-up "a minute in the future" is still logged.
CLOCK_SKEW = timedelta(minutes=5)


def due_at(day: date) -> datetime:
    """When the reminder for a follow-up planned on `day` falls due."""
    return timezone.make_aware(datetime.combine(day, REMIND_AT))


def related_to_account(actor, account: Account, *, contact=None, opportunity=None) -> tuple:
    """Look up the optional contact and opportunity; each must belong to `account` (field errors)."""
    errors = {}
    if contact is not None:
        contact = get_for(actor, Contact, pk_of(contact))
        if contact.account_id != account.pk:
            errors["contact"] = [
                _("This contact does not belong to the customer %(name)s.") % {"name": account}
            ]
    if opportunity is not None:
        opportunity = get_for(actor, Opportunity, pk_of(opportunity))
        if opportunity.account_id != account.pk:
            errors["opportunity"] = [
                _("This opportunity does not belong to the customer %(name)s.") % {"name": account}
            ]
    return contact, opportunity, errors


def _check(follow_up: FollowUp, errors: dict, attachments) -> None:
    """Every field error at once; raises before anything is written."""
    try:
        validated(follow_up)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if follow_up.occurred_at and follow_up.occurred_at > timezone.now() + CLOCK_SKEW:
        errors.setdefault("occurred_at", []).append(_("A follow-up cannot be logged in the future."))
    if (
        follow_up.next_follow_up_on
        and follow_up.occurred_at
        and follow_up.next_follow_up_on < timezone.localdate(follow_up.occurred_at)
    ):
        errors.setdefault("next_follow_up_on", []).append(_("The next follow-up cannot be before this one."))
    too_big = [f.name for f in attachments if f.size > MAX_ATTACHMENT_BYTES]
    if too_big:
        errors["attachments"] = [
            _("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": MAX_ATTACHMENT_BYTES // 2**20}
            for name in too_big
        ]
    if errors:
        raise ValidationError(errors)


def _remind_next(follow_up: FollowUp) -> None:
    if follow_up.next_follow_up_on and follow_up.owner_id and not follow_up.settled_by_id:
        remind(
            follow_up.owner,
            "follow_up_due",
            follow_up,
            _("Follow up with %(account)s today.") % {"account": follow_up.account},
            due_at(follow_up.next_follow_up_on),
        )


def _settle_earlier(follow_up: FollowUp) -> None:
    """Earlier planned follow-ups of the account are done now that someone followed up."""
    earlier = list(
        FollowUp.objects.select_for_update()
        .filter(
            account=follow_up.account,
            next_follow_up_on__isnull=False,
            settled_by__isnull=True,
            occurred_at__lte=follow_up.occurred_at,
        )
        .exclude(pk=follow_up.pk)
    )
    for pending in earlier:
        pending.settled_by = follow_up
        pending.save(update_fields=["settled_by", "updated_at"])
    dismiss_reminders(earlier)


def log_follow_up(
    *,
    actor,
    account,
    method: str,
    occurred_at: datetime | None = None,
    outcome: str = FollowUp.Outcome.NEUTRAL,
    result: str = "",
    details: str = "",
    contact=None,
    opportunity=None,
    next_follow_up_on: date | None = None,
    attachments=(),
    owner=None,
    custom: dict | None = None,
) -> FollowUp:
    """Record a contact with a customer.

    The account is no longer idle (its last-activity time moves on, which the customer pool's
    automatic returns read), earlier planned follow-ups of the account count as done, and a
    next follow-up date reminds the owner on that day.
    """
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account))
        contact, opportunity, errors = related_to_account(
            actor, account, contact=contact, opportunity=opportunity
        )
        follow_up = FollowUp(
            account=account,
            contact=contact,
            opportunity=opportunity,
            method=method,
            occurred_at=occurred_at or timezone.now(),
            outcome=outcome,
            result=result,
            details=details,
            next_follow_up_on=next_follow_up_on,
            custom=custom or {},
        )
        follow_up.place(owner=owner or actor or account.owner, channel_node=account.channel_node)
        attachments = list(attachments)
        _check(follow_up, errors, attachments)
        follow_up.save()
        for uploaded in attachments:
            attach(follow_up, uploaded, by=actor)
        touch_account_activity(account, at=follow_up.occurred_at)
        _settle_earlier(follow_up)
        _remind_next(follow_up)
        publish("follow_up.logged", follow_up, account=account.pk, method=method)
        return follow_up


def update_follow_up(*, actor, follow_up, **changes) -> FollowUp:
    """Correct a follow-up's method, outcome, notes or next date. A new next date moves its reminder."""
    with transaction.atomic(), acting_as(actor):
        follow_up = get_for(actor, FollowUp, pk_of(follow_up), for_update=True)
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
        previous_next = follow_up.next_follow_up_on
        for name, value in changes.items():
            setattr(follow_up, name, value)
        _check(follow_up, {}, [])
        follow_up.save()
        if follow_up.next_follow_up_on != previous_next:
            dismiss_reminders([follow_up])
            _remind_next(follow_up)
        publish("follow_up.updated", follow_up, fields=sorted(changes))
        return follow_up


def due_follow_ups(user, today: date | None = None):
    """The follow-ups `user` owns whose planned next contact is due by `today` (overdue ones first)."""
    today = today or timezone.localdate()
    return (
        FollowUp.objects.visible_to(user)
        .filter(owner=user, next_follow_up_on__lte=today, settled_by__isnull=True)
        .select_related("account", "contact")
        .order_by("next_follow_up_on", "id")
    )


def remind_due_follow_ups(now: datetime | None = None) -> int:
    """Periodic job: make sure every owner has a reminder for each planned follow-up due today or
    overdue, and an extra "overdue" one the day after it was due. For records whose owner changed
    since they were logged (handovers, imports) this is the first reminder.

    Idempotent: reminders are keyed on (owner, kind, follow-up, due time). Returns the number of
    due follow-ups seen.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    pending = FollowUp.objects.filter(
        next_follow_up_on__lte=today, settled_by__isnull=True, owner__isnull=False
    ).select_related("owner", "account")
    count = 0
    for follow_up in pending:
        _remind_next(follow_up)
        if follow_up.next_follow_up_on < today:
            remind(
                follow_up.owner,
                "follow_up_overdue",
                follow_up,
                _("The follow-up with %(account)s planned for %(day)s is overdue.")
                % {"account": follow_up.account, "day": follow_up.next_follow_up_on.isoformat()},
                due_at(follow_up.next_follow_up_on + timedelta(days=1)),
            )
        count += 1
    return count
