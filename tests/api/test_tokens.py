"""API tokens (api/tokens.py and /api/v1/tokens): shown once and hashed at rest, scoped,
revocable, expiring, confined to their tenant. Every failure is a problem document, never a 500."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import tenant_context
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.models import Role, User
from api.models import ApiToken
from api.tokens import authenticate_token, issue_token, revoke_token, tokens_of
from crm_platform.errors import NotFound, PermissionDenied, TenantReadOnly
from tenants import services
from tests.conftest import PASSWORD, admin_of, host, tenant_client

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def ann(alpha):
    return admin_of(alpha)


@pytest.fixture
def rep(alpha):
    """An ordinary user of alpha: a sales rep, not an administrator."""
    with tenant_context(alpha):
        return User.objects.create_user(
            "rep@alpha.example", PASSWORD, full_name="Rep Alpha", role=Role.objects.get(code="sales_rep")
        )


def issue(tenant, actor, scopes=("read",), **options) -> tuple[ApiToken, str]:
    with tenant_context(tenant):
        return issue_token(actor, name=options.pop("name", "cli"), scopes=list(scopes), **options)


def bearer(tenant, text: str) -> Client:
    return Client(HTTP_HOST=host(tenant.slug), HTTP_AUTHORIZATION=f"Bearer {text}")


def assert_unauthorized(response):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 401


def login(tenant, email: str, **client_options) -> Client:
    client = (
        tenant_client(tenant) if not client_options else Client(HTTP_HOST=host(tenant.slug), **client_options)
    )
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"username": email, "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )
    assert response.status_code == 302, response.content
    return client


# --- shown once, hashed at rest -------------------------------------------------------------------


def test_the_plaintext_is_in_the_post_answer_only_and_the_database_keeps_a_digest(alpha, ann):
    _admin_token, admin_text = issue(alpha, ann, scopes=("read", "write", "admin"))
    client = bearer(alpha, admin_text)

    created = client.post(
        "/api/v1/tokens",
        {"name": "Laptop", "scopes": ["read", "write"], "expires_in_days": 30},
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    assert created["Cache-Control"] == "no-store"
    body = created.json()
    plaintext = body["token"]
    _crm, prefix, secret = plaintext.split("_", 2)
    assert _crm == "crm" and prefix == body["prefix"] and len(secret) >= 43
    assert body["scopes"] == ["read", "write"] and body["kind"] == "personal" and body["user"] == ann.pk
    with tenant_context(alpha):
        row = ApiToken.objects.get(pk=body["id"])
        assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
        stored = [str(value) for value in ApiToken.objects.filter(pk=row.pk).values().get().values()]
    assert not any(secret in value for value in stored)
    assert row.expires_at - row.created_at == timedelta(days=30)

    listed = client.get("/api/v1/tokens")
    assert listed.status_code == 200
    assert secret not in listed.content.decode()
    entry = next(t for t in listed.json() if t["id"] == body["id"])
    assert "token" not in entry and "digest" not in entry
    assert set(entry) == {
        "id", "name", "kind", "prefix", "scopes", "user",
        "created_at", "expires_at", "revoked_at", "last_used_at",
    }  # fmt: skip


def test_a_bearer_token_acts_as_its_user(alpha, rep):
    _token, text = issue(alpha, rep, scopes=("read",), name="script")

    response = bearer(alpha, text).get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "rep@alpha.example"
    assert response.json()["token"] == {"name": "script", "scopes": ["read"]}


def test_a_wrong_secret_with_a_real_prefix_is_refused(alpha, rep):
    _token, text = issue(alpha, rep)
    forged = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")

    assert_unauthorized(bearer(alpha, forged).get("/api/v1/me"))


# --- revocation, expiry, inactive users -----------------------------------------------------------


def test_a_revoked_token_answers_401_with_a_challenge_and_a_problem(alpha, rep):
    token, text = issue(alpha, rep)
    client = bearer(alpha, text)
    assert client.get("/api/v1/me").status_code == 200

    with tenant_context(alpha):
        revoke_token(rep, token.pk)
        first = ApiToken.objects.get(pk=token.pk).revoked_at
        revoke_token(rep, token.pk)  # idempotent: the first time stays
        assert ApiToken.objects.get(pk=token.pk).revoked_at == first is not None

    assert_unauthorized(client.get("/api/v1/me"))


def test_revoking_over_rest_answers_204_and_the_token_stops_working(alpha, ann):
    token, text = issue(alpha, ann, scopes=("read", "admin"))

    assert bearer(alpha, text).delete(f"/api/v1/tokens/{token.pk}").status_code == 204

    assert_unauthorized(bearer(alpha, text).get("/api/v1/me"))


def test_a_token_expires(alpha, rep):
    _token, text = issue(alpha, rep, expires_in_days=7)
    issued = timezone.now()

    with time_machine.travel(issued + timedelta(days=7) - timedelta(minutes=1), tick=False):
        assert bearer(alpha, text).get("/api/v1/me").status_code == 200
    with time_machine.travel(issued + timedelta(days=7, minutes=1), tick=False):
        assert_unauthorized(bearer(alpha, text).get("/api/v1/me"))


def test_the_token_of_a_deactivated_user_is_refused(alpha, rep):
    _token, text = issue(alpha, rep)
    with tenant_context(alpha):
        User.objects.filter(pk=rep.pk).update(is_active=False)

    assert_unauthorized(bearer(alpha, text).get("/api/v1/me"))


def test_last_used_is_written_at_most_once_a_minute(alpha, rep):
    token, text = issue(alpha, rep)
    start = timezone.now()

    def last_used():
        with tenant_context(alpha):
            return ApiToken.objects.get(pk=token.pk).last_used_at

    with time_machine.travel(start, tick=False):
        bearer(alpha, text).get("/api/v1/me")
    assert last_used() == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        bearer(alpha, text).get("/api/v1/me")
    assert last_used() == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        bearer(alpha, text).get("/api/v1/me")
    assert last_used() == start + timedelta(seconds=61)


# --- tenants --------------------------------------------------------------------------------------


def test_a_token_of_one_tenant_is_unknown_on_another(alpha, beta, ann):
    _token, text = issue(alpha, ann, scopes=("read", "write", "admin"))

    me = bearer(beta, text).get("/api/v1/me")
    listed = bearer(beta, text).get("/api/v1/tokens")

    assert_unauthorized(me)
    assert_unauthorized(listed)
    for response in (me, listed):
        assert "bo@beta.example" not in response.content.decode()
        assert "ann@alpha.example" not in response.content.decode()


# --- scopes ---------------------------------------------------------------------------------------


def test_a_read_token_reads_but_cannot_mint_tokens(alpha, ann):
    _token, text = issue(alpha, ann, scopes=("read",))
    client = bearer(alpha, text)

    assert client.get("/api/v1/me").status_code == 200
    refused = client.post(
        "/api/v1/tokens", {"name": "x", "scopes": ["read"]}, content_type="application/json"
    )

    assert refused.status_code == 403
    assert refused["Content-Type"] == PROBLEM
    assert "admin" in refused.json()["detail"]
    with tenant_context(alpha):
        assert ApiToken.objects.count() == 1


def test_a_write_token_without_admin_cannot_list_or_revoke_tokens(alpha, ann):
    token, text = issue(alpha, ann, scopes=("read", "write"))
    client = bearer(alpha, text)

    assert client.get("/api/v1/tokens").status_code == 403
    assert client.delete(f"/api/v1/tokens/{token.pk}").status_code == 403
    with tenant_context(alpha):
        assert ApiToken.objects.get(pk=token.pk).revoked_at is None


class Probe(APIView):
    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


@pytest.mark.parametrize(
    ("scopes", "method", "status"),
    [
        (("read",), "get", 200),
        (("read",), "post", 403),
        (("write",), "get", 403),
        (("write",), "post", 200),
        (("admin",), "post", 403),  # admin is for views that ask for it, not a superset
    ],
)
def test_safe_methods_need_read_and_unsafe_ones_write(alpha, rep, scopes, method, status):
    _token, text = issue(alpha, rep, scopes=scopes)
    request = getattr(APIRequestFactory(), method)("/probe", HTTP_AUTHORIZATION=f"Bearer {text}")

    with tenant_context(alpha):
        response = Probe.as_view()(request)

    assert response.status_code == status
    if status == 403:
        needed = "read" if method == "get" else "write"
        assert f"“{needed}”" in response.data["detail"]


def test_a_token_cannot_grant_more_scopes_or_time_than_it_has(alpha, ann):
    _token, text = issue(alpha, ann, scopes=("read", "admin"), expires_in_days=10)
    client = bearer(alpha, text)

    wider = client.post(
        "/api/v1/tokens",
        {"name": "w", "scopes": ["write"], "expires_in_days": 5},
        content_type="application/json",
    )
    longer = client.post(
        "/api/v1/tokens",
        {"name": "l", "scopes": ["read"], "expires_in_days": 30},
        content_type="application/json",
    )
    within = client.post(
        "/api/v1/tokens",
        {"name": "ok", "scopes": ["read"], "expires_in_days": 5},
        content_type="application/json",
    )

    assert wider.status_code == 400
    assert [e["field"] for e in wider.json()["errors"]] == ["scopes"]
    assert longer.status_code == 400
    assert [e["field"] for e in longer.json()["errors"]] == ["expires_in_days"]
    assert within.status_code == 201


# --- who may do what ------------------------------------------------------------------------------


def test_a_non_admin_cannot_issue_an_integration_token(alpha, ann, rep):
    _token, text = issue(alpha, rep, scopes=("read", "write", "admin"))

    response = bearer(alpha, text).post(
        "/api/v1/tokens",
        {"name": "erp", "scopes": ["read"], "kind": "integration", "user": ann.pk},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"].endswith("/permission-denied")
    with tenant_context(alpha):
        assert not ApiToken.objects.filter(kind="integration").exists()


def test_an_admin_issues_an_integration_token_for_an_integration_user(alpha, ann):
    with tenant_context(alpha):
        robot = User.objects.create_user(
            "erp@alpha.example", None, full_name="ERP sync", role=Role.objects.get(code="sales_rep")
        )
    client = login(alpha, "ann@alpha.example")

    created = client.post(
        "/api/v1/tokens",
        {"name": "erp", "scopes": ["read", "write"], "kind": "integration", "user": robot.pk},
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    assert created.json()["user"] == robot.pk
    me = bearer(alpha, created.json()["token"]).get("/api/v1/me")
    assert me.json()["email"] == "erp@alpha.example"
    with tenant_context(alpha):
        token = ApiToken.objects.get(pk=created.json()["id"])
        assert token.kind == "integration" and token.created_by_id == ann.pk


def test_integration_tokens_need_an_active_user(alpha, ann):
    with tenant_context(alpha):
        gone = User.objects.create_user("gone@alpha.example", None, full_name="Gone", is_active=False)
        for user in (None, "", gone.pk, gone.pk + 1000, "abc", [ann.pk]):
            with pytest.raises(ValidationError) as error:
                issue_token(ann, name="i", scopes=["read"], kind="integration", user=user)
            assert list(error.value.message_dict) == ["user"]


def test_a_personal_token_acts_as_its_issuer_only(alpha, ann, rep):
    with tenant_context(alpha), pytest.raises(ValidationError) as error:
        issue_token(ann, name="mine", scopes=["read"], user=rep)
    assert list(error.value.message_dict) == ["user"]


def test_a_non_admin_cannot_revoke_or_see_another_users_token(alpha, ann, rep):
    admins, _ = issue(alpha, ann, scopes=("read",))
    _own, text = issue(alpha, rep, scopes=("read", "admin"))
    client = bearer(alpha, text)

    revoked = client.delete(f"/api/v1/tokens/{admins.pk}")
    missing = client.delete("/api/v1/tokens/999999")
    listed = client.get("/api/v1/tokens")

    assert revoked.status_code == missing.status_code == 404
    assert revoked.json() == missing.json()
    assert [t["user"] for t in listed.json()] == [rep.pk]
    with tenant_context(alpha):
        assert ApiToken.objects.get(pk=admins.pk).revoked_at is None
        with pytest.raises(NotFound):
            revoke_token(rep, admins.pk)


def test_an_admin_sees_and_revokes_every_token(alpha, ann, rep):
    theirs, their_text = issue(alpha, rep)
    mine, my_text = issue(alpha, ann)

    with tenant_context(alpha):
        assert [t.pk for t in tokens_of(ann)] == [mine.pk, theirs.pk]
        assert [t.pk for t in tokens_of(rep)] == [theirs.pk]
        assert revoke_token(ann, theirs.pk).revoked_at is not None
        assert authenticate_token(their_text) is None
        assert authenticate_token(my_text) == mine  # ann's own is untouched


# --- sessions -------------------------------------------------------------------------------------


def test_a_session_needs_the_csrf_token_for_writes(alpha):
    client = login(alpha, "ann@alpha.example", enforce_csrf_checks=True)
    payload = {"name": "from the browser", "scopes": ["read"]}

    assert client.get("/api/v1/tokens").status_code == 200
    without = client.post("/api/v1/tokens", payload, content_type="application/json")
    with_token = client.post(
        "/api/v1/tokens",
        payload,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )

    assert without.status_code == 403
    assert without["Content-Type"] == PROBLEM
    assert "CSRF" in without.json()["detail"]
    assert with_token.status_code == 201, with_token.content


def test_anonymous_requests_are_challenged(alpha):
    assert_unauthorized(tenant_client(alpha).get("/api/v1/me"))


# --- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer ",
        "bearer nope",
        "Basic x",
        "Basic dXNlcjpwYXNz",
        "garbage",
        "Bearer crm_zzzzzzzzzzzz_" + "a" * 43,
        "Bearer crm_" + "0" * 12 + "_" + "a" * 43,
        "Bearer crm_" + "0" * 12 + "_" + "\x00" * 43,
        "Bearer crm_" + "x" * 5000,
        "Bearer 令牌",
    ],
)
def test_malformed_authorization_headers_answer_401_never_500(alpha, header):
    response = Client(HTTP_HOST=host(alpha.slug), HTTP_AUTHORIZATION=header).get("/api/v1/me")

    assert_unauthorized(response)


def test_validation_errors_come_back_field_by_field(alpha, ann):
    client = login(alpha, "ann@alpha.example")

    response = client.post(
        "/api/v1/tokens",
        {"name": "  ", "scopes": ["read", "root"], "expires_in_days": 366, "kind": "personal"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/validation")
    assert {e["field"] for e in body["errors"]} == {"name", "scopes", "expires_in_days"}
    assert all(e["message"] for e in body["errors"])


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": "read"}, "scopes"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": None}, "expires_in_days"),
        ({"expires_in_days": True}, "expires_in_days"),
        ({"name": "n" * 101}, "name"),
        ({"kind": "robot"}, "kind"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(alpha, ann, options, field):
    arguments = {"name": "ok", "scopes": ["read"], **options}
    with tenant_context(alpha):
        with pytest.raises(ValidationError) as error:
            issue_token(ann, **arguments)
        assert field in error.value.message_dict
        assert not ApiToken.objects.exists()


def test_the_longest_allowed_lifetime_is_a_year(alpha, ann):
    token, _ = issue(alpha, ann, expires_in_days=365)
    assert token.expires_at - token.created_at == timedelta(days=365)


def test_a_suspended_tenant_issues_no_tokens(alpha, ann):
    services.suspend(alpha)
    try:
        with tenant_context(alpha), pytest.raises(TenantReadOnly):
            issue_token(ann, name="x", scopes=["read"])
    finally:
        services.resume(alpha)


def test_only_a_user_issues_tokens(alpha):
    with tenant_context(alpha), pytest.raises(PermissionDenied):
        issue_token(None, name="x", scopes=["read"])
