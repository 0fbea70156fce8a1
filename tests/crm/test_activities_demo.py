"""The activities demo seed logs a year of follow-ups through the services and plans the coming
weeks' visits, leaving some follow-ups due or overdue for the reps."""

import random
from datetime import date

from django_tenants.utils import tenant_context

from crm.activities import demo as activities_demo
from crm.activities.models import FollowUp, VisitPlan
from crm.activities.services import due_follow_ups
from crm.customers.models import Account
from crm.sales import demo as sales_demo
from tests.crm import test_orders_support as build
from tests.crm.test_sales_demo import demo_company

TODAY = date(2026, 6, 30)


def test_the_activities_seed_leaves_a_history_and_work_to_do(alpha):
    with tenant_context(alpha), build.on(TODAY):
        staff, accounts = demo_company()
        sales_demo.seed(rng=random.Random(5), today=TODAY, staff=staff, accounts=accounts)
        activities_demo.seed(rng=random.Random(5), today=TODAY, staff=staff, accounts=accounts)
        assert FollowUp.objects.count() >= 2 * len(accounts)
        assert set(FollowUp.objects.values_list("method", flat=True)) >= {"call", "visit", "wechat"}
        assert FollowUp.objects.filter(settled_by__isnull=False).exists()
        assert FollowUp.objects.filter(opportunity__isnull=False).exists()
        oldest = FollowUp.objects.order_by("occurred_at").first().occurred_at.date()
        assert (TODAY - oldest).days > 200
        for account in Account.objects.all():
            latest = FollowUp.objects.filter(account=account).order_by("-occurred_at").first()
            assert account.last_activity_at == latest.occurred_at
        assert sum(due_follow_ups(rep).count() for rep in staff) > 0
        assert set(VisitPlan.objects.values_list("status", flat=True)) == {"planned", "cancelled"}
