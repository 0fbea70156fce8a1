"""The demo company is believable: a dealer network, a sales team, and history across the objects."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from django_tenants.utils import tenant_context

from accounts.models import User
from channels.models import ChannelMember, ChannelNode
from crm import demo
from crm.activities.models import FollowUp
from crm.catalog.models import PriceBookEntry
from crm.contracts.models import Contract
from crm.customers.models import Account, Contact, Lead
from crm.finance.models import Payment
from crm.orders.models import Delivery, Order
from crm.quotes.models import Quote
from crm.records import audit
from crm.sales.models import Opportunity, OpportunityStageChange
from crm.service.models import Case
from metadata.models import CustomRecord


def test_the_demo_tenant_is_seeded_with_a_history(two_tenants, db):
    # The seed plans visits ahead of "today", which services refuse in the past: pin the clock too.
    with time_machine.travel(datetime(2026, 6, 30, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        tenant = demo.seed_demo_tenant("demo-test", today=date(2026, 6, 30), say=lambda _line: None)
    with tenant_context(tenant):
        assert ChannelNode.objects.filter(level="retailer").count() >= 5
        dealer = ChannelMember.objects.select_related("user", "node").first()
        assert dealer is not None and dealer.user.role.is_portal
        reps = User.objects.filter(role__code="sales_rep")
        assert reps.count() >= 2 and all(rep.manager and rep.org_unit for rep in reps)
        accounts = Account.objects.all()
        assert accounts.count() >= 30
        # Owners' units and channel paths are set, so data scope has something to work on.
        # (Accounts converted from leads are the brand's own and carry no channel node.)
        placed = accounts.filter(channel_node__isnull=False).select_related("channel_node")
        assert placed.count() >= 30
        assert all(account.channel_path == account.channel_node.path for account in placed)
        assert Opportunity.objects.filter(stage__outcome="won").exists()
        assert audit.history(accounts.first())[0].action == "created"
        # Quote-to-cash history: orders in several states, deliveries, payments collected.
        assert Order.objects.values("status").distinct().count() >= 3
        assert Delivery.objects.exists() and Payment.objects.exists()
        # The customer pool holds released accounts; leads were worked and some converted.
        assert Account.objects.filter(owner__isnull=True).count() >= 3
        assert Lead.objects.filter(status="converted").exists() and Contact.objects.count() > 30
        # Deals moved through stages, follow-ups logged, service cases opened.
        assert OpportunityStageChange.objects.exists() and FollowUp.objects.count() > 20
        assert Case.objects.exists()
        # Price books, quotes in several states with versions, contracts from accepted quotes.
        assert PriceBookEntry.objects.count() >= 10 and Quote.objects.values("status").distinct().count() >= 3
        assert Contract.objects.filter(status="active").exists()
        # The admin's configuration: custom fields with a formula, a custom object, shared views.
        from metadata.views.models import SavedView
        from metadata.views.run import run_view

        account = Account.objects.filter(custom__annual_budget__gte=1000000).first()
        assert account.custom["budget_band"] == "大客户" and account.custom["tier"] in (
            "gold",
            "silver",
            "standard",
        )
        manager = User.objects.filter(role__code="sales_manager").first() or User.objects.get(
            is_superuser=True
        )
        page = run_view(manager, SavedView.objects.get(name="gold_customers"))
        assert page.rows and all(row["custom.tier"] == "gold" for row in page.rows)
        assert CustomRecord.objects.filter(object__name="project").count() == 5
    # Seeding again leaves the tenant alone.
    assert demo.seed_demo_tenant("demo-test", say=lambda _line: None) == tenant
