"""Field permissions through the doors a client uses: REST, GraphQL and the CSV export.

The services' rules (an allow-list once set, hidden fields unknown, read-only ones refused) are
tested in tests/scope/test_scope.py and tests/metadata/test_custom_fields.py; here a dealer whose
role may see an account's name, phone and custom tier, and change only the name, meets them
through each door: a hidden value never appears in an answer, cannot be selected, sorted or
filtered on (also through a relation, from a contact), and nothing it may not change is changed.
"""

import json

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from access import services as access
from access.principal import forget
from accounts.models import Role
from crm.customers.models import Account
from metadata import services as metadata
from metadata.transfer import export_records
from tests.conftest import signed_in
from tests.scope.conftest import FULL, MARK, ChannelWorld

ACCOUNTS = "/api/v1/records/customers.account"
CONTACTS = "/api/v1/records/customers.contact"
SECRETS = ("行业机密 SECRET-INDUSTRY", "SECRET-CUSTOM-VALUE")
READABLE = {"id", "created_at", "updated_at", "name", "phone", "custom"}
HIDDEN_FILTERS = [
    {"field": "industry", "op": "eq", "value": SECRETS[0]},
    {"field": "custom.secret", "op": "starts_with", "value": "SECRET"},
]
# From a contact, whose fields the role may all read, to the account's hidden ones.
HIDDEN_THROUGH_A_RELATION = [
    {"field": "account.industry", "op": "eq", "value": SECRETS[0]},
    {"field": "account.custom.secret", "op": "starts_with", "value": "SECRET"},
]


@pytest.fixture
def hidden(channel_world: ChannelWorld):
    """Agent A's pooled account with a hidden industry and custom secret, a readable phone and
    custom tier; the dealer administrators may change its name only."""
    world = channel_world
    admin = world.callers["brand"].user
    with tenant_context(world.tenant):
        for name in ("tier", "secret"):
            metadata.add_field(
                actor=admin, object_key="customers.account", name=name, type="text", label_en=name
            )
        access.set_object_permission(
            actor=admin,
            role=Role.objects.get(code="dealer_admin"),
            object="customers.account",
            actions=FULL,
            fields={"name": "edit", "phone": "read", "custom.tier": "read"},
        )
        account = Account.objects.get(name=f"{MARK}account@A")
        Account.objects.filter(pk=account.pk).update(
            industry=SECRETS[0], phone="+8613800138000", custom={"tier": "gold", "secret": SECRETS[1]}
        )
        forget(world.callers["agent A"].user)
    return world, account.pk


def stored(world, pk) -> dict:
    with tenant_context(world.tenant):
        return Account.objects.filter(pk=pk).values().get()


def no_secret(response) -> bool:
    text = response.content.decode()
    return not any(secret in text for secret in SECRETS)


def send(client, method: str, path: str, body=None):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def test_rest_shows_and_changes_only_the_fields_the_role_allows(hidden):
    world, pk = hidden
    client = signed_in(world.tenant, world.callers["agent A"].user)
    listed = client.get(ACCOUNTS)
    assert listed.status_code == 200 and no_secret(listed)
    for row in listed.json()["results"]:
        assert set(row) <= READABLE and set(row.get("custom", {})) <= {"tier"}, row
    one = client.get(f"{ACCOUNTS}/{pk}")
    assert one.status_code == 200 and no_secret(one)
    assert {k: one.json()[k] for k in ("name", "phone", "custom")} == {
        "name": f"{MARK}account@A",
        "phone": "+8613800138000",
        "custom": {"tier": "gold"},
    }
    # Naming a hidden field anywhere reads as naming no field: 400, and the value stays unknown.
    refused = [
        client.get(ACCOUNTS, {"fields": "name,industry"}),
        client.get(ACCOUNTS, {"fields": "custom.secret"}),
        client.get(ACCOUNTS, {"sort": "industry"}),
        *(client.get(ACCOUNTS, {"filter": json.dumps(f)}) for f in HIDDEN_FILTERS),
        *(client.get(CONTACTS, {"filter": json.dumps(f)}) for f in HIDDEN_THROUGH_A_RELATION),
    ]
    assert [r.status_code for r in refused] == [400] * len(refused)
    assert all(no_secret(r) for r in refused)

    before = stored(world, pk)
    for body in ({"phone": "13900139000"}, {"industry": "changed"}, {"custom": {"secret": "x"}},
                 {"custom": {"tier": "silver"}}):  # fmt: skip
        changed = send(client, "patch", f"{ACCOUNTS}/{pk}", body)
        assert changed.status_code == 400 and no_secret(changed), (body, changed.content)
        fields = {error["field"] for error in changed.json()["errors"]}
        assert fields == {
            next(iter(body)) if "custom" not in body else f"custom.{next(iter(body['custom']))}"
        }
    bulk = send(client, "post", f"{ACCOUNTS}/bulk", {"mode": "update", "records": [{"id": pk, "phone": "1"}]})
    assert bulk.status_code == 400 and no_secret(bulk)
    assert stored(world, pk) == before

    renamed = send(client, "patch", f"{ACCOUNTS}/{pk}", {"name": "改名 renamed"})
    assert renamed.status_code == 200 and no_secret(renamed)
    after = stored(world, pk)
    assert after["name"] == "改名 renamed"
    assert (after["industry"], after["phone"], after["custom"]) == (
        before["industry"],
        before["phone"],
        before["custom"],
    )


