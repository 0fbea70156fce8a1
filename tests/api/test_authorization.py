"""The authorization matrix of the APIs: every REST endpoint and GraphQL operation on records
and approvals, called by an anonymous client, with a valid token of another tenant, by a user
whose role may not use the object, and by one who may. A denial leaks nothing and changes nothing."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from access.models import ObjectPermission
from access.principal import forget
from accounts.models import Role, User
from api import tokens
from api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from api.webhooks import services as webhooks
from crm.customers.models import Account
from tests.conftest import admin_of, signed_in, tenant_client
from workflows import engine
from workflows import services as approvals
from workflows.models import (
    ApprovalEvent,
    ApprovalProcess,
    ApprovalRequest,
    ApprovalTask,
    Delegation,
    Notification,
)

ACCOUNTS = "/api/v1/records/customers.account"
SECRET = "Secret customer 机密客户"

# (name, method, path, body); {id} is an account of alpha's, {pooled} one in the customer pool.
REST = [
    ("list", "get", ACCOUNTS, None),
    ("create", "post", ACCOUNTS, {"name": "Created"}),
    ("retrieve", "get", ACCOUNTS + "/{id}", None),
    ("update", "patch", ACCOUNTS + "/{id}", {"name": "Changed"}),
    ("delete", "delete", ACCOUNTS + "/{id}", None),
    (
        "bulk",
        "post",
        ACCOUNTS + "/bulk",
        lambda w: {"mode": "upsert", "records": [{"id": w["id"], "name": "B"}]},
    ),
    ("action", "post", ACCOUNTS + "/{pooled}/claim", None),
]
GRAPHQL = [
    ("list", "{ account_list { edges { node { id name } } } }"),
    ("retrieve", "{ account(id: {id}) { id name } }"),
    (
        "create",
        'mutation { create_account(input: {name: "Created"}) { record { id name } errors { code } } }',
    ),
    (
        "update",
        'mutation { update_account(id: {id}, input: {name: "Changed"}) { record { name } errors { code } } }',
    ),
    ("delete", "mutation { delete_account(id: {id}) { id errors { code } } }"),
    ("action", "mutation { claim_account(id: {pooled}) { record errors { code } } }"),
]


@pytest.fixture
def world(alpha, beta):
    """alpha's accounts (one owned, one pooled), a role that may not touch accounts, and a token
    of beta's admin."""
    with tenant_context(alpha):
        owned = Account(name=SECRET)
        owned.place(owner=admin_of(alpha))
        owned.save()
        pooled = Account.objects.create(name="Pooled 公海")
        locked_out = Role.objects.create(code="no_accounts", labels={"en": "No accounts"}, data_level="all")
        ObjectPermission.objects.create(role=locked_out, object="customers.account")
        stranger = User.objects.create(email="stranger@alpha.example", full_name="Stranger", role=locked_out)
        forget(stranger)
    with tenant_context(beta):
        _token, beta_token = tokens.issue_token(admin_of(beta), name="beta", scopes=["read", "write"])
    return {"id": owned.pk, "pooled": pooled.pk, "stranger": stranger, "beta_token": beta_token}


def callers(alpha, world) -> dict:
    other_tenant = tenant_client(alpha)
    other_tenant.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world['beta_token']}"
    return {
        "anonymous": tenant_client(alpha),
        "other tenant's token": other_tenant,
        "no permission": signed_in(alpha, world["stranger"]),
    }


def state(alpha) -> list:
    with tenant_context(alpha):
        return list(Account.objects.order_by("pk").values_list("pk", "name", "owner_id"))


def fill(template: str, world) -> str:
    return template.replace("{id}", str(world["id"])).replace("{pooled}", str(world["pooled"]))


def rest_call(client, method, path, body, world):
    data = body(world) if callable(body) else body
    payload = json.dumps(data) if data is not None else None
    return getattr(client, method)(fill(path, world), data=payload, content_type="application/json")


