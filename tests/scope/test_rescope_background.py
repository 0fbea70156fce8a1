"""A large tree move re-places its records in the background, on a real worker over a real broker."""

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from access.models import RescopeJob
from channels.services import add_channel_node, move_channel_node
from crm.customers.models import Account
from tenants import services
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD, wait_until


@pytest.fixture
def moves_tenant(committed_db):
    tenant = services.sign_up(
        company_name="Moves 搬迁", slug="moves", admin_name="Mo", email="mo@moves.example", password=PASSWORD
    )
    yield tenant
    connection.set_schema_to_public()
    template.drop_schema(tenant.schema_name)
    Tenant.objects.filter(pk=tenant.pk).delete()


def test_a_large_move_runs_in_the_background_with_progress(moves_tenant, live_worker, settings):
    settings.RESCOPE_INLINE_LIMIT = 10
    with tenant_context(moves_tenant):
        brand = add_channel_node(name="品牌", code="brand", level="brand")
        east = add_channel_node(name="华东", code="east", level="agent", parent=brand)
        west = add_channel_node(name="华西", code="west", level="agent", parent=brand)
        shop = add_channel_node(name="门店", code="shop", level="retailer", parent=east)
        rows = []
        for n in range(40):
            record = Account(name=f"门店客户 {n}")
            record.place(channel_node=shop)
            rows.append(record)
        Account.objects.bulk_create(rows)
        job = move_channel_node(actor=None, node=shop, new_parent=west)
        assert (job.status, job.total) == ("queued", 40)  # over the limit: left to the worker

        def finished():
            with tenant_context(moves_tenant):
                return RescopeJob.objects.get(pk=job.pk).status == "done"

        wait_until(finished)
        job.refresh_from_db()
        assert (job.done, job.progress) == (40, 1.0)
        new_path = f"{west.path}{shop.pk}/"
        assert Account.objects.filter(channel_path=new_path).count() == 40
        assert not Account.objects.filter(channel_path__startswith=east.path).exists()
