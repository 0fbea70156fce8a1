"""Platform staff live in the public schema; tenant users cannot reach the staff admin."""

import pytest

from accounts.models import User
from tenants.models import Tenant
from tests.conftest import PASSWORD, public_client, tenant_client


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(email="ops@platform.example", full_name="Ops", password=PASSWORD)


def test_staff_suspends_a_tenant_from_the_admin(staff, alpha):
    client = public_client()
    client.force_login(staff)
    listing = client.get("/admin/tenants/tenant/")
    assert listing.status_code == 200 and "alpha" in listing.content.decode()
    response = client.post("/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [alpha.pk]})
    assert response.status_code == 302
    assert Tenant.objects.get(pk=alpha.pk).status == Tenant.Status.SUSPENDED
    Tenant.objects.filter(pk=alpha.pk).update(status=Tenant.Status.ACTIVE)


def test_tenant_admin_cannot_use_staff_admin(alpha):
    client = public_client()
    response = client.post("/admin/login/", {"username": "ann@alpha.example", "password": PASSWORD})
    assert response.status_code == 200  # the login form again
    assert client.get("/admin/tenants/tenant/").status_code == 302


def test_staff_admin_is_not_routed_on_tenant_hosts(staff, alpha):
    assert tenant_client(alpha).get("/admin/").status_code == 404
