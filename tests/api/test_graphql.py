"""GraphQL: each tenant's schema generated from its metadata, lists in the filter language with
Relay connections, relations loaded per page, mutations over the same operations as REST, limits,
and scopes."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from api import tokens
from api.graphql import limits
from api.graphql.schema import BASE_SCHEMA_FILE, printed_base_schema, tenant_schema
from crm.customers.models import Account, Contact
from metadata import services as metadata
from tests.conftest import admin_of, signed_in, tenant_client

# Tenant, session, user, metadata version, the user's rights, scope and shares (7), the page,
# and the related accounts of the whole page: none of them per row.
PAGE_QUERIES = 15


def gql(client, query: str, variables=None, **headers):
    body = json.dumps({"query": query, "variables": variables or {}})
    return client.post("/graphql", data=body, content_type="application/json", headers=headers)


@pytest.fixture
def api(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        metadata.add_field(
            actor=admin,
            object_key="customers.account",
            name="tier",
            type="select",
            label_en="Tier",
            options={"choices": [{"value": "gold"}, {"value": "silver"}]},
        )
        metadata.add_field(
            actor=admin, object_key="customers.account", name="score", type="number", label_en="Score"
        )
        metadata.add_field(
            actor=admin, object_key="customers.account", name="since", type="date", label_en="Since"
        )
    return signed_in(alpha, admin)


def test_custom_fields_are_typed_in_their_tenants_schema_only(alpha, beta, api):
    introspect = '{ __type(name: "AccountCustom") { fields { name type { name } } } }'
    fields = {f["name"]: f["type"]["name"] for f in gql(api, introspect).json()["data"]["__type"]["fields"]}
    assert fields == {"tier": "String", "score": "Int", "since": "Date"}
    theirs = gql(signed_in(beta), introspect).json()["data"]["__type"]
    assert theirs is None  # beta has no custom account fields: no such type


def test_lists_filter_sort_and_page_with_cursors(alpha, api):
    for score in range(1, 6):
        created = gql(
            api,
            "mutation($input: AccountInput!) { create_account(input: $input) { errors { field } } }",
            {"input": {"name": f"G{score}", "custom": {"score": score, "since": f"2026-01-0{score}"}}},
        ).json()
        assert created["data"]["create_account"]["errors"] == [], created
    query = """
    query($after: String) {
      account_list(filter: {field: "custom.score", op: "gte", value: 2}, sort: ["-custom.score"],
                   first: 2, after: $after) {
        edges { cursor node { name custom { score since } } }
        page_info { has_next_page end_cursor }
      }
    }"""
    seen, after = [], None
    while True:
        body = gql(api, query, {"after": after}).json()
        assert "errors" not in body, body
        page = body["data"]["account_list"]
        seen += [(edge["node"]["name"], edge["node"]["custom"]["since"]) for edge in page["edges"]]
        if not page["page_info"]["has_next_page"]:
            break
        after = page["page_info"]["end_cursor"]
    assert seen == [("G5", "2026-01-05"), ("G4", "2026-01-04"), ("G3", "2026-01-03"), ("G2", "2026-01-02")]


def test_related_records_load_per_page_not_per_row(alpha, api):
    with tenant_context(alpha):
        owner = admin_of(alpha)
        accounts = []
        for n in range(501):
            account = Account(name=f"Parent {n}")
            account.place(owner=owner)
            accounts.append(account)
        Account.objects.bulk_create(accounts)
        contacts = []
        for n, account in enumerate(accounts):
            contact = Contact(account=account, name=f"Contact {n}")
            contact.place(owner=owner)
            contacts.append(contact)
        Contact.objects.bulk_create(contacts)
    query = "query($n: Int) { contact_list(first: $n) { edges { node { name account_record { name } } } } }"
    gql(api, query, {"n": 1})  # warm the schema cache
    counts = {}
    for size in (50, 500):
        with CaptureQueriesContext(connection) as queries:
            body = gql(api, query, {"n": size}).json()
        edges = body["data"]["contact_list"]["edges"]
        assert len(edges) == size
        assert all(
            e["node"]["account_record"]["name"] == e["node"]["name"].replace("Contact", "Parent")
            for e in edges
        )
        counts[size] = [q["sql"] for q in queries.captured_queries]
    assert len(counts[50]) == len(counts[500]) <= PAGE_QUERIES, "\n".join(counts[500])


def test_mutations_share_the_rest_operations(alpha, api):
    create = """mutation($input: AccountInput!) {
      create_account(input: $input) { record { id name custom { tier } } etag errors { field code message } }
    }"""
    bad = gql(api, create, {"input": {"name": "", "custom": {"tier": "bronze"}}}).json()
    assert {e["field"] for e in bad["data"]["create_account"]["errors"]} == {"name", "custom.tier"}
    made = gql(api, create, {"input": {"name": "华辰", "custom": {"tier": "gold"}}}).json()["data"][
        "create_account"
    ]
    pk, etag = made["record"]["id"], made["etag"]
    update = """mutation($id: Int!, $input: AccountInput!, $tag: String) {
      update_account(id: $id, input: $input, if_match: $tag) { record { name } etag errors { code } }
    }"""
    changed = gql(api, update, {"id": pk, "input": {"name": "华辰家电"}, "tag": etag}).json()
    assert changed["data"]["update_account"]["record"] == {"name": "华辰家电"}
    stale = gql(api, update, {"id": pk, "input": {"name": "Lost"}, "tag": etag}).json()
    assert stale["data"]["update_account"]["errors"] == [{"code": "precondition-failed"}]
    with tenant_context(alpha):
        assert Account.objects.get(pk=pk).name == "华辰家电"
        pooled = Account.objects.create(name="Pooled")
    claimed = gql(
        api,
        "mutation($id: Int!) { claim_account(id: $id) { object record errors { code } } }",
        {"id": pooled.pk},
    )
    assert claimed.json()["data"]["claim_account"]["record"]["owner"] == admin_of(alpha).pk
    deleted = gql(api, "mutation($id: Int!) { delete_account(id: $id) { id errors { code } } }", {"id": pk})
    assert deleted.json()["data"]["delete_account"] == {"id": pk, "errors": []}


def test_reading_errors_carry_field_errors(api):
    body = gql(
        api, '{ account_list(filter: {field: "custom.nope", op: "eq", value: 1}) { edges { cursor } } }'
    )
    error = body.json()["errors"][0]
    assert error["extensions"]["errors"][0]["field"] == "filter.field"
    assert (
        gql(api, "{ account_list(first: 501) { edges { cursor } } }").json()["errors"][0]["extensions"][
            "status"
        ]
        == 400
    )


def test_scope_applies_to_lists_records_and_relations(alpha, beta, api):
    seller = _rep(alpha)
    with tenant_context(alpha):
        hidden = Account(name="Not the rep's")
        hidden.place(owner=admin_of(alpha))
        hidden.save()
        contact = Contact(account=hidden, name="The rep's contact")
        contact.place(owner=seller)
        contact.save()
    client = signed_in(alpha, seller)
    names = gql(client, "{ account_list { edges { node { name } } } }").json()["data"]["account_list"][
        "edges"
    ]
    assert names == []
    one = gql(client, "query($id: Int!) { account(id: $id) { name } }", {"id": hidden.pk}).json()
    assert one["data"]["account"] is None
    related = gql(client, "{ contact_list { edges { node { name account account_record { name } } } } }")
    assert related.json()["data"]["contact_list"]["edges"] == [
        {"node": {"name": "The rep's contact", "account": hidden.pk, "account_record": None}}
    ]
    other = gql(signed_in(beta), "query($id: Int!) { account(id: $id) { name } }", {"id": hidden.pk}).json()
    assert other["data"]["account"] is None


def test_limits_scopes_and_methods(alpha, api, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DEPTH", 2)
    deep = gql(api, "{ contact_list { edges { node { account_record { name } } } } }")
    assert deep.status_code == 400 and "nested" in deep.json()["errors"][0]["message"]
    monkeypatch.setattr(limits, "MAX_DEPTH", 10)
    costly = gql(api, "{ account_list(first: 500) { edges { node { id name industry phone email } } } }")
    assert costly.status_code == 200
    monkeypatch.setattr(limits, "MAX_COST", 1000)
    assert gql(api, "{ account_list(first: 500) { edges { node { id name } } } }").status_code == 400

    with tenant_context(alpha):
        _token, text = tokens.issue_token(admin_of(alpha), name="ro", scopes=["read"])
    reader = tenant_client(alpha)
    auth = {"authorization": f"Bearer {text}"}
    assert gql(reader, "{ account_list { edges { cursor } } }", **auth).status_code == 200
    refused = gql(reader, 'mutation { create_account(input: {name: "x"}) { errors { code } } }', **auth)
    assert refused.status_code == 403
    with tenant_context(alpha):
        assert not Account.objects.filter(name="x").exists()
    via_get = api.get("/graphql", {"query": 'mutation { create_account(input: {name: "y"}) { etag } }'})
    assert via_get.status_code == 405
    assert gql(tenant_client(alpha), "{ account_list { edges { cursor } } }").status_code in (401, 403)


def _rep(alpha) -> User:
    with tenant_context(alpha):
        return User.objects.create(
            email="gql.rep@alpha.example", full_name="rep", role=Role.objects.get(code="sales_rep")
        )


def test_the_committed_base_schema_is_current():
    assert printed_base_schema() == BASE_SCHEMA_FILE.read_text(), (
        "api/graphql/base.graphql is stale: run `python manage.py graphql_base` and review the diff"
    )


def test_schemas_are_cached_per_metadata_version(alpha):
    with tenant_context(alpha):
        first = tenant_schema()
        assert tenant_schema() is first
        metadata.add_field(
            actor=admin_of(alpha),
            object_key="customers.account",
            name="region",
            type="text",
            label_en="Region",
        )
        rebuilt = tenant_schema()
        assert rebuilt is not first
        assert "region" in rebuilt.get_type("AccountCustom").fields


def test_a_browser_gets_graphiql_served_without_a_cdn(alpha, api):
    page = api.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "graphiql.min.js" in html and "graphene_django/graphiql.js" in html
    assert "https://" not in html and "http://" not in html
    anonymous = tenant_client(alpha).get("/graphql", headers={"accept": "text/html"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
