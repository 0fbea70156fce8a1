"""Password change and reset on a tenant host; the reset link points at the tenant's own host."""

import re

from django.core import mail
from django_tenants.utils import tenant_context

from accounts.models import User
from tests.conftest import PASSWORD, tenant_client

NEW_PASSWORD = "Brand-New-Lantern-88"


def test_password_change(alpha):
    client = tenant_client(alpha)
    client.post("/accounts/login/", {"username": "ann@alpha.example", "password": PASSWORD})
    weak = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert weak.status_code == 200  # form redisplayed with errors
    response = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    with tenant_context(alpha):
        assert User.objects.get(email="ann@alpha.example").check_password(NEW_PASSWORD)


def test_password_reset_by_email(alpha, beta):
    client = tenant_client(alpha)
    assert client.post("/accounts/password/reset/", {"email": "ann@alpha.example"}).status_code == 302
    # An address of another tenant gets the same answer and no e-mail.
    assert client.post("/accounts/password/reset/", {"email": "bo@beta.example"}).status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://(\S+?)(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    assert link.group(1) == "alpha.localhost"
    form = client.get(link.group(2), follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    fresh = tenant_client(alpha)
    login = fresh.post("/accounts/login/", {"username": "ann@alpha.example", "password": NEW_PASSWORD})
    assert login.status_code == 302
