"""Sign-up through the JSON endpoint and the HTML page: field-level errors, nothing left behind."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from accounts.models import User
from tenants import services
from tenants.models import Domain, Tenant
from tests.conftest import PASSWORD, public_client

GOOD = {
    "company_name": "Gamma 伽马制造",
    "slug": "gamma",
    "admin_name": "Gu Gamma",
    "email": "gu@gamma.example",
    "password": PASSWORD,
}


def footprint() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%'")
        schemas = cursor.fetchone()[0]
    return Tenant.objects.count(), Domain.objects.count(), schemas


def post_json(data):
    return public_client().post("/api/v1/signup", data, content_type="application/json")


def error_fields(response) -> dict:
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["type"].endswith("/validation") and body["status"] == 400
    return {e["field"]: e["code"] for e in body["errors"]}


def test_sign_up_over_json_creates_a_working_tenant(two_tenants, db):
    response = post_json(GOOD)
    assert response.status_code == 201, response.content
    assert response.json()["url"] == "http://gamma.localhost/"
    client = public_client()
    client.defaults["HTTP_HOST"] = "gamma.localhost"
    login = client.post("/accounts/login/", {"username": "gu@gamma.example", "password": PASSWORD})
    assert login.status_code == 302


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"slug": "alpha"}, "slug", "taken"),
        ({"slug": "www"}, "slug", "reserved"),
        ({"slug": "admin"}, "slug", "reserved"),
        ({"slug": "Bad_Name!"}, "slug", "invalid"),
        ({"slug": "-edge"}, "slug", "invalid"),
        ({"slug": "ab"}, "slug", "invalid"),
        ({"slug": "a" * 41}, "slug", "invalid"),
        ({"email": "not-an-address"}, "email", "invalid"),
        ({"password": "short"}, "password", "password_too_short"),
        ({"password": "password123"}, "password", "password_too_common"),
        ({"password": "83920174652"}, "password", "password_entirely_numeric"),
        ({"company_name": "   "}, "company_name", "required"),
        ({"admin_name": ""}, "admin_name", "required"),
    ],
)
def test_bad_input_gets_a_field_error_and_leaves_nothing(two_tenants, db, change, field, code):
    before = footprint()
    response = post_json({**GOOD, **change})
    assert response.status_code == 400, response.content
    assert error_fields(response).get(field) == code, response.json()
    assert footprint() == before


def test_every_bad_field_is_reported_at_once(two_tenants, db):
    response = post_json({"company_name": "", "slug": "x", "admin_name": "", "email": "@", "password": "1"})
    assert {"company_name", "slug", "admin_name", "email", "password"} <= set(error_fields(response))


def test_malformed_bodies_get_problems_not_500(two_tenants, db):
    client = public_client()
    assert client.post("/api/v1/signup", "{not json", content_type="application/json").status_code == 400
    assert error_fields(post_json({"slug": "ok-slug"})).keys() >= {"company_name", "email", "password"}
    assert post_json([1, 2]).status_code == 400
    assert post_json({**GOOD, "slug": ["gamma"]}).status_code == 400
    assert client.get("/api/v1/signup").status_code == 405


def test_failure_half_way_leaves_no_schema_or_rows(two_tenants, db, monkeypatch):
    before = footprint()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(User.objects, "create", explode)
    with pytest.raises(RuntimeError):
        services.sign_up(**GOOD)
    assert footprint() == before


def test_html_page_shows_field_errors_and_creates_on_success(two_tenants, db):
    client = public_client()
    page = client.get("/")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    bad = client.post("/", {**GOOD, "slug": "beta"})
    assert bad.status_code == 400
    assert "This subdomain is already taken." in bad.content.decode() or "已被占用" in bad.content.decode()
    good = client.post("/", GOOD)
    assert good.status_code == 201
    assert "gamma.localhost" in good.content.decode()


def test_simultaneous_duplicate_submissions_make_one_tenant(committed_db):
    results = []
    barrier = threading.Barrier(2)

    def submit():
        barrier.wait()
        try:
            services.sign_up(**{**GOOD, "slug": "twin"})
            results.append("created")
        except ValidationError as exc:
            results.append(exc.error_dict["slug"][0].code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(results) == ["created", "taken"]
        assert Tenant.objects.filter(slug="twin").count() == 1
    finally:
        for tenant in Tenant.objects.filter(slug="twin"):
            services.delete_tenant(tenant)