@pytest.mark.parametrize("name, method, path, body", REST, ids=[row[0] for row in REST])
def test_rest_denials_leak_nothing_and_change_nothing(alpha, world, name, method, path, body):
    before = state(alpha)
    for caller, client in callers(alpha, world).items():
        response = rest_call(client, method, path, body, world)
        expected = {"anonymous": (401,), "other tenant's token": (401,), "no permission": (403, 404)}[caller]
        assert response.status_code in expected, (caller, response.status_code, response.content)
        assert response["Content-Type"] == "application/problem+json", caller
        assert SECRET not in response.content.decode(), caller
        assert state(alpha) == before, caller


@pytest.mark.parametrize("name, method, path, body", REST, ids=[row[0] for row in REST])
def test_rest_allows_the_admin(alpha, world, name, method, path, body):
    response = rest_call(signed_in(alpha), method, path, body, world)
    assert response.status_code in (200, 201, 204), response.content


@pytest.mark.parametrize("name, document", GRAPHQL, ids=[row[0] for row in GRAPHQL])
def test_graphql_denials_leak_nothing_and_change_nothing(alpha, world, name, document):
    before = state(alpha)
    for caller, client in callers(alpha, world).items():
        body = json.dumps({"query": fill(document, world)})
        response = client.post("/graphql", data=body, content_type="application/json")
        text = response.content.decode()
        assert SECRET not in text, caller
        assert state(alpha) == before, caller
        if caller != "no permission":
            assert response.status_code == 401, (caller, response.status_code, text)
            continue
        answer = response.json()
        assert response.status_code == 200
        payload = next(iter((answer.get("data") or {}).values()), None)
        if isinstance(payload, dict) and "errors" in payload:
            assert payload["errors"] and payload["errors"][0]["code"] in ("permission-denied", "not-found"), (
                answer
            )
        else:
            assert answer["errors"][0]["extensions"]["status"] in (403, 404), answer


@pytest.mark.parametrize("name, document", GRAPHQL, ids=[row[0] for row in GRAPHQL])
def test_graphql_allows_the_admin(alpha, world, name, document):
    body = json.dumps({"query": fill(document, world)})
    answer = signed_in(alpha).post("/graphql", data=body, content_type="application/json").json()
    assert "errors" not in answer, answer
    payload = next(iter(answer["data"].values()))
    assert payload is not None and not (isinstance(payload, dict) and payload.get("errors")), answer


# Endpoints for administrators (webhooks), and for any signed-in caller (tokens, the document).
ADMIN_REST = [
    ("webhooks list", "get", "/api/v1/webhooks", None),
    ("webhooks create", "post", "/api/v1/webhooks", {"url": "https://93.184.216.34/hook", "events": ["*"]}),
    ("webhook read", "get", "/api/v1/webhooks/{hook}", None),
    ("webhook change", "patch", "/api/v1/webhooks/{hook}", {"description": "changed"}),
    ("webhook delete", "delete", "/api/v1/webhooks/{hook}", None),
    ("webhook deliveries", "get", "/api/v1/webhooks/{hook}/deliveries", None),
    ("webhook test", "post", "/api/v1/webhooks/{hook}/test", None),
]
SIGNED_IN_REST = [
    ("me", "get", "/api/v1/me", None),
    ("tokens list", "get", "/api/v1/tokens", None),
    ("openapi", "get", "/api/v1/openapi.json", None),
    ("token revoke", "delete", "/api/v1/tokens/{admin_token}", None),
]


@pytest.fixture
def admin_world(alpha, world):
    with tenant_context(alpha):
        hook = webhooks.add_endpoint(admin_of(alpha), url="https://93.184.216.34/hook", events=["account.*"])
        token, _text = tokens.issue_token(admin_of(alpha), name="admin's", scopes=["read"])
    return {**world, "hook": hook.pk, "admin_token": token.pk}


def admin_state(alpha) -> list:
    with tenant_context(alpha):
        return [
            list(WebhookEndpoint.objects.values_list("pk", "url", "description", "is_active")),
            list(WebhookDelivery.objects.values_list("pk", "status")),
            list(ApiToken.objects.values_list("pk", "revoked_at")),
        ]


def fill_admin(path: str, world) -> str:
    return path.replace("{hook}", str(world["hook"])).replace("{admin_token}", str(world["admin_token"]))


