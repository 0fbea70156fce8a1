"""Outgoing webhooks (api/webhooks/, /api/v1/webhooks): record events are POSTed after commit,
signed in the Standard Webhooks form, retried by the sweep with the same Webhook-Id, logged for
administrators, confined to their tenant, and never sent to private addresses unless allowed.

The delivery tests run a real Celery worker on the real broker and a real HTTP receiver on
127.0.0.1, so they work on committed data: two tenants of their own, dropped at the end.
"""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from api.models import WebhookDelivery, WebhookEndpoint
from api.tokens import issue_token
from api.webhooks import delivery, services, signing, targets
from api.webhooks.events import clean_patterns, matches
from crm.customers.models import Account
from crm.customers.services import create_account
from tenants import services as tenants
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD, admin_of, host, signed_in, wait_until

WEBHOOKS = "/api/v1/webhooks"
# The worker is another process: it reads these when it starts (see `worker`).
WORKER_ENV = {
    "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1",
    "WEBHOOKS_RETRY_DELAYS": "0,0,0",
    "WEBHOOKS_TIMEOUT": "5",
}


def post(client, path: str, body=None, **headers):
    data = json.dumps(body) if body is not None else None
    return client.post(path, data=data, content_type="application/json", headers=headers)


# --- a receiver -----------------------------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST; `fail(path, times, status)` makes
    the next `times` requests to `path` answer `status`."""

    def __init__(self):
        self.requests: list[dict] = []
        self._failures: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    times, status = receiver._failures.get(self.path, (0, 200))
                    if times:
                        receiver._failures[self.path] = (times - 1, status)
                self.send_response(status if times else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def fail(self, path: str, times: int, status: int = 500) -> None:
        self._failures[path] = (times, status)

    def to(self, path: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


# --- tenants and a worker of this module's own ----------------------------------------------------


@pytest.fixture(scope="module")
def hooks(two_tenants, django_db_blocker):
    """Two committed tenants, signed up before the worker starts (its start purges the queue,
    the ready-schema refills they ask for included) and dropped at the end."""
    with django_db_blocker.unblock():
        made = [
            tenants.sign_up(
                company_name=f"Hooks {slug}",
                slug=slug,
                admin_name=slug,
                email=f"admin@{slug}.example",
                password=PASSWORD,
                language="en",
            )
            for slug in ("hooka", "hookb")
        ]
        connection.set_schema_to_public()
    yield made
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        for tenant in made:
            template.drop_schema(tenant.schema_name)
            Tenant.objects.filter(pk=tenant.pk).delete()


@pytest.fixture(scope="module")
def worker_env():
    saved = {name: os.environ.get(name) for name in WORKER_ENV}
    os.environ.update(WORKER_ENV)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def worker(hooks, worker_env, live_worker):
    """The live worker, started after `hooks` and with WORKER_ENV (fixtures start in this order)."""
    return live_worker


@pytest.fixture
def live(hooks, worker, committed_db, settings):
    """Committed data in the module's tenants, with a worker and private targets allowed here too;
    every endpoint (and so every delivery) is removed afterwards."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    yield hooks
    for tenant in hooks:
        with tenant_context(tenant):
            WebhookEndpoint.objects.all().delete()


def subscribe(tenant, url: str, events: list[str]) -> WebhookEndpoint:
    with tenant_context(tenant):
        return services.add_endpoint(admin_of(tenant), url=url, events=events)


def new_account(tenant, name: str) -> Account:
    with tenant_context(tenant):
        return create_account(actor=admin_of(tenant), name=name).account


def deliveries(tenant, endpoint) -> list[WebhookDelivery]:
    with tenant_context(tenant):
        return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk"))


def settled(tenant, endpoint, count: int = 1) -> bool:
    """Have `count` deliveries to `endpoint` finished? Runs the retry sweep first, as beat would
    every minute (the tests' retry delays are zero)."""
    with tenant_context(tenant):
        delivery.retry_due_deliveries()
        rows = WebhookDelivery.objects.filter(endpoint=endpoint)
        return rows.exclude(status=WebhookDelivery.Status.PENDING).count() == count


# --- delivery, end to end -------------------------------------------------------------------------


