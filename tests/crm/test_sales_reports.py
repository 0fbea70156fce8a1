"""The funnel and the weighted forecast on a known set of deals: figures per stage, per owner, per
team, per month and per quarter, computed in a few queries, and nothing from the other tenant."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from access.principal import principal_of
from accounts.models import Role, User
from accounts.services import add_org_unit
from crm.customers.models import Account
from crm.sales.models import Opportunity, Stage
from crm.sales.reports import funnel, weighted_forecast
from crm.sales.services import create_opportunity, move_to_stage
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

START, END = date(2026, 1, 1), date(2026, 6, 30)


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def deal(owner, amount, closes, path=(), loss_reason="", currency="CNY", override=None) -> Opportunity:
    account = Account(name=f"客户 {amount}")
    account.place(owner=owner)
    account.save()
    opportunity = create_opportunity(
        actor=owner,
        account=account,
        name=f"Deal {amount}",
        amount=Decimal(amount),
        expected_close_date=closes,
        currency=currency,
        probability_override=override,
    )
    for code in path:
        reason = loss_reason if code == "lost" else ""
        opportunity = move_to_stage(
            actor=owner, opportunity=opportunity, stage=stage(code), loss_reason=reason
        )
    return opportunity


@pytest.fixture
def known_deals(alpha):
    """Zhang (East team) and David (South team) with deals across the first half of 2026."""
    with tenant_context(alpha), build.on(date(2025, 12, 1)):
        rep = Role.objects.get(code="sales_rep")
        east, south = add_org_unit(name="华东销售组"), add_org_unit(name="华南销售组")
        zhang = User.objects.create(email="zhang@alpha.example", full_name="张伟", role=rep, org_unit=east)
        david = User.objects.create(
            email="david@alpha.example", full_name="David Chen", role=rep, org_unit=south
        )
        deal(zhang, 100000, date(2026, 1, 15))  # qualify, 10 %
        deal(zhang, 200000, date(2026, 2, 10), path=["proposal"], override=60)  # skips needs
        deal(zhang, 300000, date(2026, 4, 5), path=["needs", "proposal", "negotiation", "won"])
        deal(david, 50000, date(2026, 3, 31), path=["needs"])  # 25 %
        deal(david, 400000, date(2026, 5, 20), path=["negotiation"])  # 75 %
        deal(david, 80000, date(2026, 2, 20), path=["needs", "proposal", "lost"], loss_reason="预算取消")
        deal(david, 999999, date(2026, 7, 1))  # after the period
        deal(zhang, 10000, date(2026, 3, 1), currency="USD")  # another currency
        # A deal from before stage history existed (an import): it counts where it stands.
        Opportunity.objects.create(
            account=Account.objects.create(name="导入客户"),
            name="Imported",
            stage=stage("needs"),
            amount=Decimal("10000"),
            expected_close_date=END,
        )
    return {"zhang": zhang, "david": david, "east": east, "south": south}


def test_the_funnel_counts_current_stages_and_conversion_by_how_far_deals_got(alpha, known_deals):
    with tenant_context(alpha):
        report = funnel(admin_of(alpha), start=START, end=END)
    rows = {row["stage"]: row for row in report["stages"]}
    assert [row["stage"] for row in report["stages"]] == [
        "qualify",
        "needs",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    assert {code: (row["count"], row["amount"]) for code, row in rows.items()} == {
        "qualify": (1, Decimal("100000")),
        "needs": (2, Decimal("60000")),
        "proposal": (1, Decimal("200000")),
        "negotiation": (1, Decimal("400000")),
        "won": (1, Decimal("300000")),
        "lost": (1, Decimal("80000")),
    }
    assert [rows[code]["reached"] for code in ("qualify", "needs", "proposal", "negotiation", "won")] == [
        7,
        6,
        4,
        2,
        1,
    ]
    assert [rows[code]["conversion"] for code in ("qualify", "needs", "proposal", "negotiation")] == [
        Decimal("85.7"),
        Decimal("66.7"),
        Decimal("50.0"),
        Decimal("50.0"),
    ]
    assert rows["won"]["conversion"] is None and rows["lost"]["reached"] is None
    assert report["win_rate"] == Decimal("14.3") and report["currency"] == "CNY"


def test_the_forecast_by_owner_and_by_team(alpha, known_deals):
    zhang, david = known_deals["zhang"], known_deals["david"]
    with tenant_context(alpha):
        by_owner = weighted_forecast(admin_of(alpha), start=START, end=END, by="owner")
        by_team = weighted_forecast(admin_of(alpha), start=START, end=END, by="team")
    figures = [
        (r["key"], r["label"], r["count"], r["amount"], r["weighted"], r["won"]) for r in by_owner["rows"]
    ]
    assert figures == [
        (zhang.pk, "张伟", 3, Decimal("600000"), Decimal("430000.00"), Decimal("300000")),
        (david.pk, "David Chen", 2, Decimal("450000"), Decimal("312500.00"), Decimal("0")),
        (None, "未分配", 1, Decimal("10000"), Decimal("2500.00"), Decimal("0")),
    ]
    teams = [(r["key"], r["label"], r["weighted"]) for r in by_team["rows"]]
    assert teams == [
        (known_deals["east"].pk, "华东销售组", Decimal("430000.00")),
        (known_deals["south"].pk, "华南销售组", Decimal("312500.00")),
        (None, "无团队", Decimal("2500.00")),
    ]
    assert (
        by_owner["total"]
        == by_team["total"]
        == {
            "count": 6,
            "amount": Decimal("1060000"),
            "weighted": Decimal("745000.00"),
            "won": Decimal("300000"),
        }
    )


def test_the_forecast_by_month_and_by_quarter(alpha, known_deals):
    with tenant_context(alpha):
        by_month = weighted_forecast(admin_of(alpha), start=START, end=END, by="month")
        by_quarter = weighted_forecast(admin_of(alpha), start=START, end=END, by="quarter")
        in_dollars = weighted_forecast(admin_of(alpha), start=START, end=END, by="month", currency="USD")
    assert [(r["label"], r["count"], r["amount"], r["weighted"]) for r in by_month["rows"]] == [
        ("2026-01", 1, Decimal("100000"), Decimal("10000.00")),
        ("2026-02", 1, Decimal("200000"), Decimal("120000.00")),
        ("2026-03", 1, Decimal("50000"), Decimal("12500.00")),
        ("2026-04", 1, Decimal("300000"), Decimal("300000.00")),
        ("2026-05", 1, Decimal("400000"), Decimal("300000.00")),
        ("2026-06", 1, Decimal("10000"), Decimal("2500.00")),
    ]
    assert [(r["key"], r["count"], r["amount"], r["weighted"], r["won"]) for r in by_quarter["rows"]] == [
        ("2026-Q1", 3, Decimal("350000"), Decimal("142500.00"), Decimal("0")),
        ("2026-Q2", 3, Decimal("710000"), Decimal("602500.00"), Decimal("300000")),
    ]
    assert [(r["label"], r["weighted"]) for r in in_dollars["rows"]] == [("2026-03", Decimal("1000.00"))]


def test_reports_are_a_few_grouped_queries(alpha, known_deals, django_assert_max_num_queries):
    with tenant_context(alpha):
        admin = admin_of(alpha)
        Stage.objects.exists()  # django-tenants sets the search path on the first query
        Stage.objects.none().exists()
        # The acting user's rights are looked up once per request, before the report runs.
        principal_of(admin)
        with django_assert_max_num_queries(4):
            funnel(admin, start=START, end=END)
        with django_assert_max_num_queries(1):
            weighted_forecast(admin, start=START, end=END, by="quarter")


def test_forecast_arguments_are_checked(alpha):
    with tenant_context(alpha), pytest.raises(ValidationError) as error:
        weighted_forecast(admin_of(alpha), start=END, end=START, by="colour")
    assert set(error.value.message_dict) == {"by", "end"}


def test_beta_reports_see_nothing_of_alpha(alpha, beta, known_deals):
    with tenant_context(beta):
        report = funnel(admin_of(beta))
        forecast = weighted_forecast(admin_of(beta), start=START, end=END)
    assert sum(row["count"] for row in report["stages"]) == 0 and report["win_rate"] is None
    assert forecast["rows"] == [] and forecast["total"]["count"] == 0
