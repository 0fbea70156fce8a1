"""Channel performance: each node's figures over its subtree, checked against sums computed here."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.dealers.models import RebateAccrual
from crm.dealers.performance import channel_performance, node_performance
from crm.dealers.registrations import approve_registration
from crm.sales.models import Opportunity, Stage
from crm_platform.errors import PermissionDenied
from tests.conftest import admin_of
from tests.crm import test_dealers_support as build
from tests.crm import test_orders_support as clock

START, END = date(2026, 3, 1), date(2026, 3, 31)
IN, OUT = date(2026, 3, 15), date(2026, 2, 20)
NOW = date(2026, 4, 10)


def won_deal(node, amount, closed):
    customer = build.account(f"Won {amount}", channel_node=node)
    deal = Opportunity(
        account=customer,
        name="won",
        amount=Decimal(amount),
        close_date=closed,
        stage=Stage.objects.get(pipeline__is_default=True, code="won"),
    )
    deal.place(channel_node=node)
    deal.save()


def accrual(node, period, start, end, amount):
    row = RebateAccrual(
        node=node, period=period, period_start=start, period_end=end, base=0, rate=0, amount=Decimal(amount)
    )
    row.computed_at = timezone.now()
    row.place(channel_node=node)
    row.save()


@pytest.fixture
def business(alpha):
    """Facts per node; `facts` keeps (node, metric, value) to sum independently of the report."""
    facts = []
    with tenant_context(alpha), clock.on(NOW):
        admin = admin_of(alpha)
        t = build.tree()

        def sale(node, total, ordered, paid=None, paid_on=None):
            build.sale(admin, node, total, ordered, paid, paid_on)
            if ordered >= START:
                facts.append((node, "order_amount", Decimal(total)))
            if paid is not None and START <= (paid_on or ordered) <= END:
                facts.append((node, "paid_amount", Decimal(paid)))
            facts.append((node, "receivables", Decimal(total) - Decimal(paid or 0)))

        sale(t["retailer"], "1000.00", IN, "300.00")
        sale(t["retailer"], "2500.50", OUT, "2500.50", IN)  # ordered before, paid within
        sale(t["distributor"], "4000.00", IN)
        sale(t["sibling"], "800.25", IN, "800.25", date(2026, 4, 2))  # paid after the range
        sale(t["agent"], "10000.00", OUT, "1000.00", OUT)
        for node, amount, closed in [
            (t["retailer"], "700", IN),
            (t["agent"], "900", IN),
            (t["sibling"], "50", OUT),
        ]:
            won_deal(node, amount, closed)
            if closed >= START:
                facts += [(node, "won_opportunities", 1), (node, "won_amount", Decimal(amount))]
        with clock.on(IN):
            first = build.register(t["retailer_user"], company_name="One")
            build.register(t["sibling_user"], company_name="Two")
            approve_registration(actor=t["distributor_admin"], registration=first)
        facts += [(t["retailer"], "registrations_submitted", 1), (t["sibling"], "registrations_submitted", 1)]
        facts += [(t["retailer"], "registrations_approved", 1)]
        accrual(t["retailer"], "2026-03", START, END, "12.34")
        accrual(t["agent"], "2026-03", START, END, "100.00")
        accrual(t["agent"], "2026-02", date(2026, 2, 1), date(2026, 2, 28), "55.00")  # outside
        facts += [
            (t["retailer"], "rebates_accrued", Decimal("12.34")),
            (t["agent"], "rebates_accrued", Decimal("100")),
        ]
    return t, facts


def expected_for(node, facts):
    totals = {}
    for where, metric, value in facts:
        if where.path.startswith(node.path):
            totals[metric] = totals.get(metric, 0) + value
    return totals


def test_brand_staff_see_every_nodes_subtree_totals_in_one_query(alpha, business):
    t, facts = business
    with tenant_context(alpha), clock.on(NOW):
        admin = admin_of(alpha)
        with CaptureQueriesContext(connection) as queries:
            rows = channel_performance(admin, start=START, end=END, root=t["brand"])
        report_queries = [q for q in queries.captured_queries if "per_path" in q["sql"]]
    assert len(report_queries) == 1
    assert [row["node"] for row in rows] == [
        n.pk
        for n in sorted(
            (t[k] for k in ("brand", "agent", "distributor", "sibling", "retailer")), key=lambda n: n.path
        )
    ]
    metrics = [
        "order_amount",
        "paid_amount",
        "receivables",
        "won_opportunities",
        "won_amount",
        "registrations_submitted",
        "registrations_approved",
        "rebates_accrued",
    ]
    for row in rows:
        node = next(
            t[k] for k in ("brand", "agent", "distributor", "sibling", "retailer") if t[k].pk == row["node"]
        )
        expected = expected_for(node, facts)
        assert {m: row[m] for m in metrics} == {m: expected.get(m, 0) for m in metrics}, node.level
    brand = rows[0]
    assert brand["order_amount"] == Decimal("5800.25")  # 1000 + 4000 + 800.25, by hand
    assert brand["paid_amount"] == Decimal("2800.50")
    assert brand["receivables"] == Decimal("13700.00")  # 700 + 0 + 4000 + 0 + 9000
    assert isinstance(brand["won_opportunities"], int) and brand["won_opportunities"] == 2


def test_a_dealer_admin_sees_its_node_and_its_children(alpha, business):
    t, _facts = business
    with tenant_context(alpha), clock.on(NOW):
        rows = node_performance(t["distributor_admin"], start=START, end=END)
        with pytest.raises(PermissionDenied):
            node_performance(t["distributor_user"], start=START, end=END)
        with pytest.raises(PermissionDenied):
            channel_performance(t["agent_admin"], start=START, end=END)
        with pytest.raises(ValidationError) as error:
            channel_performance(admin_of(alpha), start=END, end=START)
    assert [row["node"] for row in rows] == [t["distributor"].pk, t["retailer"].pk]
    assert error.value.message_dict.keys() == {"end"}