def test_a_committed_account_is_posted_once_signed_and_a_rolled_back_one_never(live, receiver):
    hooka, hookb = live
    endpoint = subscribe(hooka, receiver.url("/accounts"), ["account.*"])
    quotes_only = subscribe(hooka, receiver.url("/quotes"), ["quote.*", "custom.*"])
    other_tenant = subscribe(hookb, receiver.url("/beta"), ["*"])

    with tenant_context(hooka), pytest.raises(RuntimeError), transaction.atomic():
        create_account(actor=admin_of(hooka), name="Rolled Back Ltd")
        raise RuntimeError("roll back")
    assert deliveries(hooka, endpoint) == []  # the event was never published

    account = new_account(hooka, "Webhook Ltd")
    wait_until(lambda: settled(hooka, endpoint), timeout=30)

    [request] = receiver.to("/accounts")
    headers, body = request["headers"], request["body"]
    signing.verify(endpoint.secret, headers, body)
    with pytest.raises(signing.SignatureError):
        signing.verify(endpoint.secret, headers, body + b" ")
    with pytest.raises(signing.SignatureError):
        signing.verify(other_tenant.secret, headers, body)
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "crm-webhooks/1"
    sent = json.loads(body)
    assert headers["Webhook-Id"] == sent["id"]
    assert sent["type"] == "account.created"
    assert (sent["tenant"], sent["object"], sent["record_id"]) == ("hooka", "customers.account", account.pk)
    assert "Webhook Ltd" not in body.decode()  # field values are fetched through the API

    [row] = deliveries(hooka, endpoint)
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 1, 200)
    assert str(row.event_id) == sent["id"]
    # Never sent twice: the task skips a finished delivery, the sweep no longer sees it.
    assert delivery_task(hooka, row) == "skipped"
    assert settled(hooka, endpoint)
    assert len(receiver.to("/accounts")) == 1
    # Only subscribed events, only the event's own tenant.
    assert deliveries(hooka, quotes_only) == [] and deliveries(hookb, other_tenant) == []
    assert receiver.to("/quotes") == [] and receiver.to("/beta") == []


def delivery_task(tenant, row) -> str:
    from api.webhooks.tasks import deliver

    return deliver.run(tenant.schema_name, row.pk)


def test_a_failing_receiver_gets_every_retry_with_the_same_id_and_the_log_shows_them(live, receiver):
    hooka, _hookb = live
    receiver.fail("/flaky", times=2)
    endpoint = subscribe(hooka, receiver.url("/flaky"), ["account.created"])

    new_account(hooka, "Flaky Ltd")
    wait_until(lambda: settled(hooka, endpoint), timeout=30)

    requests = receiver.to("/flaky")
    assert len(requests) == 3
    assert len({r["headers"]["Webhook-Id"] for r in requests}) == 1
    for request in requests:
        signing.verify(endpoint.secret, request["headers"], request["body"])

    log = signed_in(hooka).get(f"{WEBHOOKS}/{endpoint.pk}/deliveries")
    assert log.status_code == 200, log.content
    [entry] = log.json()["results"]
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("succeeded", 3, 200)
    assert [a["status_code"] for a in entry["history"]] == [500, 500, 200]
    assert entry["history"][0]["error"] == "HTTP 500: ok"
    assert entry["event_id"] == requests[0]["headers"]["Webhook-Id"]


def test_a_test_event_and_a_redelivery_over_rest_and_gone_disables_the_endpoint(live, receiver):
    hooka, _hookb = live
    client = signed_in(hooka)
    created = post(client, WEBHOOKS, {"url": receiver.url("/ping"), "events": ["contact.created"]})
    assert created.status_code == 201, created.content
    with tenant_context(hooka):
        endpoint = WebhookEndpoint.objects.get(pk=created.json()["id"])
    secret = created.json()["secret"]

    tested = post(client, f"{WEBHOOKS}/{endpoint.pk}/test")
    assert tested.status_code == 202, tested.content
    wait_until(lambda: settled(hooka, endpoint), timeout=30)
    [ping] = receiver.to("/ping")
    signing.verify(secret, ping["headers"], ping["body"])
    assert json.loads(ping["body"])["type"] == "webhook.test"

    again = post(client, f"{WEBHOOKS}/deliveries/{tested.json()['id']}/redeliver")
    assert again.status_code == 202, again.content
    wait_until(lambda: settled(hooka, endpoint, count=2), timeout=30)
    first, second = receiver.to("/ping")
    assert first["headers"]["Webhook-Id"] == second["headers"]["Webhook-Id"]
    assert first["body"] == second["body"]

    # 410 Gone: the receiver wants no more. One attempt, and the endpoint is switched off.
    receiver.fail("/ping", times=1, status=410)
    with tenant_context(hooka):
        from crm.customers.services import add_contact

        add_contact(actor=admin_of(hooka), account=Account.objects.create(name="Gone Ltd"), name="Gus")
    wait_until(lambda: settled(hooka, endpoint, count=3), timeout=30)
    with tenant_context(hooka):
        endpoint.refresh_from_db()
        gone = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk").last()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "The receiver answered 410 Gone.")
    assert (gone.event, gone.status, gone.attempts) == ("contact.created", "failed", 1)
    refused = post(client, f"{WEBHOOKS}/deliveries/{gone.pk}/redeliver")
    assert refused.status_code == 409, refused.content
    switched_on = client.patch(
        f"{WEBHOOKS}/{endpoint.pk}", data={"is_active": True}, content_type="application/json"
    )
    assert switched_on.json()["is_active"] is True and switched_on.json()["disabled_at"] is None


# --- administration over REST ---------------------------------------------------------------------