@pytest.mark.parametrize(
    "name, method, path, body",
    ADMIN_REST + SIGNED_IN_REST,
    ids=[row[0] for row in ADMIN_REST + SIGNED_IN_REST],
)
def test_admin_endpoints_refuse_outsiders_and_change_nothing(alpha, admin_world, name, method, path, body):
    before = admin_state(alpha)
    admin_only = (name, method, path, body) in ADMIN_REST
    for caller, client in callers(alpha, admin_world).items():
        if caller == "no permission" and not admin_only and name != "token revoke":
            continue  # any signed-in user may read these for themselves
        response = rest_call(client, method, fill_admin(path, admin_world), body, admin_world)
        expected = (401,) if caller != "no permission" else (403, 404)
        assert response.status_code in expected, (caller, response.status_code, response.content)
        assert "whsec_" not in response.content.decode(), caller
        assert admin_state(alpha) == before, caller
    allowed = rest_call(signed_in(alpha), method, fill_admin(path, admin_world), body, admin_world)
    assert allowed.status_code in (200, 201, 202, 204), (name, allowed.status_code, allowed.content)


# Approvals (api/rest/approvals.py, api/graphql/approvals.py): alpha's admin submitted the secret
# account to a process whose one step waits for the admin; {req} is that request, {task} its task.
APPROVAL_REST = [
    (
        "approval submit",
        "post",
        "/api/v1/approvals/requests",
        lambda w: {"object": "customers.account", "record_id": w["pooled"]},
    ),
    ("approval read", "get", "/api/v1/approvals/requests/{req}", None),
    ("approval approve", "post", "/api/v1/approvals/requests/{req}/approve", {"comment": "ok"}),
    ("approval reject", "post", "/api/v1/approvals/requests/{req}/reject", {"comment": "no"}),
    ("approval recall", "post", "/api/v1/approvals/requests/{req}/recall", {}),
    ("approval comment", "post", "/api/v1/approvals/requests/{req}/comment", {"comment": "hm"}),
    (
        "approval reassign",
        "post",
        "/api/v1/approvals/tasks/{task}/reassign",
        lambda w: {"to": w["other_admin"]},
    ),
    ("record approvals", "get", ACCOUNTS + "/{id}/approvals", None),
    ("process save", "put", "/api/v1/approvals/processes/check", lambda w: w["process_body"]),
    ("delegation withdraw", "delete", "/api/v1/approvals/delegations/{delegation}", None),
    ("notification read", "post", "/api/v1/approvals/notifications/{notice}/read", None),
]
# Any signed-in user may read these (their own inbox, delegations, notifications; the processes).
APPROVAL_SIGNED_IN = [
    ("approval inbox", "get", "/api/v1/approvals/inbox?box=submitted", None),
    ("processes", "get", "/api/v1/approvals/processes", None),
    ("process read", "get", "/api/v1/approvals/processes/check", None),
    ("process versions", "get", "/api/v1/approvals/processes/check/versions", None),
    ("delegations", "get", "/api/v1/approvals/delegations", None),
    ("notifications", "get", "/api/v1/approvals/notifications", None),
]
APPROVAL_GRAPHQL = [
    ("approve", "mutation { approve_request(id: {req}) { request { id } errors { code } } }"),
    ("reject", "mutation { reject_request(id: {req}) { request { id } errors { code } } }"),
    ("recall", "mutation { recall_request(id: {req}) { request { id } errors { code } } }"),
    ("comment", 'mutation { comment_request(id: {req}, comment: "hm") { event { id } errors { code } } }'),
    (
        "reassign",
        "mutation { reassign_approval_task(id: {task}, to: {other_admin}) "
        "{ request { id } errors { code } } }",
    ),
    (
        "submit",
        'mutation { submit_approval(object: "customers.account", record_id: {pooled}) '
        "{ request { id } errors { code } } }",
    ),
]


@pytest.fixture
def approval_world(alpha, world):
    with tenant_context(alpha):
        admin = admin_of(alpha)
        other_admin = User.objects.create(
            email="second.admin@alpha.example", full_name="Second admin", role=Role.objects.get(code="admin")
        )
        definition = {"steps": [{"name": "Admin", "approvers": [{"type": "user", "user": admin.pk}]}]}
        approvals.save_process(
            actor=admin, key="check", object="customers.account", name="Check", definition=definition
        )
        request = engine.submit(actor=admin, object_key="customers.account", record_id=world["id"])
        task = request.tasks.get().pk
        now = timezone.now()
        delegation = approvals.delegate(
            actor=admin,
            user=admin,
            to=other_admin,
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=2),
        )
    body = {"object": "customers.account", "name": "Check", "definition": definition}
    return {
        **world,
        "req": request.pk,
        "task": task,
        "other_admin": other_admin.pk,
        "delegation": delegation.pk,
        "notice": _notice_of(alpha, admin),
        "process_body": body,
    }


