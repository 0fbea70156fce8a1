"""Pipeline configuration: stages added, renamed, re-weighted, reordered and removed under the rules
(probabilities 0-100, one won and one lost stage, a used stage stays), audit and tenant isolation."""

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.customers.models import Account
from crm.records import audit
from crm.sales import pipelines
from crm.sales.models import Pipeline, Stage
from crm.sales.services import create_opportunity, move_to_stage
from crm_platform.errors import Conflict
from tests.conftest import admin_of


def codes(pipeline) -> list[str]:
    return list(Stage.objects.filter(pipeline=pipeline).order_by("position").values_list("code", flat=True))


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


DEFAULT = ["qualify", "needs", "proposal", "negotiation", "won", "lost"]


def test_a_new_stage_goes_after_the_last_open_stage_or_where_asked(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        pipeline = pipelines.default_pipeline()
        pipelines.add_stage(
            actor=admin, pipeline=pipeline, code="contract", labels={"zh-hans": "合同签订"}, probability=90
        )
        assert codes(pipeline) == ["qualify", "needs", "proposal", "negotiation", "contract", "won", "lost"]
        pipelines.add_stage(
            actor=admin, pipeline=pipeline, code="demo", labels={"en": "Demo"}, probability=40, position=3
        )
        assert codes(pipeline)[:4] == ["qualify", "needs", "demo", "proposal"]
        assert list(pipeline.stages.order_by("position").values_list("position", flat=True)) == list(
            range(1, 9)
        )


def test_stage_rules_are_field_errors_and_a_refused_stage_writes_nothing(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        pipeline = pipelines.default_pipeline()
        cases = [
            ({"code": "x", "labels": {"en": "X"}, "probability": 120}, {"probability"}),
            ({"code": "x", "labels": {"en": "X"}, "probability": -1}, {"probability"}),
            ({"code": "needs", "labels": {"en": "X"}, "probability": 20}, {"__all__"}),
            ({"code": "x", "labels": {}, "probability": 20}, {"labels"}),
            ({"code": "x", "labels": {"en": "Won again"}, "probability": 100, "outcome": "won"}, {"outcome"}),
            ({"code": "x", "labels": {"en": "X"}, "probability": 20, "position": 9}, {"position"}),
            (
                {"code": "x y", "labels": {"en": "X"}, "probability": 20, "outcome": "maybe"},
                {"code", "outcome"},
            ),
        ]
        for arguments, fields in cases:
            with pytest.raises(ValidationError) as error:
                pipelines.add_stage(actor=admin, pipeline=pipeline, **arguments)
            assert set(error.value.message_dict) == fields, arguments
        assert codes(pipeline) == DEFAULT


def test_a_new_pipeline_needs_one_won_one_lost_and_an_open_stage(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        with pytest.raises(ValidationError) as error:
            pipelines.create_pipeline(
                actor=admin,
                code="projects",
                labels={"zh-hans": "工程项目"},
                stages=[
                    {"code": "bid", "labels": {"en": "Bid"}, "probability": 30},
                    {"code": "bid", "labels": {"en": "Won"}, "probability": 90, "outcome": "won"},
                    {"code": "award", "labels": {"en": "Award"}, "probability": 100, "outcome": "won"},
                ],
            )
        assert set(error.value.message_dict) == {"stages", "stages[1].code", "stages[1].probability"}
        assert not Pipeline.objects.filter(code="projects").exists()
        projects = pipelines.create_pipeline(
            actor=admin,
            code="projects",
            labels={"zh-hans": "工程项目"},
            stages=[
                {"code": "bid", "labels": {"en": "Bid"}, "probability": 30},
                {"code": "won", "labels": {"en": "Awarded"}, "probability": 100, "outcome": "won"},
                {"code": "lost", "labels": {"en": "Not awarded"}, "probability": 0, "outcome": "lost"},
            ],
        )
        assert codes(projects) == ["bid", "won", "lost"] and not projects.is_default


def test_rename_reweight_and_reorder_with_the_audit_trail(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        pipeline = pipelines.default_pipeline()
        contract = pipelines.add_stage(
            actor=admin, pipeline=pipeline, code="contract", labels={"en": "Contract"}, probability=85
        )
        pipelines.rename_stage(actor=admin, stage=contract, labels={"zh-hans": "合同签订", "en": "Contract"})
        with pytest.raises(ValidationError) as error:
            pipelines.rename_stage(actor=admin, stage=contract, labels={"en": "  "})
        assert set(error.value.message_dict) == {"labels"}
        pipelines.set_stage_probability(actor=admin, stage=contract, probability=90)
        for outcome_stage, probability in (("won", 90), ("lost", 5)):
            with pytest.raises(ValidationError) as error:
                pipelines.set_stage_probability(
                    actor=admin, stage=stage(outcome_stage), probability=probability
                )
            assert set(error.value.message_dict) == {"probability"}
        with pytest.raises(ValidationError) as error:
            pipelines.reorder_stages(actor=admin, pipeline=pipeline, codes=["needs", "qualify", "proposal"])
        assert set(error.value.message_dict) == {"stages"}
        order = ["needs", "qualify", "proposal", "contract", "negotiation", "won", "lost"]
        pipelines.reorder_stages(actor=admin, pipeline=pipeline, codes=order)
        assert codes(pipeline) == order
        trail = audit.history(contract)
    assert [change.action for change in trail] == ["created", "updated", "updated", "updated"]
    assert {change.user_id for change in trail} == {admin.pk}
    assert trail[1].changes["labels"][1] == {"zh-hans": "合同签订", "en": "Contract"}
    assert trail[2].changes["probability"] == [85, 90]
    assert trail[3].changes["position"] == [5, 4]


def test_a_stage_in_use_cannot_be_removed_and_an_unused_one_can(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        pipeline = pipelines.default_pipeline()
        account = Account.objects.create(name="成都锦江宾馆")
        deal = create_opportunity(actor=admin, account=account, name="热水器", stage=stage("needs"))
        with pytest.raises(Conflict, match="有 1 个商机处于"):
            pipelines.remove_stage(actor=admin, stage=stage("needs"))
        move_to_stage(actor=admin, opportunity=deal, stage=stage("proposal"))
        with pytest.raises(Conflict, match="已有商机经过"):
            pipelines.remove_stage(actor=admin, stage=stage("needs"))
        for closed in ("won", "lost"):
            with pytest.raises(Conflict):
                pipelines.remove_stage(actor=admin, stage=stage(closed))
        assert codes(pipeline) == DEFAULT
        pipelines.remove_stage(actor=admin, stage=stage("qualify"))
        assert codes(pipeline) == DEFAULT[1:]
        assert list(pipeline.stages.order_by("position").values_list("position", flat=True)) == [
            1,
            2,
            3,
            4,
            5,
        ]


def test_the_last_open_stage_stays(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        for code in ("qualify", "needs", "proposal"):
            pipelines.remove_stage(actor=admin, stage=stage(code))
        with pytest.raises(Conflict):
            pipelines.remove_stage(actor=admin, stage=stage("negotiation"))


def test_stage_changes_in_alpha_leave_beta_alone(alpha, beta):
    with tenant_context(alpha):
        pipelines.add_stage(
            actor=admin_of(alpha), pipeline=None, code="contract", labels={"en": "Contract"}, probability=90
        )
        pipelines.remove_stage(actor=admin_of(alpha), stage=stage("qualify"))
    with tenant_context(beta):
        assert codes(pipelines.default_pipeline()) == DEFAULT
