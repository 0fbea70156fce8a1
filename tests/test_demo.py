"""The demo company is believable: a dealer network, a sales team, and history across the objects."""

from datetime import date

from django_tenants.utils import tenant_context

from accounts.models import User
from channels.models import ChannelMember, ChannelNode
from crm import demo
from crm.customers.models import Account
from crm.finance.models import Payment
from crm.orders.models import Delivery, Order
from crm.records import audit
from crm.sales.models import Opportunity


def test_the_demo_tenant_is_seeded_with_a_history(two_tenants, db):
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
        assert all(account.channel_path.startswith(account.channel_node.path) for account in accounts)
        assert Opportunity.objects.filter(stage__outcome="won").exists()
        assert audit.history(accounts.first())[0].action == "created"
        # Quote-to-cash history: orders in several states, deliveries, payments collected.
        assert Order.objects.values("status").distinct().count() >= 3
        assert Delivery.objects.exists() and Payment.objects.exists()
    # Seeding again leaves the tenant alone.
    assert demo.seed_demo_tenant("demo-test", say=lambda _line: None) == tenant
