"""Opportunities (商机): create, change, move through the stages with a history of every move.

Stage configuration is in crm/sales/pipelines.py, the funnel and forecast in crm/sales/reports.py.
"""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.permissions import check_writable
from crm.customers.models import Account, Contact
from crm.customers.services import refresh_classification
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import get_for, validated
from crm.sales.models import Opportunity, OpportunityStageChange, Stage
from crm.sales.pipelines import get_pipeline, get_stage
from crm_platform.errors import Conflict

EDITABLE = ("name", "amount", "currency", "expected_close_date", "probability_override", "contacts", "custom")
SECONDS_PER_DAY = 86400


def _contacts_of(actor, account: Account, contacts: Iterable) -> tuple[list[Contact], list[str]]:
    found = [get_for(actor, Contact, pk_of(contact)) for contact in contacts]
    strangers = [str(contact) for contact in found if contact.account_id != account.pk]
    if strangers:
        return found, [
            _("%(names)s do not belong to the customer %(account)s.")
            % {"names": ", ".join(strangers), "account": account}
        ]
    return found, []


def _errors_of(opportunity: Opportunity, errors: dict) -> dict:
    try:
        validated(opportunity)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    return errors


def create_opportunity(
    *,
    actor,
    account,
    name: str,
    amount=0,
    currency: str = settings.DEFAULT_CURRENCY,
    expected_close_date=None,
    stage=None,
    pipeline=None,
    probability_override: int | None = None,
    contacts: Iterable = (),
    owner=None,
    custom: dict | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """A new deal for `account`, in `stage` or the first stage of `pipeline` (default pipeline).

    `at` back-dates when the deal entered its first stage (imports), never into the future.
    """
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account))
        errors = {}
        if stage is None:
            stage = (
                get_pipeline(pipeline).stages.filter(outcome=Stage.Outcome.OPEN).order_by("position").first()
            )
        else:
            stage = get_stage(stage)
            if stage.outcome != Stage.Outcome.OPEN:
                errors["stage"] = [_("A new opportunity starts in an open stage.")]
        contacts, contact_errors = _contacts_of(actor, account, contacts)
        if contact_errors:
            errors["contacts"] = contact_errors
        now = timezone.now()
        if at is not None and at > now:
            errors["at"] = [_("A stage change cannot be in the future.")]
        at = min(at or now, now)
        opportunity = Opportunity(
            account=account,
            name=name,
            stage=stage,
            amount=amount,
            currency=currency,
            expected_close_date=expected_close_date,
            probability_override=probability_override,
            stage_entered_at=at,
            custom=custom or {},
        )
        opportunity.place(owner=owner or actor or account.owner, channel_node=account.channel_node)
        if errors := _errors_of(opportunity, errors):
            raise ValidationError(errors)
        opportunity.save()
        opportunity.contacts.set(contacts)
        OpportunityStageChange.objects.create(opportunity=opportunity, to_stage=stage, by=actor, at=at)
        publish("opportunity.created", opportunity, stage=stage.code, amount=str(opportunity.amount))
        return opportunity


def update_opportunity(*, actor, opportunity, **changes) -> Opportunity:
    """Change a deal's name, amount, currency, expected close date, probability override or contacts."""
    with transaction.atomic(), acting_as(actor):
        opportunity = get_for(actor, Opportunity, pk_of(opportunity), for_update=True)
        errors = {name: [_("This field cannot be changed.")] for name in sorted(set(changes) - set(EDITABLE))}
        if errors:
            raise ValidationError(errors)
        check_writable(actor, Opportunity, changes)
        contacts = changes.pop("contacts", None)
        if contacts is not None:
            contacts, contact_errors = _contacts_of(actor, opportunity.account, contacts)
            if contact_errors:
                errors["contacts"] = contact_errors
        for name, value in changes.items():
            setattr(opportunity, name, value)
        if errors := _errors_of(opportunity, errors):
            raise ValidationError(errors)
        opportunity.save()
        if contacts is not None:
            opportunity.contacts.set(contacts)
        publish("opportunity.updated", opportunity, fields=sorted(changes))
        return opportunity


def move_to_stage(
    *, actor, opportunity, stage, loss_reason: str = "", at: datetime | None = None
) -> Opportunity:
    """Move a deal to another stage of its pipeline and record the move with the days it spent in the
    stage it leaves. Won and lost set the close date (a loss needs its reason); moving a closed deal
    back to an open stage reopens it. `at` back-dates the move (imports), never into the future or
    before the deal entered its current stage.
    """
    with transaction.atomic(), acting_as(actor):
        opportunity = get_for(actor, Opportunity, pk_of(opportunity), for_update=True)
        previous = opportunity.stage
        target = get_stage(stage)
        now = timezone.now()
        at = at or now
        entered = opportunity.stage_entered_at or opportunity.created_at
        errors = {}
        if target.pipeline_id != previous.pipeline_id:
            errors["stage"] = [
                _("Choose a stage of the pipeline %(pipeline)s.") % {"pipeline": previous.pipeline}
            ]
        elif target.pk == previous.pk:
            raise Conflict(_("The opportunity is already in the stage %(stage)s.") % {"stage": target})
        if target.outcome == Stage.Outcome.LOST and not loss_reason.strip():
            errors["loss_reason"] = [_("Say why the deal was lost.")]
        if at > now:
            errors["at"] = [_("A stage change cannot be in the future.")]
        elif at < entered:
            errors["at"] = [_("The opportunity entered its current stage later than that.")]
        if errors:
            raise ValidationError(errors)
        opportunity.stage = target
        opportunity.stage_entered_at = at
        if target.outcome == Stage.Outcome.OPEN:
            opportunity.close_date, opportunity.loss_reason = None, ""
        else:
            opportunity.close_date = timezone.localdate(at)
            opportunity.loss_reason = loss_reason.strip() if target.outcome == Stage.Outcome.LOST else ""
        if errors := _errors_of(opportunity, {}):  # e.g. a loss reason too long
            raise ValidationError(errors)
        opportunity.save()
        change = OpportunityStageChange.objects.create(
            opportunity=opportunity,
            from_stage=previous,
            to_stage=target,
            by=actor,
            at=at,
            days_in_previous_stage=int((at - entered).total_seconds() // SECONDS_PER_DAY),
        )
        if Stage.Outcome.WON in (target.outcome, previous.outcome):
            # Won deals drive the account's value class, lifecycle stage and last-deal time.
            refresh_classification(opportunity.account)
        publish(
            "opportunity.stage_changed",
            opportunity,
            from_stage=previous.code,
            to_stage=target.code,
            days_in_previous_stage=change.days_in_previous_stage,
        )
        return opportunity
