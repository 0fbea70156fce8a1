"""The orders and finance demo seeds build a believable year of business through the services."""

import random
from datetime import date

from django_tenants.utils import tenant_context

from crm.finance import demo as finance_demo
from crm.finance.models import CreditCheck, Invoice, Payment, PaymentPlan
from crm.finance.receivables import aging_report
from crm.orders import demo as orders_demo
from crm.orders.models import Delivery, Order
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

TODAY = date(2026, 6, 30)


def test_the_demo_seeds_fill_orders_and_receivables(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(TODAY):
        staff = [
            build.user("sales_rep", "张伟"),
            build.user("sales_manager", "王丽"),
            build.user("finance", "赵敏"),
        ]
        accounts = [build.account(f"客户 {n}") for n in range(8)]
        for account in accounts:
            account.place(owner=staff[n % 2] if (n := accounts.index(account)) else None)
            account.save()
        orders_demo.seed(rng=random.Random(7), today=TODAY, staff=staff, accounts=accounts)
        finance_demo.seed(rng=random.Random(7), today=TODAY, staff=staff, accounts=accounts)
        statuses = set(Order.objects.values_list("status", flat=True))
        assert {"delivered", "partially_delivered", "credit_hold"} <= statuses
        assert Delivery.objects.filter(status="received").exists()
        assert PaymentPlan.objects.count() >= 10 and Payment.objects.count() >= 10
        assert Invoice.objects.filter(kind="vat_special").exists()
        assert CreditCheck.objects.filter(result="blocked").exists()
        dates = sorted(Order.objects.values_list("order_date", flat=True))
        assert (TODAY - dates[0]).days > 200  # history spread over the year
        rows = aging_report(actor=admin, as_of=TODAY)
        assert any(row.buckets["90+"] for row in rows) or any(row.buckets["0-30"] for row in rows)
