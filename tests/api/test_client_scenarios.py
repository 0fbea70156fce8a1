"""Clients over real HTTP: a plain GraphQL client (and, with the OpenAPI document, a generated
REST client) complete the same scripted scenario against a live server — create an account with
custom fields, filter, refuse an update with a stale ETag, bulk upsert."""

import json
import threading
import urllib.request
from urllib.error import HTTPError

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from api import tokens
from metadata import services as metadata
from tenants import services
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD, host


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(committed_db):
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def scenario_tenant(committed_db):
    """A committed tenant (the server's threads have their own connections) with two custom
    account fields and an integration token; dropped afterwards."""
    tenant = services.sign_up(
        company_name="Gamma 伽马",
        slug="gamma",
        admin_name="Gao",
        email="gao@gamma.example",
        password=PASSWORD,
    )
    with tenant_context(tenant):
        admin = User.objects.get(is_superuser=True)
        metadata.add_field(
            actor=admin,
            object_key="customers.account",
            name="tier",
            type="select",
            label_en="Tier",
            options={"choices": [{"value": "gold"}, {"value": "silver"}]},
        )
        metadata.add_field(
            actor=admin,
            object_key="customers.account",
            name="erp_code",
            type="text",
            label_en="ERP",
            unique=True,
        )
        _token, secret = tokens.issue_token(admin, name="scenario", scopes=["read", "write"])
    yield tenant, secret
    connection.set_schema_to_public()
    template.drop_schema(tenant.schema_name)
    Tenant.objects.filter(pk=tenant.pk).delete()


def graphql(base: str, tenant, secret: str, query: str, variables=None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        base + "/graphql",
        data=body,
        headers={
            "Host": host(tenant.slug),
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except HTTPError as error:
        raise AssertionError(error.read().decode()) from error


def test_a_plain_graphql_client_completes_the_scenario(http_server, scenario_tenant):
    tenant, secret = scenario_tenant

    def call(query, variables=None):
        return graphql(http_server, tenant, secret, query, variables)

    created = call(
        """mutation($input: AccountInput!) {
             create_account(input: $input) {
               record { id name custom { tier erp_code } } etag errors { field }
             }
           }""",
        {"input": {"name": "杭州华辰", "custom": {"tier": "gold", "erp_code": "E-1"}}},
    )["data"]["create_account"]
    assert created["errors"] == [] and created["record"]["custom"] == {"tier": "gold", "erp_code": "E-1"}
    pk, etag = created["record"]["id"], created["etag"]

    found = call(
        '{ account_list(filter: {field: "custom.tier", op: "eq", value: "gold"}) { edges { node { id } } } }'
    )
    assert [edge["node"]["id"] for edge in found["data"]["account_list"]["edges"]] == [pk]

    update = """mutation($id: Int!, $tag: String, $name: String) {
      update_account(id: $id, input: {name: $name}, if_match: $tag) { etag errors { code } }
    }"""
    first = call(update, {"id": pk, "tag": etag, "name": "杭州华辰电器"})["data"]["update_account"]
    assert first["errors"] == []
    stale = call(update, {"id": pk, "tag": etag, "name": "Lost update"})["data"]["update_account"]
    assert stale["errors"] == [{"code": "precondition-failed"}]

    upserted = call(
        """mutation($records: GenericScalar!) {
             bulk_account(mode: "upsert", key: "custom.erp_code", records: $records) {
               results errors { field }
             }
           }""",
        {
            "records": [
                {"name": "杭州华辰电器 (ERP)", "custom": {"erp_code": "E-1"}},
                {"name": "宁波新客户", "custom": {"erp_code": "E-2", "tier": "silver"}},
            ]
        },
    )["data"]["bulk_account"]
    assert upserted["errors"] == []
    assert [(r["status"], r["id"] == pk) for r in upserted["results"]] == [(200, True), (201, False)]
    names = call(
        '{ account_list(sort: ["custom.erp_code"]) { edges { node { name custom { erp_code } } } } }'
    )
    assert [e["node"]["name"] for e in names["data"]["account_list"]["edges"]] == [
        "杭州华辰电器 (ERP)",
        "宁波新客户",
    ]
