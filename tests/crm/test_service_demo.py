"""The service demo seed opens a year of cases through the services: closed ones with scores, a few
reopened, recent ones open and some of those past their due time."""

import random
from datetime import date

from django_tenants.utils import tenant_context

from crm.records.models import Reminder
from crm.service import demo as service_demo
from crm.service.models import Case
from tests.crm import test_orders_support as build
from tests.crm.test_sales_demo import demo_company

TODAY = date(2026, 6, 30)


def test_the_service_seed_fills_the_desk(alpha):
    with tenant_context(alpha), build.on(TODAY):
        staff, accounts = demo_company()
        service_demo.seed(rng=random.Random(11), today=TODAY, staff=staff, accounts=accounts)
        cases = Case.objects.all()
        assert cases.count() == service_demo.CASE_COUNT
        assert {"closed", "resolved"} <= set(cases.values_list("status", flat=True))
        assert cases.filter(satisfaction__isnull=False).count() > 10
        assert cases.filter(reopened_count__gt=0).exists() or cases.filter(satisfaction__lte=2).exists()
        assert len(set(cases.values_list("kind", flat=True))) >= 5
        oldest = cases.order_by("opened_at").first().opened_at.date()
        assert (TODAY - oldest).days > 200
        flagged = cases.filter(sla_breached_at__isnull=False)
        assert Reminder.objects.filter(kind="case_sla_breached").count() == flagged.count()