def _notice_of(alpha, user) -> int:
    with tenant_context(alpha):
        return Notification.objects.filter(user=user).values_list("pk", flat=True).first()


def approval_state(alpha) -> list:
    with tenant_context(alpha):
        return [
            list(ApprovalProcess.objects.values_list("pk", "name", "current_id")),
            list(ApprovalRequest.objects.values_list("pk", "status", "step")),
            list(ApprovalTask.objects.values_list("pk", "status", "approver_id")),
            ApprovalEvent.objects.count(),
            list(Delegation.objects.values_list("pk")),
            list(Notification.objects.values_list("pk", "read_at")),
        ]


def fill_approval(template: str, world) -> str:
    for name in ("req", "task", "other_admin", "delegation", "notice", "pooled", "id"):
        template = template.replace("{" + name + "}", str(world[name]))
    return template


@pytest.mark.parametrize(
    "name, method, path, body",
    APPROVAL_REST + APPROVAL_SIGNED_IN,
    ids=[row[0] for row in APPROVAL_REST + APPROVAL_SIGNED_IN],
)
def test_approval_endpoints_refuse_outsiders_and_change_nothing(
    alpha, approval_world, name, method, path, body
):
    before = approval_state(alpha)
    signed_in_only = (name, method, path, body) in APPROVAL_SIGNED_IN
    for caller, client in callers(alpha, approval_world).items():
        if caller == "no permission" and signed_in_only:
            continue
        response = rest_call(client, method, fill_approval(path, approval_world), body, approval_world)
        expected = (401,) if caller != "no permission" else (403, 404)
        assert response.status_code in expected, (caller, response.status_code, response.content)
        assert response["Content-Type"] == "application/problem+json", caller
        assert SECRET not in response.content.decode(), caller
        assert approval_state(alpha) == before, caller
    allowed = rest_call(signed_in(alpha), method, fill_approval(path, approval_world), body, approval_world)
    assert allowed.status_code in (200, 201, 204), (name, allowed.status_code, allowed.content)


@pytest.mark.parametrize("name, document", APPROVAL_GRAPHQL, ids=[row[0] for row in APPROVAL_GRAPHQL])
def test_approval_mutations_refuse_outsiders_and_change_nothing(alpha, approval_world, name, document):
    before = approval_state(alpha)
    query = json.dumps({"query": fill_approval(document, approval_world)})
    for caller, client in callers(alpha, approval_world).items():
        response = client.post("/graphql", data=query, content_type="application/json")
        assert SECRET not in response.content.decode(), caller
        assert approval_state(alpha) == before, caller
        if caller != "no permission":
            assert response.status_code == 401, (caller, response.status_code)
            continue
        payload = next(iter(response.json()["data"].values()))
        assert payload["errors"][0]["code"] in ("permission-denied", "not-found"), payload
    answer = signed_in(alpha).post("/graphql", data=query, content_type="application/json").json()
    payload = next(iter(answer["data"].values()))
    assert payload["errors"] == [], answer


def test_approval_queries_show_outsiders_nothing(alpha, approval_world):
    query = fill_approval(
        "{ approval_request(id: {req}) { title } approval_inbox(box: waiting) { edges { cursor } } }",
        approval_world,
    )
    body = json.dumps({"query": query})
    stranger = callers(alpha, approval_world)["no permission"].post(
        "/graphql", data=body, content_type="application/json"
    )
    assert stranger.json() == {"data": {"approval_request": None, "approval_inbox": {"edges": []}}}
    mine = signed_in(alpha).post("/graphql", data=body, content_type="application/json").json()["data"]
    assert mine["approval_request"]["title"].endswith(SECRET) and len(mine["approval_inbox"]["edges"]) == 1
