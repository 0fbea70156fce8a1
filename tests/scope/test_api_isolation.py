"""The isolation matrix of every door to records (issue 7), generated from the channel world of
tests/scope/conftest.py: brand staff, the dealer administrators of two sibling agents and of a
retailer under each, and another tenant, against records of five objects on every node.

For each door (REST, GraphQL, the CSV export, filters through relations) and each caller, every
record is visible exactly where the rules say (`ChannelWorld.sees`), for both values of the
tenant's "dealers see their child dealers' records"; every write on a record outside the
caller's scope answers exactly as the same write on a record that does not exist, and changes
nothing, while the same writes inside the scope go through.

One test per door and setting loops over callers and records and collects every mismatch into
one message, so the few thousand checks cost a few hundred requests.
"""

import csv
import io
import json

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from access.principal import forget
from metadata.transfer import export_records
from tests.conftest import signed_in, tenant_client
from tests.scope.conftest import DEALERS, MARK, OBJECTS, ChannelWorld, allow_children

RECORDS = "/api/v1/records"
MISSING = 999_999_999  # no record has this id: a refusal must read exactly like its answer
SETTINGS = pytest.mark.parametrize("children", [True, False], ids=["children seen", "own node only"])
# The writes each object's API offers on one record (contacts are only added and deleted, deals
# not deleted, orders changed through their workflow's actions).
WRITES = {
    "customers.account": ("update", "delete", "claim", "bulk"),
    "customers.contact": ("delete",),
    "sales.opportunity": ("update", "bulk"),
    "orders.order": ("cancel",),
    "custom.project": ("update", "delete", "bulk"),
}
CHANGED = f"{MARK}changed"
# Inside the scope the writes go through, or meet the record's own rules (an account others refer
# to is not deleted, an owned one not claimed): the refusals outside are the scope's doing.
REST_ALLOWED = {"update": {200}, "bulk": {200}, "delete": {204, 409}, "claim": {200, 409}, "cancel": {200}}
GRAPHQL_ALLOWED = {"delete": {"conflict"}, "claim": {"conflict"}}


def state(world: ChannelWorld) -> dict:
    """Every row of every object under test, all columns: what a refused write must not touch."""
    with tenant_context(world.tenant):
        return {key: list(model.objects.order_by("pk").values()) for key, (model, _f) in OBJECTS.items()}


def rest(client, method: str, path: str, body=None):
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(path, data=data, content_type="application/json")


def rest_write(client, door: str, key: str, pk: int):
    base = f"{RECORDS}/{key}"
    if door == "update":
        return rest(client, "patch", f"{base}/{pk}", {"name": CHANGED})
    if door == "delete":
        return rest(client, "delete", f"{base}/{pk}")
    if door == "bulk":
        return rest(
            client, "post", f"{base}/bulk", {"mode": "update", "records": [{"id": pk, "name": CHANGED}]}
        )
    return rest(client, "post", f"{base}/{pk}/{door}")


def answer(response) -> tuple:
    """What a caller learns from a response."""
    return response.status_code, response.content.decode()


def graphql(client, document: str, variables=None):
    body = json.dumps({"query": document, "variables": variables or {}})
    return client.post("/graphql", data=body, content_type="application/json")


def nodes(body: dict, field: str) -> list[dict]:
    return [edge["node"] for edge in body["data"][field]["edges"]]


def exported_ids(user, key: str, **options) -> set[int]:
    text = "".join(export_records(user, key, columns=["id"], **options))
    return {int(row["id"]) for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}


