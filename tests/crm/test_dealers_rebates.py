"""Rebates (返利): tiers, a node's policy over its level's, idempotent accruals with exact Decimals."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.dealers.models import RebateAccrual, RebatePolicy
from crm.dealers.rebates import (
    accrue_rebates,
    confirm_rebate,
    parse_period,
    pay_out_rebate,
    rate_for,
    set_rebate_policy,
)
from crm.finance.payments import reverse_payment
from crm_platform.errors import Conflict, PermissionDenied
from tests.conftest import admin_of
from tests.crm import test_dealers_support as build
from tests.crm import test_orders_support as clock

TIERS = [{"up_to": "1000000", "rate": "2"}, {"up_to": None, "rate": "3"}]


def test_periods_and_tiers():
    def shape(period):
        return (period.key, period.kind, period.start, period.end)

    assert shape(parse_period("2026-02")) == ("2026-02", "month", date(2026, 2, 1), date(2026, 2, 28))
    assert shape(parse_period("2024-Q1")) == ("2024-Q1", "quarter", date(2024, 1, 1), date(2024, 3, 31))
    assert shape(parse_period(" 2026")) == ("2026", "year", date(2026, 1, 1), date(2026, 12, 31))
    for bad in ("2026-13", "26-01", "2026-Q5", "", None):
        with pytest.raises(ValidationError) as error:
            parse_period(bad)
        assert set(error.value.message_dict) == {"period"}
    assert rate_for(TIERS, Decimal("1000000.00")) == Decimal("2")  # "up to" includes the bound
    assert rate_for(TIERS, Decimal("1000000.01")) == Decimal("3")


@pytest.fixture
def paid_march(alpha):
    """Payments in March 2026 on a retailer under the level policy, one with its own policy, the
    agent, and a distributor without any policy; plus April money and a reversed payment."""
    with tenant_context(alpha), clock.on(date(2026, 4, 20)):
        admin = admin_of(alpha)
        t = build.tree()
        t["special"] = build.node("retailer", t["distributor"])
        set_rebate_policy(
            actor=admin, name="零售月度返利", channel_level="retailer", period="month", tiers=TIERS
        )
        set_rebate_policy(
            actor=admin, name="代理月度返利", channel_level="agent", period="month", tiers=[{"rate": "1"}]
        )
        set_rebate_policy(
            actor=admin, name="旗舰店专项", channel_node=t["special"], period="month", tiers=[{"rate": "5"}]
        )
        set_rebate_policy(
            actor=admin,
            name="零售季度返利",
            channel_level="retailer",
            period="quarter",
            tiers=[{"rate": "9"}],
        )
        march = date(2026, 3, 10)
        build.sale(admin, t["retailer"], "1000000.00", march, "1000000.00")
        build.sale(admin, t["retailer"], "234567.89", march, "234567.89", date(2026, 3, 31))
        build.sale(admin, t["retailer"], "5000.00", march, "5000.00", date(2026, 4, 1))  # April
        _order, bounced = build.sale(admin, t["retailer"], "7000.00", march, "7000.00")
        reverse_payment(actor=admin, payment=bounced, reason="退票")
        build.sale(admin, t["special"], "1000.10", march, "1000.10")
        build.sale(admin, t["agent"], "999999.99", march, "999999.99")
        build.sale(admin, t["distributor"], "50000.00", march, "50000.00")
        build.sale(admin, t["sibling"], "80000.00", march)  # ordered, not paid
    return t


def by_node(accruals):
    return {row.node_id: (row.base, row.rate, row.amount, row.policy.name) for row in accruals}


def test_accruals_follow_tiers_and_the_node_wins_over_its_level(alpha, paid_march):
    t = paid_march
    with tenant_context(alpha), clock.on(date(2026, 4, 20)):
        accruals = accrue_rebates("2026-03", actor=admin_of(alpha))
        rows = by_node(accruals)
        stored = by_node(RebateAccrual.objects.all())
        first = RebateAccrual.objects.get(node=t["retailer"])
    assert (
        rows
        == stored
        == {
            # 1,234,567.89 is above the first tier: 3 % of all of it, 37,037.0367 rounded half up.
            t["retailer"].pk: (Decimal("1234567.89"), Decimal("3"), Decimal("37037.04"), "零售月度返利"),
            # Its own policy, not the retailer level's: 5 % of 1,000.10 = 50.005 -> 50.01.
            t["special"].pk: (Decimal("1000.10"), Decimal("5"), Decimal("50.01"), "旗舰店专项"),
            t["agent"].pk: (Decimal("999999.99"), Decimal("1"), Decimal("10000.00"), "代理月度返利"),
        }
    )
    assert (first.period, first.period_start, first.period_end) == (
        "2026-03",
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    assert first.channel_node_id == t["retailer"].pk and first.channel_path == t["retailer"].path
    assert first.status == "accrued" and first.currency == "CNY"


def test_accruing_again_updates_and_never_duplicates(alpha, paid_march):
    t = paid_march
    admin = admin_of(alpha)
    with tenant_context(alpha), clock.on(date(2026, 4, 20)):
        first = {row.pk: row.amount for row in accrue_rebates("2026-03", actor=admin)}
        again = {row.pk: row.amount for row in accrue_rebates("2026-03", actor=None)}
        assert again == first
        agent = RebateAccrual.objects.get(node=t["agent"])
        confirm_rebate(actor=admin, accrual=agent)
        # More money arrives for March (entered late): the accrued row follows, the confirmed one not.
        build.sale(admin, t["special"], "999.90", date(2026, 3, 20), "999.90")
        build.sale(admin, t["agent"], "100.00", date(2026, 3, 20), "100.00")
        accrue_rebates("2026-03", actor=admin)
        rows = by_node(RebateAccrual.objects.all())
        assert RebateAccrual.objects.count() == 3
        assert rows[t["special"].pk][:3] == (Decimal("2000.00"), Decimal("5"), Decimal("100.00"))
        assert rows[t["agent"].pk][:3] == (Decimal("999999.99"), Decimal("1"), Decimal("10000.00"))
        paid = pay_out_rebate(actor=admin, accrual=agent)
        with pytest.raises(Conflict):
            pay_out_rebate(actor=admin, accrual=agent)
        quarter = by_node(accrue_rebates("2026-Q1", actor=admin))
    assert paid.status == "paid" and paid.paid_at is not None
    assert quarter[t["retailer"].pk][:3] == (Decimal("1234567.89"), Decimal("9"), Decimal("111111.11"))


def test_policy_input_errors_are_per_field_and_nothing_is_written(alpha):
    with tenant_context(alpha), translation.override("en"):
        admin = admin_of(alpha)
        with pytest.raises(ValidationError) as error:
            set_rebate_policy(
                actor=admin,
                name="bad",
                channel_level="emperor",
                period="week",
                tiers=[
                    {"up_to": None, "rate": "2"},
                    {"up_to": "-1", "rate": "101"},
                    {"up_to": "5", "rate": "x"},
                ],
            )
        assert set(error.value.message_dict) == {
            "channel_level",
            "period",
            "tiers[0].up_to",
            "tiers[1].up_to",
            "tiers[1].rate",
            "tiers[2].rate",
        }
        with pytest.raises(ValidationError) as error:
            set_rebate_policy(
                actor=admin,
                name="both",
                channel_level="agent",
                channel_node=build.node("agent"),
                period="month",
                tiers=TIERS,
            )
        assert set(error.value.message_dict) == {"channel_level"}
        t = build.tree()
        with pytest.raises(PermissionDenied):
            set_rebate_policy(
                actor=t["agent_admin"], name="x", channel_level="agent", period="month", tiers=TIERS
            )
        with pytest.raises(PermissionDenied):
            accrue_rebates("2026-03", actor=t["agent_admin"])
        assert not RebatePolicy.objects.exists()
        # Saving a level's policy again changes it rather than adding a second active one.
        set_rebate_policy(actor=admin, name="v1", channel_level="agent", period="month", tiers=TIERS)
        set_rebate_policy(
            actor=admin, name="v2", channel_level="agent", period="month", tiers=[{"rate": "1.5"}]
        )
        assert list(RebatePolicy.objects.values_list("name", "tiers")) == [
            ("v2", [{"up_to": None, "rate": "1.5"}])
        ]
