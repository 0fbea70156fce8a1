"""Opportunities: field errors, contacts of the account only, stage moves with history and days in
stage on a controlled clock, won/lost close dates and loss reasons, audit and tenant isolation."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.customers.models import Account, Contact
from crm.records import audit
from crm.sales import pipelines
from crm.sales.models import Opportunity, OpportunityStageChange, Stage
from crm.sales.services import create_opportunity, move_to_stage, update_opportunity
from crm_platform.errors import Conflict, NotFound
from tests.conftest import admin_of
from tests.crm import test_orders_support as build


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def customer(owner=None, name="广州白云国际会议中心") -> Account:
    account = Account(name=name)
    account.place(owner=owner)
    account.save()
    return account


def test_contacts_must_belong_to_the_account_and_fields_are_checked_together(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        venue, hotel = customer(rep), customer(rep, "南山蛇口海景酒店")
        own, stranger = (
            Contact.objects.create(account=venue, name="黄磊"),
            Contact.objects.create(account=hotel, name="Anna Liu"),
        )
        with pytest.raises(ValidationError) as error:
            create_opportunity(
                actor=rep,
                account=venue,
                name="",
                amount=Decimal("1000"),
                probability_override=101,
                contacts=[own, stranger],
                stage=stage("won"),
            )
        assert set(error.value.message_dict) == {"name", "probability_override", "contacts", "stage"}
        assert "Anna Liu" in error.value.message_dict["contacts"][0]
        assert Opportunity.objects.count() == 0 and OpportunityStageChange.objects.count() == 0
        deal = create_opportunity(
            actor=rep, account=venue, name="会议中心空调改造", amount=Decimal("860000"), contacts=[own]
        )
        assert (deal.stage.code, deal.owner, list(deal.contacts.all())) == ("qualify", rep, [own])
        with pytest.raises(ValidationError) as error:
            update_opportunity(actor=rep, opportunity=deal, contacts=[stranger], stage=stage("won"))
        assert set(error.value.message_dict) == {"stage"}
        with pytest.raises(ValidationError) as error:
            update_opportunity(actor=rep, opportunity=deal, contacts=[stranger], currency="")
        assert set(error.value.message_dict) == {"contacts", "currency"}
        assert list(Opportunity.objects.get(pk=deal.pk).contacts.all()) == [own]


def test_moves_are_recorded_with_who_when_and_days_in_the_previous_stage(alpha):
    with tenant_context(alpha):
        rep, manager = build.user("sales_rep"), build.user("sales_manager")
        with build.on(date(2026, 1, 5), hour=9):
            deal = create_opportunity(actor=rep, account=customer(rep), name="厨电套装", amount=120000)
        with build.on(date(2026, 1, 15), hour=8):
            move_to_stage(actor=rep, opportunity=deal, stage=stage("proposal"))  # 9 days 23 hours: 9 days
        with build.on(date(2026, 1, 15), hour=17):
            move_to_stage(actor=manager, opportunity=deal, stage=stage("negotiation"))
        with build.on(date(2026, 2, 14), hour=17):
            won = move_to_stage(actor=manager, opportunity=deal, stage=stage("won"))
        history = list(
            deal.stage_changes.values_list(
                "from_stage__code", "to_stage__code", "by", "days_in_previous_stage"
            )
        )
        assert history == [
            (None, "qualify", rep.pk, None),
            ("qualify", "proposal", rep.pk, 9),
            ("proposal", "negotiation", manager.pk, 0),
            ("negotiation", "won", manager.pk, 30),
        ]
        assert deal.stage_changes.last().at == datetime(2026, 2, 14, 17, tzinfo=build.SHANGHAI)
        assert (won.close_date, won.loss_reason, won.probability) == (date(2026, 2, 14), "", 100)
        # A won deal makes the account a first-time buyer with a last-deal time.
        account = Account.objects.get(pk=deal.account_id)
        assert account.lifecycle == "first_purchase" and account.last_deal_at is not None


def test_a_loss_needs_its_reason_and_reopening_clears_the_close(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        with build.on(date(2026, 3, 2)):
            deal = create_opportunity(
                actor=rep, account=customer(rep), name="热水器批量采购", probability_override=35
            )
            assert deal.probability == 35
            with pytest.raises(ValidationError) as error:
                move_to_stage(actor=rep, opportunity=deal, stage=stage("lost"), loss_reason=" ")
            assert set(error.value.message_dict) == {"loss_reason"}
            with pytest.raises(ValidationError) as error:
                move_to_stage(actor=rep, opportunity=deal, stage=stage("lost"), loss_reason="价" * 301)
            assert set(error.value.message_dict) == {"loss_reason"}
            assert Opportunity.objects.get(pk=deal.pk).stage.code == "qualify"
            lost = move_to_stage(actor=rep, opportunity=deal, stage=stage("lost"), loss_reason="价格高于竞品")
            assert (lost.close_date, lost.loss_reason, lost.probability) == (
                date(2026, 3, 2),
                "价格高于竞品",
                0,
            )
        with build.on(date(2026, 3, 20)):
            reopened = move_to_stage(actor=rep, opportunity=deal, stage=stage("negotiation"))
        assert (reopened.close_date, reopened.loss_reason, reopened.probability) == (None, "", 35)
        assert deal.stage_changes.count() == 3


def test_refused_moves(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        other = pipelines.create_pipeline(
            actor=admin,
            code="projects",
            labels={"en": "Projects"},
            stages=[
                {"code": "bid", "labels": {"en": "Bid"}, "probability": 30},
                {"code": "won", "labels": {"en": "Won"}, "probability": 100, "outcome": "won"},
                {"code": "lost", "labels": {"en": "Lost"}, "probability": 0, "outcome": "lost"},
            ],
        )
        with build.on(date(2026, 3, 10)):
            deal = create_opportunity(actor=admin, account=customer(), name="净水器工程")
            with pytest.raises(ValidationError) as error:
                move_to_stage(actor=admin, opportunity=deal, stage=other.stages.get(code="bid"))
            assert set(error.value.message_dict) == {"stage"}
            with pytest.raises(Conflict):
                move_to_stage(actor=admin, opportunity=deal, stage=stage("qualify"))
            now = datetime(2026, 3, 10, 10, tzinfo=build.SHANGHAI)
            for at in (now + timedelta(hours=1), now - timedelta(days=1)):
                with pytest.raises(ValidationError) as error:
                    move_to_stage(actor=admin, opportunity=deal, stage=stage("needs"), at=at)
                assert set(error.value.message_dict) == {"at"}
            assert deal.stage_changes.count() == 1
            with pytest.raises(ValidationError) as error:
                create_opportunity(actor=admin, account=customer(), name="future", at=now + timedelta(days=1))
            assert set(error.value.message_dict) == {"at"}
        with build.on(date(2026, 3, 20)):
            backdated = move_to_stage(
                actor=admin, opportunity=deal, stage=stage("won"), at=now + timedelta(days=4)
            )
        assert backdated.close_date == date(2026, 3, 14)
        assert deal.stage_changes.last().days_in_previous_stage == 4


def test_the_audit_trail_records_stage_and_amount_changes(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        deal = create_opportunity(actor=rep, account=customer(rep), name="新风系统", amount=Decimal("300000"))
        update_opportunity(
            actor=rep, opportunity=deal, amount=Decimal("280000"), expected_close_date=date(2026, 6, 30)
        )
        move_to_stage(actor=rep, opportunity=deal, stage=stage("needs"))
        trail = audit.history(deal)
    assert [change.action for change in trail] == ["created", "updated", "updated"]
    assert trail[1].changes["amount"] == [300000.0, 280000.0] and trail[1].user_id == rep.pk
    assert trail[2].changes["stage_id"][1] == stage_pk(alpha, "needs")


def stage_pk(tenant, code):
    with tenant_context(tenant):
        return stage(code).pk


def test_tenant_beta_cannot_reach_alphas_opportunities(alpha, beta):
    with tenant_context(alpha):
        deal = create_opportunity(actor=admin_of(alpha), account=customer(), name="洗衣机框架协议")
    with tenant_context(beta):
        assert Opportunity.objects.count() == 0
        with pytest.raises(NotFound):
            move_to_stage(actor=admin_of(beta), opportunity=deal.pk, stage=stage("needs"))