def graphql(client, query: str, variables=None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}})
    response = client.post("/graphql", data=body, content_type="application/json")
    assert no_secret(response), response.content
    return response.json()


def test_graphql_shows_and_changes_only_the_fields_the_role_allows(hidden):
    world, pk = hidden
    client = signed_in(world.tenant, world.callers["agent A"].user)
    one = graphql(client, f"{{ account(id: {pk}) {{ name phone custom {{ tier }} }} }}")
    assert one == {
        "data": {
            "account": {"name": f"{MARK}account@A", "phone": "+8613800138000", "custom": {"tier": "gold"}}
        }
    }
    for query, variables in [
        (f"{{ account(id: {pk}) {{ name industry }} }}", None),
        (f"{{ account(id: {pk}) {{ custom {{ secret }} }} }}", None),
        ("{ account_list { edges { node { id industry } } } }", None),
        ('{ account_list(sort: ["industry"]) { edges { node { id } } } }', None),
        ("{ contact_list { edges { node { id account_record { industry } } } } }", None),
        *(
            ("query($f: GenericScalar) { account_list(filter: $f) { edges { node { id } } } }", {"f": f})
            for f in HIDDEN_FILTERS
        ),
        *(
            ("query($f: GenericScalar) { contact_list(filter: $f) { edges { node { id } } } }", {"f": f})
            for f in HIDDEN_THROUGH_A_RELATION
        ),
    ]:
        answer = graphql(client, query, variables)
        assert answer.get("errors"), (query, answer)

    before = stored(world, pk)
    for change, field in [
        ('{phone: "13900139000"}', "phone"),
        ('{custom: {secret: "x"}}', "custom.secret"),
        ('{custom: {tier: "silver"}}', "custom.tier"),
    ]:
        answer = graphql(
            client, f"mutation {{ update_account(id: {pk}, input: {change}) {{ errors {{ field }} }} }}"
        )
        assert answer["data"]["update_account"]["errors"] == [{"field": field}], answer
    assert stored(world, pk) == before
    rename = f'update_account(id: {pk}, input: {{name: "改名"}}) {{ record {{ name }} errors {{ field }} }}'
    renamed = graphql(client, f"mutation {{ {rename} }}")
    assert renamed["data"]["update_account"] == {"record": {"name": "改名"}, "errors": []}
    assert stored(world, pk)["industry"] == SECRETS[0]


def test_exports_leave_hidden_fields_out(hidden):
    world, _pk = hidden
    dealer = world.callers["agent A"].user
    with tenant_context(world.tenant):
        text = "".join(export_records(dealer, "customers.account"))
        header = text.lstrip("\ufeff").splitlines()[0].split(",")
        assert set(header) <= READABLE - {"custom"} | {"custom.tier"} and "custom.tier" in header
        assert not any(secret in text for secret in SECRETS)
        for columns in (["industry"], ["name", "custom.secret"]):
            with pytest.raises(ValidationError):
                export_records(dealer, "customers.account", columns=columns)
        for condition in HIDDEN_FILTERS:
            with pytest.raises(ValidationError):
                export_records(dealer, "customers.account", filter=condition)
        for condition in HIDDEN_THROUGH_A_RELATION:
            with pytest.raises(ValidationError):
                export_records(dealer, "customers.contact", filter=condition)
