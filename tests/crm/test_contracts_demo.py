"""The catalog, quotes and contracts demo seeds build a believable year through the services."""

import random
from datetime import date

from django_tenants.utils import tenant_context

from crm.catalog import demo as catalog_demo
from crm.catalog.models import PriceBook, Product
from crm.contracts import demo as contracts_demo
from crm.contracts.models import Contract
from crm.quotes import demo as quotes_demo
from crm.quotes.models import Quote
from crm.records.models import Reminder
from tests.crm import test_catalog_support as build
from tests.crm.test_orders_support import on

TODAY = date(2026, 6, 30)


def test_the_demo_seeds_fill_catalog_quotes_and_contracts(alpha):
    with tenant_context(alpha), on(TODAY):
        staff = [
            build.user("sales_rep", "张伟"),
            build.user("sales_manager", "王丽"),
            build.user("finance", "赵敏"),
        ]
        levels = ["agent", "distributor", "retailer", "brand"]
        accounts = [build.account(f"客户 {n}", channel_node=build.node(levels[n % 4])) for n in range(8)]
        for n, account in enumerate(accounts):
            account.place(owner=staff[n % 2] if n else None, channel_node=account.channel_node)
            account.save()
        rng = random.Random(11)
        for seed in (catalog_demo.seed, quotes_demo.seed, contracts_demo.seed):
            seed(rng=rng, today=TODAY, staff=staff, accounts=accounts)
        assert Product.objects.count() >= 10 and PriceBook.objects.count() == 5
        statuses = set(Quote.objects.values_list("status", flat=True))
        assert {"accepted", "sent", "superseded", "expired"} <= statuses
        created = sorted(Quote.objects.values_list("created_at", flat=True))
        assert (created[-1] - created[0]).days > 200  # history spread over the year
        contract_statuses = set(Contract.objects.values_list("status", flat=True))
        assert {"active", "draft"} <= contract_statuses
        assert Contract.objects.filter(quote__isnull=False).exists()
        assert Reminder.objects.filter(kind="contract_renewal").exists()
