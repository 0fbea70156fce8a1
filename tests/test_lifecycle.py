"""Suspension (reads work, writes refused clearly) and deletion (export kept, schema dropped)."""

import gzip
import json

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from crm.customers.models import Account
from crm_platform.errors import TenantReadOnly
from tenants import services
from tenants.models import Tenant
from tests.conftest import PASSWORD, tenant_client


@pytest.fixture
def suspended_alpha(alpha):
    client = tenant_client(alpha)
    assert (
        client.post("/accounts/login/", {"username": "ann@alpha.example", "password": PASSWORD}).status_code
        == 302
    )
    services.suspend(alpha)
    yield alpha, client
    services.resume(alpha)


def test_suspended_tenant_reads_but_refuses_writes(suspended_alpha):
    alpha, client = suspended_alpha
    assert client.get("/").status_code == 200
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "Another-Sturdy-2027",
            "new_password2": "Another-Sturdy-2027",
        },
    )
    assert response.status_code == 423
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/tenant-read-only")
    with tenant_context(alpha):
        from accounts.models import User

        assert User.objects.get(email="ann@alpha.example").check_password(PASSWORD)


def test_suspended_tenant_still_signs_in(suspended_alpha):
    alpha, _client = suspended_alpha
    client = tenant_client(alpha)
    assert (
        client.post("/accounts/login/", {"username": "ann@alpha.example", "password": PASSWORD}).status_code
        == 302
    )


def test_write_services_refuse_for_a_suspended_tenant(suspended_alpha):
    alpha, _client = suspended_alpha
    with pytest.raises(TenantReadOnly) as error:
        services.require_writable(Tenant.objects.get(pk=alpha.pk))
    assert error.value.status == 423


def test_resumed_tenant_writes_again(alpha):
    services.suspend(alpha)
    services.resume(alpha)
    services.require_writable(Tenant.objects.get(pk=alpha.pk))


def test_delete_keeps_an_export_and_drops_the_schema(two_tenants, db, tmp_path, settings):
    settings.TENANT_EXPORT_ROOT = tmp_path
    doomed = services.sign_up(
        company_name="Doomed 将删除",
        slug="doomed",
        admin_name="Dee",
        email="dee@doomed.example",
        password=PASSWORD,
    )
    with tenant_context(doomed):
        Account.objects.create(name="留存客户 Kept customer")
    path = services.delete_tenant(doomed)

    records = json.loads(gzip.decompress(path.read_bytes()))
    assert any(
        r["model"] == "customers.account" and r["fields"]["name"] == "留存客户 Kept customer" for r in records
    )
    assert any(
        r["model"] == "accounts.user" and r["fields"]["email"] == "dee@doomed.example" for r in records
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [doomed.schema_name])
        assert cursor.fetchone()[0] == 0
    doomed.refresh_from_db()
    assert doomed.status == Tenant.Status.DELETED and doomed.export_path == str(path)
    assert tenant_client(doomed).get("/accounts/login/").status_code == 404
