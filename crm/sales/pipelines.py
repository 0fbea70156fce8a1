"""Tenant-configured pipelines and their stages: add, rename, re-weight, reorder and remove stages.

Rules every pipeline keeps: probabilities are 0-100; exactly one won stage (at 100 %) and one lost
stage (at 0 %); codes are unique within the pipeline; a stage that opportunities are in, or have
passed through, cannot be removed (their history points at it).
"""

from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from crm.records.audit import acting_as
from crm.records.inputs import pk_of
from crm.records.services import validated
from crm.sales.models import Opportunity, OpportunityStageChange, Pipeline, Stage
from crm_platform.errors import Conflict, NotFound

CLOSED_PROBABILITY = {Stage.Outcome.WON: 100, Stage.Outcome.LOST: 0}


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def get_pipeline(pipeline) -> Pipeline:
    """The pipeline `pipeline` (instance, pk or None for the default), or NotFound."""
    try:
        return default_pipeline() if pipeline is None else Pipeline.objects.get(pk=pk_of(pipeline))
    except (Pipeline.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("%(object)s not found.") % {"object": Pipeline._meta.verbose_name}) from None


def get_stage(stage, *, for_update: bool = False) -> Stage:
    queryset = Stage.objects.select_for_update() if for_update else Stage.objects.all()
    try:
        return queryset.select_related("pipeline").get(pk=pk_of(stage))
    except (Stage.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("%(object)s not found.") % {"object": Stage._meta.verbose_name}) from None


def _label_errors(labels) -> list[str]:
    if not isinstance(labels, Mapping) or not any(isinstance(v, str) and v.strip() for v in labels.values()):
        return [_('Give the name in at least one language, e.g. {"zh-hans": "方案报价"}.')]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        return [_("Names are text per language code.")]
    return []


