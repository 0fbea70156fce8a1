"""The sales demo seed builds a year of deals through the services: history, wins, losses, a
second pipeline, and a funnel and forecast with figures in them."""

import random
from datetime import date, timedelta

from django_tenants.utils import tenant_context

from crm.customers.models import Account, Contact
from crm.sales import demo as sales_demo
from crm.sales.models import Opportunity, OpportunityStageChange, Pipeline
from crm.sales.reports import funnel, weighted_forecast
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

TODAY = date(2026, 6, 30)


def demo_company():
    """Staff and owned accounts with contacts, like crm/demo.py provides."""
    staff = [
        build.user("sales_rep", "张伟"),
        build.user("sales_manager", "王丽"),
        build.user("service", "孙浩"),
    ]
    accounts = []
    for n in range(10):
        account = Account(name=f"演示客户 {n}")
        account.place(owner=staff[n % 2])
        account.save()
        Contact.objects.create(account=account, name=f"联系人 {n}")
        accounts.append(account)
    return staff, accounts


def test_the_sales_seed_fills_the_pipelines_with_history(alpha):
    with tenant_context(alpha), build.on(TODAY):
        staff, accounts = demo_company()
        sales_demo.seed(rng=random.Random(3), today=TODAY, staff=staff, accounts=accounts)
        assert Pipeline.objects.filter(code="projects").exists()
        deals = Opportunity.objects.all()
        assert deals.count() == sales_demo.DEAL_COUNT + sales_demo.PROJECT_DEAL_COUNT
        outcomes = set(deals.values_list("stage__outcome", flat=True))
        assert outcomes == {"open", "won", "lost"}
        assert not deals.filter(stage__outcome="lost", loss_reason="").exists()
        assert OpportunityStageChange.objects.filter(days_in_previous_stage__gt=0).count() > 10
        first = OpportunityStageChange.objects.order_by("at").first().at.date()
        assert (TODAY - first).days > 200
        report = funnel(admin_of(alpha))
        assert report["stages"][0]["reached"] > 0 and report["win_rate"] is not None
        forecast = weighted_forecast(
            admin_of(alpha), start=TODAY - timedelta(days=365), end=TODAY + timedelta(days=365)
        )
        assert forecast["total"]["weighted"] > 0
