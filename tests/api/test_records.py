"""The REST records resource: CRUD with ETags, lists in the filter language with keyset pages,
field errors, idempotency keys, and every record through the one scope filter."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from api.idempotency import purge_expired_keys
from crm.customers import services as customers
from crm.customers.models import Account
from metadata import services as metadata
from metadata.models import CustomRecord
from tests.conftest import admin_of, signed_in, tenant_client

ACCOUNTS = "/api/v1/records/customers.account"
# Tenant, session, user, metadata version, the user's rights, scope and shares (7), the page, and
# one grouped query for the roll-up: none of them per row.
PAGE_QUERIES = 15


@pytest.fixture
def api(alpha):
    """A session client of alpha's admin, with two custom fields on accounts."""
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
    return signed_in(alpha, admin)


def send(client, method: str, path: str, body=None, **headers):
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(path, data=data, content_type="application/json", headers=headers)


def rep(alpha, email: str) -> User:
    with tenant_context(alpha):
        return User.objects.create(email=email, full_name=email, role=Role.objects.get(code="sales_rep"))


def test_create_read_update_delete_with_etags(alpha, api):
    created = send(api, "post", ACCOUNTS, {"name": "华辰家电", "custom": {"tier": "gold", "score": 7}})
    assert created.status_code == 201, created.content
    record = created.json()
    assert record["name"] == "华辰家电" and record["custom"] == {"tier": "gold", "score": 7}
    path = f"{ACCOUNTS}/{record['id']}"
    assert created["Location"] == path

    read = api.get(path)
    assert read.status_code == 200 and read.json() == record
    first_tag = read["ETag"]
    assert first_tag == created["ETag"]

    changed = send(api, "patch", path, {"custom": {"score": 8}}, if_match=first_tag)
    assert changed.status_code == 200, changed.content
    assert changed.json()["custom"] == {"tier": "gold", "score": 8}  # merged, tier kept
    assert changed["ETag"] != first_tag

    stale = send(api, "patch", path, {"name": "Lost update"}, if_match=first_tag)
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    assert stale.json()["type"].endswith("/precondition-failed")
    assert api.get(path).json()["name"] == "华辰家电"

    assert send(api, "delete", path, if_match=first_tag).status_code == 412
    assert send(api, "delete", path, if_match=changed["ETag"]).status_code == 204
    gone = api.get(path)
    assert gone.status_code == 404 and gone.json()["type"].endswith("/not-found")