def _stage_errors(stage: Stage) -> dict:
    """Field errors of one stage, the pipeline-wide rules left aside."""
    errors = {}
    try:
        # A new pipeline's stages are checked before the pipeline row exists.
        validated(stage, exclude=None if stage.pipeline_id else ["pipeline"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if label_errors := _label_errors(stage.labels):
        errors["labels"] = label_errors
    required = CLOSED_PROBABILITY.get(stage.outcome)
    if required is not None and stage.probability != required and "probability" not in errors:
        errors["probability"] = [
            _("A %(outcome)s stage has a probability of %(p)d %%.")
            % {"outcome": stage.get_outcome_display(), "p": required}
        ]
    return errors


def create_pipeline(*, actor, code: str, labels: dict, stages: Sequence[Mapping]) -> Pipeline:
    """A new pipeline with its stages in order; each stage: code, labels, probability, outcome."""
    with transaction.atomic(), acting_as(actor):
        pipeline = Pipeline(code=code, labels=labels)
        errors = {}
        try:
            validated(pipeline)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if label_errors := _label_errors(labels):
            errors["labels"] = label_errors
        rows = [
            Stage(
                code=row.get("code", ""),
                labels=row.get("labels"),
                probability=row.get("probability"),
                outcome=row.get("outcome", Stage.Outcome.OPEN),
                position=position,
            )
            for position, row in enumerate(stages, start=1)
        ]
        for index, stage in enumerate(rows):
            for field, messages in _stage_errors(stage).items():
                errors[f"stages[{index}].{field}"] = messages
        codes = [stage.code for stage in rows]
        for index, code in enumerate(codes):
            if code in codes[:index]:
                errors.setdefault(f"stages[{index}].code", []).append(_("Each stage needs its own code."))
        outcomes = [stage.outcome for stage in rows]
        if outcomes.count(Stage.Outcome.WON) != 1 or outcomes.count(Stage.Outcome.LOST) != 1:
            errors.setdefault("stages", []).append(_("A pipeline has exactly one won and one lost stage."))
        if Stage.Outcome.OPEN not in outcomes:
            errors.setdefault("stages", []).append(_("A pipeline needs at least one open stage."))
        if errors:
            raise ValidationError(errors)
        pipeline.save()
        for stage in rows:
            stage.pipeline = pipeline
        Stage.objects.bulk_create(rows)
        return pipeline


def add_stage(
    *,
    actor,
    pipeline,
    code: str,
    labels: dict,
    probability: int,
    outcome: str = Stage.Outcome.OPEN,
    position: int | None = None,
) -> Stage:
    """Insert a stage at `position` (1-based; default: after the last open stage)."""
    with transaction.atomic(), acting_as(actor):
        pipeline = Pipeline.objects.select_for_update().get(pk=get_pipeline(pipeline).pk)
        stages = list(pipeline.stages.all())
        if position is None:
            open_positions = [s.position for s in stages if s.outcome == Stage.Outcome.OPEN]
            position = max(open_positions, default=0) + 1
        stage = Stage(
            pipeline=pipeline, code=code, labels=labels, probability=probability, outcome=outcome, position=1
        )
        errors = _stage_errors(stage)
        if outcome != Stage.Outcome.OPEN and any(s.outcome == outcome for s in stages):
            errors.setdefault("outcome", []).append(
                _("This pipeline already has a %(outcome)s stage.") % {"outcome": stage.get_outcome_display()}
            )
        if not isinstance(position, int) or not 1 <= position <= len(stages) + 1:
            errors["position"] = [_("Give a position from 1 to %(n)d.") % {"n": len(stages) + 1}]
        if errors:
            raise ValidationError(errors)
        pipeline.stages.filter(position__gte=position).update(position=F("position") + 1)
        stage.position = position
        stage.save()
        return stage


def rename_stage(*, actor, stage, labels: dict) -> Stage:
    """Change a stage's display names (its code, used by integrations, stays)."""
    with transaction.atomic(), acting_as(actor):
        stage = get_stage(stage, for_update=True)
        if errors := _label_errors(labels):
            raise ValidationError({"labels": errors})
        stage.labels = dict(labels)
        stage.save(update_fields=["labels"])
        return stage


def set_stage_probability(*, actor, stage, probability: int) -> Stage:
    """Re-weight an open stage for the forecast; won and lost stages stay at 100 % and 0 %."""
    with transaction.atomic(), acting_as(actor):
        stage = get_stage(stage, for_update=True)
        stage.probability = probability
        if errors := _stage_errors(stage):
            raise ValidationError(errors)
        stage.save(update_fields=["probability"])
        return stage


def reorder_stages(*, actor, pipeline, codes: Sequence[str]) -> list[Stage]:
    """Put the pipeline's stages in the order of `codes`, which must name each stage once."""
    with transaction.atomic(), acting_as(actor):
        pipeline = Pipeline.objects.select_for_update().get(pk=get_pipeline(pipeline).pk)
        stages = {stage.code: stage for stage in pipeline.stages.all()}
        if sorted(codes) != sorted(stages):
            raise ValidationError(
                {
                    "stages": [
                        _("List every stage of the pipeline once: %(codes)s.") % {"codes": ", ".join(stages)}
                    ]
                }
            )
        for position, code in enumerate(codes, start=1):
            if stages[code].position != position:
                stages[code].position = position
                stages[code].save(update_fields=["position"])
        return [stages[code] for code in codes]


def remove_stage(*, actor, stage) -> None:
    """Delete a stage nobody uses; the stages after it move up."""
    with transaction.atomic(), acting_as(actor):
        stage = get_stage(stage, for_update=True)
        if stage.outcome != Stage.Outcome.OPEN:
            raise Conflict(
                _("The %(outcome)s stage cannot be removed: every pipeline has one.")
                % {"outcome": stage.get_outcome_display()}
            )
        if not stage.pipeline.stages.filter(outcome=Stage.Outcome.OPEN).exclude(pk=stage.pk).exists():
            raise Conflict(_("A pipeline needs at least one open stage."))
        in_stage = Opportunity.objects.filter(stage=stage).count()
        if in_stage:
            raise Conflict(
                _("%(n)d opportunities are in the stage %(stage)s; move them to another stage first.")
                % {"n": in_stage, "stage": stage}
            )
        if OpportunityStageChange.objects.filter(from_stage=stage).exists() or (
            OpportunityStageChange.objects.filter(to_stage=stage).exists()
        ):
            raise Conflict(
                _("Opportunities have passed through the stage %(stage)s; it stays for their history.")
                % {"stage": stage}
            )
        position, pipeline = stage.position, stage.pipeline
        stage.delete()
        pipeline.stages.filter(position__gt=position).update(position=F("position") - 1)
