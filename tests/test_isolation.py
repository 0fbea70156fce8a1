"""Two tenants with identical tables never see each other's rows or users."""

from django.contrib.auth import SESSION_KEY
from django_tenants.utils import tenant_context

from accounts.models import User
from crm.customers.models import Account
from crm.sales.models import Stage
from tests.conftest import PASSWORD, host, tenant_client


def test_rows_stay_in_their_tenant(alpha, beta):
    with tenant_context(alpha):
        Account.objects.create(name="只属于 Alpha 的客户")
    with tenant_context(beta):
        assert not Account.objects.filter(name="只属于 Alpha 的客户").exists()
        Account.objects.create(name="Beta only")
    with tenant_context(alpha):
        assert list(Account.objects.values_list("name", flat=True)) == ["只属于 Alpha 的客户"]


def test_each_tenant_has_its_own_seeded_rows(alpha, beta):
    with tenant_context(alpha):
        Stage.objects.filter(code="won").update(probability=99)
    with tenant_context(beta):
        assert Stage.objects.get(code="won").probability == 100


def test_login_on_own_host(alpha):
    client = tenant_client(alpha)
    response = client.post("/accounts/login/", {"username": "ann@alpha.example", "password": PASSWORD})
    assert response.status_code == 302, response.content
    assert client.session[SESSION_KEY]
    home = client.get("/")
    assert home.status_code == 200
    assert "Alpha 阿尔法科技" in home.content.decode()


def test_user_of_one_tenant_cannot_log_in_on_another(alpha, beta):
    client = tenant_client(beta)
    response = client.post("/accounts/login/", {"username": "ann@alpha.example", "password": PASSWORD})
    assert response.status_code == 200  # the form again, with an error
    assert SESSION_KEY not in client.session
    with tenant_context(beta):
        assert not User.objects.filter(email="ann@alpha.example").exists()


def test_session_of_one_tenant_is_worthless_on_another(alpha, beta):
    client = tenant_client(alpha)
    client.post("/accounts/login/", {"username": "ann@alpha.example", "password": PASSWORD})
    session_cookie = client.cookies["sessionid"].value
    other = tenant_client(beta)
    other.cookies["sessionid"] = session_cookie
    response = other.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_unknown_host_is_not_found(db):
    from django.test import Client

    response = Client(HTTP_HOST=host("nobody")).get("/accounts/login/")
    assert response.status_code == 404