def test_lists_filter_sort_select_and_page_without_gaps(alpha, api):
    for score in range(1, 8):
        send(api, "post", ACCOUNTS, {"name": f"Acct {score}", "custom": {"score": score % 4}})
    query = {
        "filter": json.dumps({"field": "custom.score", "op": "gte", "value": 1}),
        "sort": "-custom.score,name",
        "fields": "name,custom.score",
        "limit": 2,
    }
    seen, after = [], None
    while True:
        response = api.get(ACCOUNTS, {**query, **({"after": after} if after else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        assert all(set(row) == {"id", "name", "custom"} for row in body["results"])
        seen += [(row["custom"]["score"], row["name"]) for row in body["results"]]
        after = body["next"]
        if after is None:
            break
    assert seen == [(3, "Acct 3"), (3, "Acct 7"), (2, "Acct 2"), (2, "Acct 6"), (1, "Acct 1"), (1, "Acct 5")]


def test_bad_input_answers_field_by_field_and_saves_nothing(alpha, api):
    with tenant_context(alpha):
        before = Account.objects.count()
    body = {"name": 5, "owner": 1, "custom": {"score": "many", "nope": 1}, "colour": "red"}
    response = send(api, "post", ACCOUNTS, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"name", "owner", "custom.nope", "colour"}

    service_errors = send(api, "post", ACCOUNTS, {"name": "", "custom": {"score": "many", "tier": "bronze"}})
    assert service_errors.status_code == 400
    assert {e["field"] for e in service_errors.json()["errors"]} >= {"name", "custom.score", "custom.tier"}
    with tenant_context(alpha):
        assert Account.objects.count() == before

    for params, field in (
        ({"filter": "{not json"}, "filter"),
        ({"filter": json.dumps({"field": "custom.nope", "op": "eq", "value": 1})}, "filter.field"),
        ({"sort": "colour"}, "sort[0]"),
        ({"fields": "name,colour"}, "fields[1]"),
        ({"limit": "0"}, "limit"),
        ({"after": "garbage"}, "after"),
    ):
        listed = api.get(ACCOUNTS, params)
        assert listed.status_code == 400, (params, listed.content)
        assert field in {error["field"] for error in listed.json()["errors"]}, listed.json()


def test_records_outside_the_scope_are_not_found_and_stay_unchanged(alpha, beta, api):
    theirs = send(api, "post", ACCOUNTS, {"name": "Admin's customer"}).json()
    seller = rep(alpha, "rep@alpha.example")
    client = signed_in(alpha, seller)
    mine = send(client, "post", ACCOUNTS, {"name": "Rep's customer"})
    assert mine.status_code == 201, mine.content

    listed = client.get(ACCOUNTS).json()["results"]
    assert [row["name"] for row in listed] == ["Rep's customer"]
    path = f"{ACCOUNTS}/{theirs['id']}"
    assert client.get(path).status_code == 404
    assert send(client, "patch", path, {"name": "Taken"}).status_code == 404
    assert send(client, "delete", path).status_code == 404
    assert api.get(path).json()["name"] == "Admin's customer"

    # The same id on another tenant's host is another tenant's table: nothing there.
    other = signed_in(beta)
    assert other.get(path).status_code == 404


def test_idempotency_keys_replay_the_first_answer(alpha, api):
    body = {"name": "Once only"}
    first = send(api, "post", ACCOUNTS, body, idempotency_key="k-1")
    again = send(api, "post", ACCOUNTS, body, idempotency_key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    with tenant_context(alpha):
        assert Account.objects.filter(name="Once only").count() == 1
    reused = send(api, "post", ACCOUNTS, {"name": "Something else"}, idempotency_key="k-1")
    assert reused.status_code == 422
    # A failed write keeps no key: the corrected request goes through under the same key.
    assert send(api, "post", ACCOUNTS, {"name": ""}, idempotency_key="k-2").status_code == 400
    assert send(api, "post", ACCOUNTS, {"name": "Fixed"}, idempotency_key="k-2").status_code == 201


def test_custom_objects_are_resources_too(alpha, api):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        metadata.create_object(actor=admin, name="project", label_en="Project")
        metadata.add_field(
            actor=admin, object_key="custom.project", name="budget", type="number", label_en="Budget"
        )
    path = "/api/v1/records/custom.project"
    created = send(api, "post", path, {"name": "Expo", "custom": {"budget": 1200}})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.get(path).json()["results"] == [{"id": pk, "name": "Expo", "custom": {"budget": 1200}}]
    assert send(api, "patch", f"{path}/{pk}", {"name": "Expo 2027"}).json()["name"] == "Expo 2027"
    assert send(api, "delete", f"{path}/{pk}").status_code == 204
    with tenant_context(alpha):
        assert not CustomRecord.objects.filter(pk=pk).exists()


def test_unknown_and_read_only_objects_answer_clearly(api):
    assert api.get("/api/v1/records/customers.nothing").status_code == 404
    refused = send(api, "post", "/api/v1/records/orders.order", {"note": "x"})
    assert refused.status_code == 405
    assert refused.json()["type"].endswith("/not-writable")
    assert api.get("/api/v1/records/orders.order").status_code == 200


def test_anonymous_callers_get_nothing(alpha):
    response = tenant_client(alpha).get(ACCOUNTS)
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"


def test_a_page_costs_the_same_queries_whatever_its_size(alpha, api):
    with tenant_context(alpha):
        owner = admin_of(alpha)
        metadata.add_field(
            actor=owner,
            object_key="customers.account",
            name="contact_count",
            type="rollup",
            label_en="Contacts",
            options={"child": "customers.contact", "relation": "account", "function": "count"},
        )
        rows = []
        for n in range(501):
            record = Account(name=f"Bulk {n}", custom={"score": n, "tier": "gold"})
            record.place(owner=owner)
            rows.append(record)
        Account.objects.bulk_create(rows)
        for account in rows[-3:]:
            customers.add_contact(actor=owner, account=account, name="Li")
    api.get(ACCOUNTS, {"limit": 1})  # warm the per-process caches
    counts = {}
    for size in (50, 500):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(ACCOUNTS, {"limit": size, "sort": "-custom.score"})
        results = response.json()["results"]
        assert len(results) == size and response.json()["next"]
        assert results[0]["custom"]["contact_count"] == 1 and results[-1]["custom"]["contact_count"] == 0
        counts[size] = [query["sql"] for query in queries.captured_queries]
    assert len(counts[50]) == len(counts[500]), counts
    assert len(counts[500]) <= PAGE_QUERIES, "\n".join(counts[500])


BULK = f"{ACCOUNTS}/bulk"


def test_bulk_is_all_or_nothing_by_default(alpha, api):
    records = [{"name": "B1", "custom": {"score": 1}}, {"name": "B2", "custom": {"score": "x"}}, {"name": ""}]
    response = send(api, "post", BULK, {"records": records})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"records[1].custom.score", "records[2].name"}
    with tenant_context(alpha):
        assert not Account.objects.filter(name="B1").exists()

    each = send(api, "post", BULK, {"records": records, "atomic": False})
    assert each.status_code == 200
    outcomes = each.json()["results"]
    assert [result["status"] for result in outcomes] == [201, 400, 400]
    assert outcomes[1]["errors"][0]["field"] == "custom.score"
    with tenant_context(alpha):
        assert Account.objects.get(pk=outcomes[0]["id"]).name == "B1"


def test_bulk_upsert_matches_on_a_unique_custom_field(alpha, api):
    with tenant_context(alpha):
        metadata.add_field(
            actor=admin_of(alpha),
            object_key="customers.account",
            name="erp_code",
            type="text",
            label_en="ERP code",
            unique=True,
        )
    first = send(api, "post", BULK, {"records": [{"name": "ERP 1", "custom": {"erp_code": "E-1"}}]})
    assert first.status_code == 200, first.content
    [created] = first.json()["results"]
    body = {
        "mode": "upsert",
        "key": "custom.erp_code",
        "records": [
            {"name": "ERP 1 renamed", "custom": {"erp_code": "E-1"}},
            {"name": "ERP 2", "custom": {"erp_code": "E-2"}},
        ],
    }
    upserted = send(api, "post", BULK, body)
    assert upserted.status_code == 200, upserted.content
    results = upserted.json()["results"]
    assert results[0] == {"index": 0, "status": 200, "id": created["id"]}
    assert results[1]["status"] == 201
    with tenant_context(alpha):
        assert Account.objects.get(pk=created["id"]).name == "ERP 1 renamed"
        assert Account.objects.filter(custom__erp_code__in=["E-1", "E-2"]).count() == 2

    missing = send(api, "post", BULK, {"mode": "update", "records": [{"id": 999999, "name": "x"}]})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "records[0].id"
    for bad, field in (
        ({"records": []}, "records"),
        ({"records": [{"name": "x"}] * 1001}, "records"),
        ({"mode": "merge", "records": [{}]}, "mode"),
        ({"mode": "upsert", "key": "name", "records": [{}]}, "key"),
    ):
        refused = send(api, "post", BULK, bad)
        assert refused.status_code == 400 and field in {e["field"] for e in refused.json()["errors"]}


def test_idempotency_keys_are_forgotten_after_a_day(alpha, api):
    assert send(api, "post", ACCOUNTS, {"name": "Day one"}, idempotency_key="daily").status_code == 201
    with tenant_context(alpha):
        assert purge_expired_keys(timezone.now() + timedelta(hours=23)) == 0
        assert purge_expired_keys(timezone.now() + timedelta(hours=25)) == 1
    again = send(api, "post", ACCOUNTS, {"name": "Day one"}, idempotency_key="daily")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again


def test_a_record_others_refer_to_is_not_deleted(alpha, api):
    pk = send(api, "post", ACCOUNTS, {"name": "Held"}).json()["id"]
    with tenant_context(alpha):
        customers.add_contact(actor=admin_of(alpha), account=pk, name="Wang")
    refused = send(api, "delete", f"{ACCOUNTS}/{pk}", accept_language="zh-hans")
    assert refused.status_code == 409
    assert "仍有其他记录引用此记录" in refused.json()["detail"]
    assert api.get(f"{ACCOUNTS}/{pk}").status_code == 200


def test_list_parameters_may_be_repeated_instead_of_comma_separated(alpha, api):
    for name, score in (("B", 1), ("A", 1), ("C", 2)):
        send(api, "post", ACCOUNTS, {"name": name, "custom": {"score": score}})
    query = {"sort": ["-custom.score", "name"], "fields": ["name", "custom.score"]}
    rows = api.get(ACCOUNTS, query).json()["results"]
    assert [(row["name"], row["custom"]["score"]) for row in rows] == [("C", 2), ("A", 1), ("B", 1)]