def test_administrators_manage_endpoints_and_see_the_secret_only_when_they_ask(alpha, beta, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    client = signed_in(alpha)
    created = post(client, WEBHOOKS, {"url": "http://127.0.0.1:9/in", "events": ["account.*", "Quote.sent"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["account.*", "quote.sent"]
    assert created["Cache-Control"] == "no-store" and created["Location"] == f"{WEBHOOKS}/{body['id']}"

    listed = client.get(WEBHOOKS).json()
    assert [e["id"] for e in listed] == [body["id"]] and "secret" not in listed[0]
    detail = client.get(f"{WEBHOOKS}/{body['id']}")
    assert detail.json()["secret"] == body["secret"] and detail["Cache-Control"] == "no-store"

    changed = client.patch(
        f"{WEBHOOKS}/{body['id']}", data={"events": ["*"], "colour": "red"}, content_type="application/json"
    )
    assert changed.status_code == 400
    assert {e["field"] for e in changed.json()["errors"]} == {"colour"}
    assert client.get(f"{WEBHOOKS}/{body['id']}/deliveries").json() == {"results": [], "next": None}

    # Another tenant's administrator, an ordinary user, a token without the admin scope.
    assert signed_in(beta).get(f"{WEBHOOKS}/{body['id']}").status_code == 404
    with tenant_context(alpha):
        rep = User.objects.create_user(
            "hooks.rep@alpha.example", PASSWORD, full_name="Rep", role=Role.objects.get(code="sales_rep")
        )
        _token, text = issue_token(admin_of(alpha), name="cli", scopes=["read", "write"])
    as_rep = signed_in(alpha, rep)
    assert as_rep.get(WEBHOOKS).status_code == 403
    assert post(as_rep, WEBHOOKS, {"url": "http://127.0.0.1:9/in", "events": ["*"]}).status_code == 403
    assert as_rep.get(f"{WEBHOOKS}/{body['id']}").status_code == 403
    from django.test import Client

    token_client = Client(HTTP_HOST=host(alpha.slug), HTTP_AUTHORIZATION=f"Bearer {text}")
    assert token_client.get(WEBHOOKS).status_code == 403

    assert client.delete(f"{WEBHOOKS}/{body['id']}").status_code == 204
    assert client.get(f"{WEBHOOKS}/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    "url, code",
    [
        ("http://127.0.0.1:8000/hook", "private_address"),
        ("http://localhost/hook", "private_address"),
        ("http://10.1.2.3/hook", "private_address"),
        ("http://169.254.169.254/latest/meta-data", "private_address"),
        ("http://[::ffff:192.168.0.1]/hook", "private_address"),
        ("ftp://example.com/hook", "scheme"),
        ("https://user:pw@93.184.215.14/hook", "credentials"),
    ],
)
def test_private_and_non_http_urls_are_refused_while_the_setting_is_off(alpha, settings, url, code):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = post(signed_in(alpha), WEBHOOKS, {"url": url, "events": ["*"]})
    assert response.status_code == 400, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("url", code)]


def test_a_public_address_is_allowed_and_checked_again_before_sending(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    targets.check("https://93.184.215.14/hook")  # a public address needs no DNS lookup
    with pytest.raises(targets.TargetRefused):
        targets.post("http://127.0.0.1:9/hook", b"{}", {}, timeout=1)


# --- signatures and event patterns ----------------------------------------------------------------


def test_signatures_match_the_standard_webhooks_test_vector():
    # The vector of the Standard Webhooks reference libraries' tests.
    secret, message_id, timestamp = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
    )
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.signature(secret, message_id, timestamp, body) == expected
    headers = {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": expected}
    signing.verify(secret, headers, body, now=timestamp + 299)
    signing.verify(secret, {**headers, "webhook-signature": "v1,bm90IGl0 " + expected}, body, now=timestamp)
    for stale in (timestamp + 301, timestamp - 301):
        with pytest.raises(signing.SignatureError, match="tolerance"):
            signing.verify(secret, headers, body, now=stale)
    with pytest.raises(signing.SignatureError):
        signing.verify(signing.new_secret(), headers, body, now=timestamp)


@pytest.mark.parametrize(
    "patterns, name, expected",
    [
        (["account.created"], "account.created", True),
        (["account.created"], "account.updated", False),
        (["account.*"], "account.merged", True),
        (["account.*"], "accounting.created", False),
        (["custom.*"], "custom.project.created", True),
        (["custom.project.*"], "custom.task.created", False),
        (["*"], "quote.approved", True),
    ],
)
def test_event_patterns(patterns, name, expected):
    assert matches(clean_patterns(patterns), name) is expected


@pytest.mark.parametrize("patterns", [[], "account.*", ["account.**"], ["*.created"], ["account created"]])
def test_malformed_event_patterns_are_refused(patterns):
    with pytest.raises(ValidationError) as refused:
        clean_patterns(patterns)
    assert list(refused.value.error_dict) == ["events"]
