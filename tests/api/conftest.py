"""API tests assert messages in English unless a test says otherwise.

Also the fixtures of the tests that talk to a real server over HTTP (client scenarios, Schemathesis):
a live threaded WSGI server and a committed tenant with custom fields and a bearer token."""

import threading
from contextlib import contextmanager

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection
from django.utils import translation
from django_tenants.utils import tenant_context

from accounts.models import User
from api import tokens
from metadata import services as metadata
from tenants import services
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serving():
    """The project's WSGI application on a free local port, served by threads (each with its own
    database connection, so only committed data is visible to it); yields its base URL."""
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_server(committed_db):
    with serving() as url:
        yield url


@contextmanager
def committed_tenant(slug: str, company_name: str, *, rich: bool = False):
    """A committed tenant with two custom account fields (a select and a unique text) and an
    integration token scoped read and write; with `rich`, more custom account fields of other
    types and a custom object with fields of its own. Yields (tenant, token secret); dropped
    afterwards."""
    tenant = services.sign_up(
        company_name=company_name,
        slug=slug,
        admin_name="Gao",
        email=f"gao@{slug}.example",
        password=PASSWORD,
    )
    try:
        with tenant_context(tenant):
            admin = User.objects.get(is_superuser=True)
            add = metadata.add_field
            add(
                actor=admin,
                object_key="customers.account",
                name="tier",
                type="select",
                label_en="Tier",
                options={"choices": [{"value": "gold"}, {"value": "silver"}]},
            )
            add(
                actor=admin,
                object_key="customers.account",
                name="erp_code",
                type="text",
                label_en="ERP",
                unique=True,
            )
            if rich:
                _rich_metadata(admin)
            _token, secret = tokens.issue_token(admin, name="scenario", scopes=["read", "write"])
        yield tenant, secret
    finally:
        connection.set_schema_to_public()
        template.drop_schema(tenant.schema_name)
        Tenant.objects.filter(pk=tenant.pk).delete()


def _rich_metadata(admin) -> None:
    add = metadata.add_field
    account = "customers.account"
    add(actor=admin, object_key=account, name="score", type="number", label_en="Score")
    add(actor=admin, object_key=account, name="renewal", type="date", label_en="Renewal")
    add(actor=admin, object_key=account, name="credit", type="decimal", label_en="Credit")
    add(actor=admin, object_key=account, name="vip", type="boolean", label_en="VIP")
    add(
        actor=admin,
        object_key=account,
        name="channels",
        type="multi_select",
        label_en="Channels",
        options={"choices": [{"value": "web"}, {"value": "shop"}]},
    )
    metadata.create_object(actor=admin, name="project", label_en="Project")
    project = "custom.project"
    add(actor=admin, object_key=project, name="budget", type="number", label_en="Budget")
    add(actor=admin, object_key=project, name="due", type="date", label_en="Due")
    add(
        actor=admin,
        object_key=project,
        name="stage",
        type="select",
        label_en="Stage",
        required=True,
        options={"choices": [{"value": "plan"}, {"value": "build"}, {"value": "done"}]},
    )
    add(
        actor=admin,
        object_key=project,
        name="account",
        type="lookup",
        label_en="Account",
        options={"target": account},
    )
    add(actor=admin, object_key=project, name="code", type="text", label_en="Code", unique=True)


@pytest.fixture
def scenario_tenant(committed_db):
    """A committed tenant (the server's threads have their own connections) with two custom
    account fields and an integration token; dropped afterwards."""
    with committed_tenant("gamma", "Gamma 伽马") as made:
        yield made
