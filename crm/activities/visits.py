"""Visit plans (拜访计划): plan a visit, complete it (which logs the follow-up), cancel it, and the
job that marks visits nobody completed as missed."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.activities.models import FollowUp, VisitPlan
from crm.activities.services import log_follow_up, pk_of, related_to_account
from crm.customers.models import Account
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.services import get_for, remind, validated
from crm_platform.errors import Conflict

# A visit still planned this long after its planned time did not happen (or was never recorded).
MISSED_AFTER = timedelta(hours=24)


def plan_visit(*, actor, account, planned_at: datetime, purpose: str, contact=None, owner=None) -> VisitPlan:
    """Plan a visit to `account`; the owner is reminded at the planned time."""
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account))
        contact, _opportunity, errors = related_to_account(actor, account, contact=contact)
        plan = VisitPlan(account=account, contact=contact, planned_at=planned_at, purpose=purpose)
        plan.place(owner=owner or actor or account.owner, channel_node=account.channel_node)
        try:
            validated(plan)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if planned_at and planned_at < timezone.now() - MISSED_AFTER:
            errors.setdefault("planned_at", []).append(_("A visit cannot be planned in the past."))
        if errors:
            raise ValidationError(errors)
        plan.save()
        if plan.owner_id:
            remind(
                plan.owner,
                "visit_planned",
                plan,
                _("Visit %(account)s: %(purpose)s") % {"account": account, "purpose": purpose},
                planned_at,
            )
        publish("visit.planned", plan, account=account.pk)
        return plan


def complete_visit(
    *,
    actor,
    plan,
    result: str = "",
    details: str = "",
    outcome: str = FollowUp.Outcome.NEUTRAL,
    occurred_at: datetime | None = None,
    next_follow_up_on=None,
    opportunity=None,
    attachments=(),
) -> VisitPlan:
    """The visit took place: log it as a follow-up (method "visit") and mark the plan done.

    A visit marked missed may still be completed: the rep recorded it late.
    """
    with transaction.atomic(), acting_as(actor):
        plan = get_for(actor, VisitPlan, pk_of(plan), for_update=True)
        if plan.status not in (VisitPlan.Status.PLANNED, VisitPlan.Status.MISSED):
            raise Conflict(_("This visit is already %(status)s.") % {"status": plan.get_status_display()})
        follow_up = log_follow_up(
            actor=actor,
            account=plan.account,
            method=FollowUp.Method.VISIT,
            occurred_at=occurred_at,
            outcome=outcome,
            result=result or plan.purpose,
            details=details,
            contact=plan.contact,
            opportunity=opportunity,
            next_follow_up_on=next_follow_up_on,
            attachments=attachments,
            owner=plan.owner,
        )
        plan.status = VisitPlan.Status.DONE
        plan.follow_up = follow_up
        plan.save(update_fields=["status", "follow_up", "updated_at"])
        publish("visit.completed", plan, follow_up=follow_up.pk)
        return plan


def cancel_visit(*, actor, plan, reason: str) -> VisitPlan:
    """Call a planned visit off, with the reason."""
    with transaction.atomic(), acting_as(actor):
        plan = get_for(actor, VisitPlan, pk_of(plan), for_update=True)
        if not reason.strip():
            raise ValidationError({"cancel_reason": [_("Say why the visit is cancelled.")]})
        if plan.status != VisitPlan.Status.PLANNED:
            raise Conflict(_("Only planned visits can be cancelled."))
        plan.status = VisitPlan.Status.CANCELLED
        plan.cancel_reason = reason.strip()
        validated(plan)
        plan.save(update_fields=["status", "cancel_reason", "updated_at"])
        publish("visit.cancelled", plan, reason=plan.cancel_reason)
        return plan


def mark_missed_visits(now: datetime | None = None) -> int:
    """Periodic job: visits still planned a day after their time are missed. Idempotent (only
    planned visits change). Returns how many were marked."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(None, job="mark_missed_visits"):
        missed = list(
            VisitPlan.objects.select_for_update()
            .filter(status=VisitPlan.Status.PLANNED, planned_at__lt=now - MISSED_AFTER)
            .order_by("id")
        )
        for plan in missed:
            plan.status = VisitPlan.Status.MISSED
            plan.save(update_fields=["status", "updated_at"])
            publish("visit.missed", plan)
        return len(missed)