@SETTINGS
def test_rest_lists_and_reads_show_exactly_the_callers_records(channel_world, children):
    world = channel_world
    allow_children(world, children)
    wrong = []
    for caller in world.callers.values():
        client = signed_in(world.tenant, caller.user)
        for key in OBJECTS:
            expected = world.expected(caller, key, children=children)
            listed = client.get(f"{RECORDS}/{key}", {"limit": 500})
            got = {row["id"] for row in listed.json()["results"]} if listed.status_code == 200 else None
            if got != expected:
                wrong.append(f"{caller.name} lists {key}: {listed.status_code} {got} != {expected}")
            missing = answer(client.get(f"{RECORDS}/{key}/{MISSING}"))
            for record in world.of(key):
                response = client.get(f"{RECORDS}/{key}/{record.pk}")
                if record.pk not in expected:
                    if answer(response) != missing:  # a 404 like any missing record's, never a 403
                        wrong.append(f"{caller.name} reads {record.name}: {answer(response)} != {missing}")
                elif response.status_code != 200 or response.json()["id"] != record.pk:
                    wrong.append(f"{caller.name} reads {record.name}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


@SETTINGS
def test_graphql_lists_and_reads_show_exactly_the_callers_records(channel_world, children):
    world = channel_world
    allow_children(world, children)
    wrong = []
    for caller in world.callers.values():
        client = signed_in(world.tenant, caller.user)
        for key, (_model, root) in OBJECTS.items():
            expected = world.expected(caller, key, children=children)
            ones = " ".join(f"r{record.pk}: {root}(id: {record.pk}) {{ id }}" for record in world.of(key))
            response = graphql(
                client, f"{{ list: {root}_list(first: 500) {{ edges {{ node {{ id }} }} }} {ones} }}"
            )
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                wrong.append(f"{caller.name} queries {key}: {response.status_code} {body.get('errors')}")
                continue
            got = {node["id"] for node in nodes(body, "list")}
            if got != expected:
                wrong.append(f"{caller.name} lists {key}: {got} != {expected}")
            for record in world.of(key):
                found = body["data"][f"r{record.pk}"]  # null when not the caller's to see
                if (found is not None) != (record.pk in expected):
                    wrong.append(f"{caller.name} reads {record.name}: {found}")
    assert not wrong, "\n".join(wrong)


@SETTINGS
def test_exports_hold_exactly_the_callers_records(channel_world, children):
    world = channel_world
    allow_children(world, children)
    wrong = []
    with tenant_context(world.tenant):
        for caller in world.callers.values():
            forget(caller.user)
            for key in OBJECTS:
                got, expected = exported_ids(caller.user, key), world.expected(caller, key, children=children)
                if got != expected:
                    wrong.append(f"{caller.name} exports {key}: {got} != {expected}")
    assert not wrong, "\n".join(wrong)


@SETTINGS
def test_rest_writes_outside_the_scope_are_not_found_and_change_nothing(channel_world, children):
    world = channel_world
    allow_children(world, children)
    wrong = []
    for name in DEALERS:
        caller = world.callers[name]
        client = signed_in(world.tenant, caller.user)
        for key, doors in WRITES.items():
            outside = [r for r in world.of(key) if not world.sees(caller, r, children=children)]
            for door in doors:
                before = state(world)
                missing = answer(rest_write(client, door, key, MISSING))
                if door != "bulk" and missing[0] != 404:
                    wrong.append(f"{name} {door}s a missing {key}: {missing}")
                for record in outside:
                    seen = answer(rest_write(client, door, key, record.pk))
                    if seen != missing:
                        wrong.append(f"{name} {door}s {record.name}: {seen} != {missing}")
                if state(world) != before:
                    wrong.append(f"{name} {door}s {key} outside its scope: the data changed")
    assert not wrong, "\n".join(wrong)


@SETTINGS
def test_rest_writes_inside_the_scope_go_through(channel_world, children):
    world = channel_world
    allow_children(world, children)
    wrong = []
    for caller in world.callers.values():
        client = signed_in(world.tenant, caller.user)
        for key, doors in WRITES.items():
            for record in world.of(key):
                if not world.sees(caller, record, children=children):
                    continue
                for door in doors:
                    with transaction.atomic():
                        response = rest_write(client, door, key, record.pk)
                        transaction.set_rollback(True)
                    if response.status_code not in REST_ALLOWED[door]:
                        wrong.append(f"{caller.name} {door}s {record.name}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def mutation(door: str, root: str, pk: int, alias: str) -> str:
    errors = "errors { field code message }"
    if door == "update":
        change = f'input: {{name: "{CHANGED}"}}'
        return f"{alias}: update_{root}(id: {pk}, {change}) {{ record {{ id }} {errors} }}"
    if door == "delete":
        return f"{alias}: delete_{root}(id: {pk}) {{ id {errors} }}"
    if door == "bulk":
        records = f'[{{id: {pk}, name: "{CHANGED}"}}]'
        return f'{alias}: bulk_{root}(mode: "update", records: {records}) {{ results {errors} }}'
    return f"{alias}: {door}_{root}(id: {pk}) {{ object record {errors} }}"


def mutations(door: str, key: str, records, *, missing: bool = False) -> str:
    root = OBJECTS[key][1]
    fields = [mutation(door, root, MISSING, "missing")] if missing else []
    fields += [mutation(door, root, record.pk, f"r{record.pk}") for record in records]
    return "mutation { " + " ".join(fields) + " }"


def payload(body: dict, alias: str) -> str:
    return json.dumps(body["data"][alias], ensure_ascii=False, sort_keys=True)


@SETTINGS
def test_graphql_mutations_outside_the_scope_are_not_found_and_change_nothing(channel_world, children):
    world = channel_world
    allow_children(world, children)
    wrong = []
    for name in DEALERS:
        caller = world.callers[name]
        client = signed_in(world.tenant, caller.user)
        for key, doors in WRITES.items():
            outside = [r for r in world.of(key) if not world.sees(caller, r, children=children)]
            for door in doors:
                before = state(world)
                response = graphql(client, mutations(door, key, outside, missing=True))
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    wrong.append(f"{name} {door}s {key}: {response.status_code} {body}")
                    continue
                missing = payload(body, "missing")
                if door != "bulk" and '"not-found"' not in missing:
                    wrong.append(f"{name} {door}s a missing {key}: {missing}")
                for record in outside:
                    if payload(body, f"r{record.pk}") != missing:
                        wrong.append(f"{name} {door}s {record.name}: {payload(body, f'r{record.pk}')}")
                if state(world) != before:
                    wrong.append(f"{name} {door}s {key} outside its scope: the data changed")
    assert not wrong, "\n".join(wrong)


@SETTINGS
def test_graphql_mutations_inside_the_scope_go_through(channel_world, children):
    world = channel_world
    allow_children(world, children)
    wrong = []
    for caller in world.callers.values():
        client = signed_in(world.tenant, caller.user)
        for key, doors in WRITES.items():
            inside = [r for r in world.of(key) if world.sees(caller, r, children=children)]
            for door in doors:
                with transaction.atomic():
                    body = graphql(client, mutations(door, key, inside)).json()
                    transaction.set_rollback(True)
                for record in inside:
                    errors = (body["data"][f"r{record.pk}"] or {}).get("errors", [])
                    if not {error["code"] for error in errors} <= GRAPHQL_ALLOWED.get(door, set()):
                        wrong.append(f"{caller.name} {door}s {record.name}: {errors}")
    assert not wrong, "\n".join(wrong)


def test_another_tenant_reaches_nothing_through_any_door(channel_world, beta):
    """beta's token on alpha's host is not signed in there (401); beta's admin on beta's own host
    asking for alpha's ids finds nothing of alpha's, and neither changes anything."""
    world = channel_world
    token = tenant_client(world.tenant)
    token.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.other_token}"
    at_home = signed_in(beta)
    before = state(world)
    wrong = []
    for key, doors in WRITES.items():
        root = OBJECTS[key][1]
        listed = token.get(f"{RECORDS}/{key}")
        if listed.status_code != 401:
            wrong.append(f"beta's token lists {key}: {listed.status_code}")
        for record in world.of(key):
            calls = {
                "list": lambda c, k=key: c.get(f"{RECORDS}/{k}", {"limit": 500}),
                "read": lambda c, k=key, r=record: c.get(f"{RECORDS}/{k}/{r.pk}"),
                "query": lambda c, r=record, f=root: graphql(c, f"{{ {f}(id: {r.pk}) {{ id }} }}"),
                "mutate": lambda c, k=key, r=record: graphql(c, mutations(WRITES[k][0], k, [r])),
            }
            calls |= {door: lambda c, d=door, k=key, r=record: rest_write(c, d, k, r.pk) for door in doors}
            for door, call in calls.items():
                refused = call(token)
                if refused.status_code != 401 or world.leaked(refused.content.decode()):
                    wrong.append(f"beta's token {door}s {record.name}: {refused.status_code}")
                other = call(at_home)
                if world.leaked(other.content.decode()) or (door == "read" and other.status_code != 404):
                    wrong.append(f"beta at home {door}s {record.name}: {other.status_code}")
    assert state(world) == before
    assert not wrong, "\n".join(wrong)


# --- relations: a record the caller sees may point at one it does not --------------------------

RELATED = ("customers.contact", "sales.opportunity", "orders.order")
BY_ACCOUNT = (
    "query($f: GenericScalar) {{ {root}_list(filter: $f, first: 500) {{ edges {{ node {{ id }} }} }} }}"
)
FOLLOWED = "{{ {root}_list(first: 500) {{ edges {{ node {{ id account_record {{ id }} }} }} }} }}"


@SETTINGS
def test_relations_reveal_nothing_of_records_out_of_scope(channel_world, children):
    """Filtering contacts, deals and orders by their account's name, through each door, finds only
    records whose account the caller sees: a condition on an account out of scope never holds,
    so no filter reads its fields. GraphQL's `account_record` of such an account reads as null."""
    world = channel_world
    allow_children(world, children)
    accounts = {record.pk: record for record in world.of("customers.account")}
    wrong = []
    for caller in world.callers.values():
        client = signed_in(world.tenant, caller.user)
        forget(caller.user)
        for key in RELATED:
            root = OBJECTS[key][1]
            mine = [r for r in world.of(key) if world.sees(caller, r, children=children)]
            followed = {
                n["id"]: n["account_record"]
                for n in nodes(graphql(client, FOLLOWED.format(root=root)).json(), f"{root}_list")
            }
            for record in mine:
                if (followed[record.pk] is not None) != world.sees(
                    caller, accounts[record.account_id], children=children
                ):
                    wrong.append(f"{caller.name} follows {record.name} to {followed[record.pk]}")
            for account in accounts.values():
                condition = {"field": "account.name", "op": "eq", "value": account.name}
                expected = set()
                if world.sees(caller, account, children=children):
                    expected = {r.pk for r in mine if r.account_id == account.pk}
                listed = client.get(f"{RECORDS}/{key}", {"filter": json.dumps(condition), "limit": 500})
                queried = graphql(client, BY_ACCOUNT.format(root=root), {"f": condition}).json()
                with tenant_context(world.tenant):
                    exported = exported_ids(caller.user, key, filter=condition)
                for door, found in (
                    ("REST", {row["id"] for row in listed.json()["results"]}),
                    ("GraphQL", {node["id"] for node in nodes(queried, f"{root}_list")}),
                    ("export", exported),
                ):
                    if found != expected:
                        wrong.append(f"{caller.name} {door} {key} by {account.name}: {found} != {expected}")
    assert not wrong, "\n".join(wrong)
