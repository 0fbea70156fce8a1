"""Approvals through REST and GraphQL (issue 6): processes saved by administrators, requests
submitted, decided, sent back, recalled, commented on and reassigned over both APIs, the inbox,
delegations, notifications, a record's history, and the record lock: every client error a
problem document with field errors, someone else's or another tenant's rows not found."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from api import tokens
from crm.customers.models import Account
from tests.conftest import admin_of, signed_in, tenant_client
from tests.workflows.conftest import account, person
from workflows import engine
from workflows.models import ApprovalEvent, ApprovalProcess, ApprovalRequest, Delegation, Notification

APPROVALS = "/api/v1/approvals"
ACCOUNTS = "/api/v1/records/customers.account"
PROBLEM = "application/problem+json"
TWO_STEPS = {
    "steps": [
        {"name": "Manager 经理", "approvers": [{"type": "manager", "level": 1}]},
        {"name": "Finance 财务", "approvers": [{"type": "role", "role": "finance"}], "mode": "any"},
    ]
}


def send(client, method: str, path: str, body=None, **headers):
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(path, data=data, content_type="application/json", headers=headers)


def gql(client, query: str, **variables) -> dict:
    body = json.dumps({"query": query, "variables": variables})
    response = client.post("/graphql", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert "errors" not in answer, answer
    return answer["data"]


def fields_of(response) -> set:
    assert response["Content-Type"] == PROBLEM, response.content
    return {error["field"] for error in response.json()["errors"]}


def as_token(tenant, user, scopes=("read", "write")):
    with tenant_context(tenant):
        _token, secret = tokens.issue_token(user, name="approvals", scopes=list(scopes))
    client = tenant_client(tenant)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


@pytest.fixture
def company(alpha):
    """alpha's admin, a rep reporting to a manager reporting to a director, two finance users,
    another rep, and an account the rep owns."""
    with tenant_context(alpha):
        director = person("sales_manager", name="Director 总监")
        manager = person("sales_manager", manager=director, name="Manager 经理")
        rep = person("sales_rep", manager=manager, name="Rep 代表")
        people = {
            "admin": admin_of(alpha),
            "director": director,
            "manager": manager,
            "rep": rep,
            "finance": [person("finance"), person("finance")],
            "other_rep": person("sales_rep", manager=manager),
        }
        people["record"] = account(rep)
    return people


def client_of(alpha, user):
    return signed_in(alpha, user)


def save_process(alpha, company, key="deal", definition=TWO_STEPS, **extra):
    response = send(
        signed_in(alpha),
        "put",
        f"{APPROVALS}/processes/{key}",
        {"object": "customers.account", "name": f"Deal review {key}", "definition": definition, **extra},
    )
    assert response.status_code in (200, 201), response.content
    return response.json()


def submit(client, record, **extra):
    return send(
        client,
        "post",
        f"{APPROVALS}/requests",
        {"object": "customers.account", "record_id": record.pk, **extra},
    )


APPROVE = """mutation($id: Int!, $comment: String) {
  approve_request(id: $id, comment: $comment) {
    request { id status step step_name version approvers { approver } }
    errors { field code message }
  }
}"""


# --- the scenario -------------------------------------------------------------------------------


def test_a_two_step_approval_runs_through_both_apis_and_its_history_shows_every_event(alpha, company):
    admin = signed_in(alpha)
    created = send(
        admin,
        "put",
        f"{APPROVALS}/processes/deal",
        {"object": "customers.account", "name": "Deal review 交易审批", "definition": TWO_STEPS},
    )
    assert created.status_code == 201, created.content
    assert created["Location"] == f"{APPROVALS}/processes/deal"
    assert created.json()["version"] == 1
    assert created.json()["definition"]["steps"][1]["mode"] == "any"  # completed with defaults
    again = send(
        admin,
        "put",
        f"{APPROVALS}/processes/deal",
        {"object": "customers.account", "name": "Deal review 交易审批", "definition": TWO_STEPS},
    )
    assert again.status_code == 200 and again.json()["version"] == 1  # unchanged: no new version
    changed = {**TWO_STEPS, "allow_recall": False}
    assert (
        send(
            admin,
            "put",
            f"{APPROVALS}/processes/deal",
            {"object": "customers.account", "name": "Deal review 交易审批", "definition": changed},
        ).json()["version"]
        == 2
    )
    versions = admin.get(f"{APPROVALS}/processes/deal/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert [p["key"] for p in admin.get(f"{APPROVALS}/processes").json()] == ["deal"]

    rep = as_token(alpha, company["rep"])
    manager, finance = company["manager"], company["finance"]
    record = company["record"]
    submitted = submit(rep, record, comment="请审批 please")
    assert submitted.status_code == 201, submitted.content
    request = submitted.json()
    rid = request["id"]
    assert submitted["Location"] == f"{APPROVALS}/requests/{rid}"
    assert (request["status"], request["step_name"], request["version"]) == ("pending", "Manager 经理", 2)
    assert [a["approver"] for a in request["approvers"]] == [manager.pk]
    assert request["events"][0]["comment"] == "请审批 please"

    first = gql(client_of(alpha, manager), APPROVE, id=rid, comment="OK")["approve_request"]
    assert first["errors"] == []
    assert first["request"]["step_name"] == "Finance 财务"
    assert {a["approver"] for a in first["request"]["approvers"]} == {u.pk for u in finance}

    back = send(
        client_of(alpha, finance[0]),
        "post",
        f"{APPROVALS}/requests/{rid}/reject",
        {"comment": "价格再核对", "to_step": 0},
    )
    assert back.status_code == 200, back.content
    assert (back.json()["status"], back.json()["step"]) == ("pending", 0)
    assert [a["approver"] for a in back.json()["approvers"]] == [manager.pk]

    assert (
        send(client_of(alpha, manager), "post", f"{APPROVALS}/requests/{rid}/approve", {}).status_code == 200
    )
    done = gql(client_of(alpha, finance[1]), APPROVE, id=rid)["approve_request"]
    assert done["request"]["status"] == "approved" and done["request"]["approvers"] == []

    history = rep.get(f"{ACCOUNTS}/{record.pk}/approvals")
    assert history.status_code == 200, history.content
    [only] = history.json()
    assert only["id"] == rid and only["status"] == "approved"
    assert [(e["kind"], e["step_name"]) for e in only["events"]] == [
        ("submitted", None),
        ("step_started", "Manager 经理"),
        ("approved", "Manager 经理"),
        ("step_approved", "Manager 经理"),
        ("step_started", "Finance 财务"),
        ("rejected", "Finance 财务"),
        ("sent_back", "Finance 财务"),
        ("step_started", "Manager 经理"),
        ("approved", "Manager 经理"),
        ("step_approved", "Manager 经理"),
        ("step_started", "Finance 财务"),
        ("approved", "Finance 财务"),
        ("step_approved", "Finance 财务"),
        ("finished", "Finance 财务"),
    ]
    actors = [e["actor"] for e in only["events"] if e["kind"] in ("approved", "rejected")]
    assert actors == [manager.pk, finance[0].pk, manager.pk, finance[1].pk]
    assert rep.get(f"{APPROVALS}/requests/{rid}").json()["events"] == only["events"]

    notices = rep.get(f"{APPROVALS}/notifications").json()["results"]
    assert notices[0]["kind"] == "approval_approved" and notices[0]["read_at"] is None
    read = send(rep, "post", f"{APPROVALS}/notifications/{notices[0]['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert (
        send(
            client_of(alpha, manager), "post", f"{APPROVALS}/notifications/{notices[0]['id']}/read"
        ).status_code
        == 404
    )


def test_graphql_submits_recalls_comments_and_lists_processes(alpha, company):
    save_process(alpha, company)
    rep = client_of(alpha, company["rep"])
    made = gql(
        rep,
        """mutation($id: Int!) {
          submit_approval(object: "customers.account", record_id: $id, process: "deal", comment: "hi") {
            request { id status process { key } steps } errors { field code }
          }
        }""",
        id=company["record"].pk,
    )["submit_approval"]
    assert made["errors"] == [] and made["request"]["steps"] == ["Manager 经理", "Finance 财务"]
    rid = made["request"]["id"]
    twice = gql(
        rep,
        'mutation($id: Int!) { submit_approval(object: "customers.account", record_id: $id) '
        "{ request { id } errors { code } } }",
        id=company["record"].pk,
    )["submit_approval"]
    assert twice == {"request": None, "errors": [{"code": "conflict"}]}
    noted = gql(
        rep,
        'mutation($id: Int!) { comment_request(id: $id, comment: "补充材料") '
        "{ event { kind comment } errors { code } } }",
        id=rid,
    )["comment_request"]
    assert noted == {"event": {"kind": "commented", "comment": "补充材料"}, "errors": []}
    one = gql(rep, "query($id: Int!) { approval_request(id: $id) { status events { kind } } }", id=rid)
    assert [e["kind"] for e in one["approval_request"]["events"]][-1] == "commented"
    wrong = gql(
        client_of(alpha, company["manager"]),
        'mutation($id: Int!) { reject_request(id: $id, to_step: "Nowhere") '
        "{ request { id } errors { field code } } }",
        id=rid,
    )["reject_request"]
    assert wrong == {"request": None, "errors": [{"field": "to_step", "code": "invalid"}]}
    recalled = gql(
        rep, "mutation($id: Int!) { recall_request(id: $id) { request { status } errors { code } } }", id=rid
    )["recall_request"]
    assert recalled == {"request": {"status": "recalled"}, "errors": []}
    processes = gql(rep, "{ approval_processes { key version definition } }")["approval_processes"]
    assert processes[0]["key"] == "deal" and processes[0]["definition"]["steps"][0]["name"] == "Manager 经理"


# --- the record lock ----------------------------------------------------------------------------


def test_a_record_waiting_for_approval_is_locked_unless_an_administrator_overrides(alpha, company):
    save_process(alpha, company)
    record, rep = company["record"], client_of(alpha, company["rep"])
    rid = submit(rep, record).json()["id"]
    path = f"{ACCOUNTS}/{record.pk}"

    for client in (rep, signed_in(alpha)):
        refused = send(client, "patch", path, {"name": "Changed while waiting"})
        assert refused.status_code == 409, refused.content
        assert refused["Content-Type"] == PROBLEM
        body = refused.json()
        assert body["type"] == "https://crm.dev/problems/record-locked" and body["status"] == 409
        assert "Deal review deal" in body["detail"]
    assert send(rep, "patch", path + "?override_lock=true", {"name": "Mine anyway"}).status_code == 409
    assert send(rep, "delete", path + "?override_lock=true").status_code == 409
    assert fields_of(send(rep, "patch", path + "?override_lock=maybe", {"name": "X"})) == {"override_lock"}
    update = """mutation($id: Int!, $override: Boolean) {
      update_account(id: $id, input: {name: "Via GraphQL"}, override_lock: $override) {
        record { name } errors { code }
      }
    }"""
    assert gql(rep, update, id=record.pk, override=True)["update_account"] == {
        "record": None,
        "errors": [{"code": "record-locked"}],
    }
    with tenant_context(alpha):
        assert Account.objects.get(pk=record.pk).name == "华辰科技"

    allowed = send(signed_in(alpha), "patch", path + "?override_lock=true", {"name": "Fixed by admin"})
    assert allowed.status_code == 200, allowed.content
    assert allowed.json()["name"] == "Fixed by admin"
    via_graphql = gql(signed_in(alpha), update, id=record.pk, override=True)["update_account"]
    assert via_graphql == {"record": {"name": "Via GraphQL"}, "errors": []}
    events = rep.get(f"{APPROVALS}/requests/{rid}").json()["events"]
    overridden = [e for e in events if e["kind"] == "lock_overridden"]
    assert [(e["actor"], e["data"]) for e in overridden] == [(company["admin"].pk, {"change": "update"})] * 2


# --- errors -------------------------------------------------------------------------------------


def test_a_bad_definition_is_refused_field_by_field_and_nothing_is_saved(alpha, company):
    admin = signed_in(alpha)
    bad = {
        "steps": [
            {"name": "", "approvers": [{"type": "role", "role": "finance"}], "mode": "percent"},
            {"name": "B", "approvers": [{"type": "manager", "level": 0}], "colour": "red"},
        ]
    }
    path = f"{APPROVALS}/processes/deal"
    response = send(admin, "put", path, {"object": "customers.account", "name": "Deal", "definition": bad})
    assert response.status_code == 400
    assert fields_of(response) == {
        "definition.steps[0].name",
        "definition.steps[0].percent",
        "definition.steps[1].approvers[0].level",
        "definition.steps[1].colour",
    }
    tenant_facts = {"steps": [{"name": "A", "approvers": [{"type": "role", "role": "nobody"}]}]}
    response = send(
        admin, "put", path, {"object": "customers.account", "name": "D", "definition": tenant_facts}
    )
    assert fields_of(response) == {"definition.steps[0].approvers[0].role"}
    wrong_types = {"object": 5, "name": None, "definition": [], "is_active": "yes", "order": -1}
    assert fields_of(send(admin, "put", path, wrong_types)) == {
        "object",
        "name",
        "definition",
        "is_active",
        "order",
    }
    assert fields_of(
        send(admin, "put", path, {"object": "nope.nope", "name": "X", "definition": TWO_STEPS})
    ) == {"object"}
    nul = {"steps": [{"name": "A\x00", "approvers": [{"type": "user", "user": 2**70}]}]}
    assert fields_of(
        send(admin, "put", path, {"object": "customers.account", "name": "X", "definition": nul})
    ) == {
        "definition.steps[0].name",
        "definition.steps[0].approvers[0].user",
    }
    assert send(admin, "put", path, [1, 2]).status_code == 400
    broken = admin.put(path, data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken["Content-Type"] == PROBLEM
    denied = send(
        client_of(alpha, company["rep"]), "put", path, {"object": "customers.account", "definition": 1}
    )
    assert denied.status_code == 403 and denied["Content-Type"] == PROBLEM
    with tenant_context(alpha):
        assert not ApprovalProcess.objects.exists()


def test_wrong_input_is_a_field_error_never_a_server_error(alpha, company):
    save_process(alpha, company)
    rep = client_of(alpha, company["rep"])
    path = f"{APPROVALS}/requests"
    assert fields_of(send(rep, "post", path, {})) == {"object", "record_id"}
    assert fields_of(send(rep, "post", path, {"object": ["x"], "record_id": "abc", "comment": 7})) == {
        "object",
        "record_id",
        "comment",
    }
    assert fields_of(send(rep, "post", path, {"object": "customers.account", "record_id": 2**64})) == {
        "record_id"
    }
    assert fields_of(send(rep, "post", path, {"object": "nope", "record_id": 1})) == {"object"}
    unknown = send(rep, "post", path, {"object": "customers.account", "record_id": 10**12})
    assert unknown.status_code == 404 and unknown["Content-Type"] == PROBLEM
    no_process = submit(rep, company["record"], process="missing")
    assert fields_of(no_process) == {"process"}
    rid = submit(rep, company["record"]).json()["id"]
    manager = client_of(alpha, company["manager"])
    reject = f"{path}/{rid}/reject"
    assert fields_of(send(manager, "post", reject, {"to_step": {"a": 1}})) == {"to_step"}
    assert fields_of(send(manager, "post", reject, {"to_step": 5})) == {"to_step"}  # not an earlier step
    hidden = send(client_of(alpha, company["other_rep"]), "post", f"{path}/{rid}/approve", {})
    assert hidden.status_code == 404  # another rep sees neither the record nor the request
    finance = client_of(alpha, company["finance"][0])  # sees every account: the request too
    assert send(finance, "post", f"{path}/{rid}/approve", {}).status_code == 409  # not waiting for them
    assert send(rep, "post", f"{path}/{rid}/approve", {}).status_code == 409
    assert fields_of(send(rep, "post", f"{path}/{rid}/comment", {"comment": "  "})) == {"comment"}
    inbox = f"{APPROVALS}/inbox"
    assert fields_of(rep.get(inbox, {"box": "archive"})) == {"box"}
    assert fields_of(rep.get(inbox, {"limit": "0", "after": "x"})) == {"limit", "after"}
    assert fields_of(rep.get(f"{APPROVALS}/notifications", {"limit": "1000"})) == {"limit"}
    with tenant_context(alpha):
        assert ApprovalRequest.objects.get(pk=rid).status == "pending"


def test_another_tenants_request_and_a_record_the_caller_cannot_see_are_not_found(alpha, beta, company):
    save_process(alpha, company)
    rid = submit(client_of(alpha, company["rep"]), company["record"]).json()["id"]
    with tenant_context(beta):
        admin = admin_of(beta)
        ApprovalProcess.objects.all().delete()
        from workflows import services

        services.save_process(
            actor=admin,
            key="beta",
            object="customers.account",
            name="Beta",
            definition={"steps": [{"name": "A", "approvers": [{"type": "user", "user": admin.pk}]}]},
        )
        # Beta's request gets an id alpha has not used, so alpha's answer is about that id alone.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('workflows_approvalrequest', 'id'), %s)", [rid + 1000]
            )
        theirs = engine.submit(actor=admin, object_key="customers.account", record_id=account(admin).pk)
    for path in (f"{APPROVALS}/requests/{theirs.pk}", f"{APPROVALS}/requests/{theirs.pk}/approve"):
        method = "get" if path.endswith(str(theirs.pk)) else "post"
        response = send(signed_in(alpha), method, path, {} if method == "post" else None)
        assert response.status_code == 404, response.content
        assert response.json()["type"] == "https://crm.dev/problems/not-found"
    assert gql(signed_in(alpha), "query($id: Int!) { approval_request(id: $id) { id } }", id=theirs.pk) == {
        "approval_request": None
    }

    stranger = client_of(alpha, company["other_rep"])
    hidden = stranger.get(f"{ACCOUNTS}/{company['record'].pk}/approvals")
    record_not_found = stranger.get(f"{ACCOUNTS}/{company['record'].pk}")
    assert hidden.status_code == record_not_found.status_code == 404
    assert hidden.json() == record_not_found.json()
    assert stranger.get(f"{APPROVALS}/requests/{rid}").status_code == 404
    assert (
        send(stranger, "post", f"{APPROVALS}/requests/{rid}/comment", {"comment": "peek"}).status_code == 404
    )
    assert stranger.get(f"{ACCOUNTS}/{company['record'].pk}/approvals").status_code == 404
    assert signed_in(alpha).get("/api/v1/records/nope.nope/1/approvals").status_code == 404


# --- the inbox, delegations, reassigning, comments ------------------------------------------------


def test_the_inbox_boxes_page_by_keyset(alpha, company):
    save_process(alpha, company)
    rep, manager = client_of(alpha, company["rep"]), client_of(alpha, company["manager"])
    with tenant_context(alpha):
        records = [company["record"], account(company["rep"], "二号"), account(company["rep"], "三号")]
    ids = [submit(rep, record).json()["id"] for record in records]
    inbox = f"{APPROVALS}/inbox"

    waiting = manager.get(inbox, {"box": "waiting", "limit": 2}).json()
    assert [row["request"]["id"] for row in waiting["results"]] == ids[:2]  # oldest first
    assert all(row["task"]["approver"] == company["manager"].pk for row in waiting["results"])
    rest = manager.get(inbox, {"box": "waiting", "limit": 2, "after": waiting["next"]}).json()
    assert [row["request"]["id"] for row in rest["results"]] == ids[2:] and rest["next"] is None

    submitted = rep.get(inbox, {"box": "submitted"}).json()
    assert [row["request"]["id"] for row in submitted["results"]] == ids[::-1]  # newest first
    assert all(row["task"] is None for row in submitted["results"])
    assert rep.get(inbox).json()["results"] == []  # waiting by default: nothing for the rep

    send(manager, "post", f"{APPROVALS}/requests/{ids[1]}/approve", {})
    decided = manager.get(inbox, {"box": "decided"}).json()["results"]
    assert [row["request"]["id"] for row in decided] == [ids[1]]
    assert decided[0]["request"]["step_name"] == "Finance 财务"

    edges = gql(
        manager,
        "{ approval_inbox(box: waiting, first: 5) { "
        "edges { node { task { id } request { id events { kind } } } } page_info { has_next_page } } }",
    )["approval_inbox"]
    assert [e["node"]["request"]["id"] for e in edges["edges"]] == [ids[0], ids[2]]
    assert edges["edges"][0]["node"]["request"]["events"][0]["kind"] == "submitted"
    assert edges["page_info"] == {"has_next_page": False}

    # The page loads in a fixed number of queries, however many rows it has.
    with tenant_context(alpha):
        for n in range(4):
            engine.submit(
                actor=company["rep"],
                object_key="customers.account",
                record_id=account(company["rep"], f"R{n}").pk,
            )
    with CaptureQueriesContext(connection) as few:
        assert len(manager.get(inbox, {"limit": 2}).json()["results"]) == 2
    with CaptureQueriesContext(connection) as many:
        assert len(manager.get(inbox, {"limit": 6}).json()["results"]) == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_delegations_send_tasks_to_the_delegate_and_only_their_owner_withdraws_them(alpha, company):
    save_process(alpha, company)
    manager, director = client_of(alpha, company["manager"]), client_of(alpha, company["director"])
    path = f"{APPROVALS}/delegations"
    bad = send(manager, "post", path, {"to": "boss", "starts_at": "yesterday", "process": "missing"})
    assert fields_of(bad) == {"to", "starts_at", "ends_at", "process"}
    backwards = {
        "to": company["director"].pk,
        "starts_at": "2030-01-02T00:00:00Z",
        "ends_at": "2030-01-01T00:00:00Z",
    }
    assert fields_of(send(manager, "post", path, backwards)) == {"ends_at"}
    assert fields_of(
        send(
            manager,
            "post",
            path,
            {**backwards, "to": company["manager"].pk, "ends_at": "2031-01-01T00:00:00Z"},
        )
    ) == {"to"}
    made = send(
        manager,
        "post",
        path,
        {
            "to": company["director"].pk,
            "starts_at": "2020-01-01T00:00:00Z",
            "ends_at": "2099-01-01T00:00:00+08:00",
            "process": "deal",
        },
    )
    assert made.status_code == 201, made.content
    delegation = made.json()
    assert (delegation["user"], delegation["delegate"]) == (company["manager"].pk, company["director"].pk)
    assert [d["id"] for d in manager.get(path).json()] == [delegation["id"]]
    assert director.get(path).json() == []
    someone_elses = send(
        director,
        "post",
        path,
        {**backwards, "user": company["manager"].pk, "ends_at": "2031-01-01T00:00:00Z"},
    )
    assert someone_elses.status_code == 403

    rid = submit(client_of(alpha, company["rep"]), company["record"]).json()["id"]
    [row] = director.get(f"{APPROVALS}/inbox").json()["results"]
    assert (row["request"]["id"], row["task"]["on_behalf_of"]) == (rid, company["manager"].pk)

    assert director.delete(f"{path}/{delegation['id']}").status_code == 404
    assert manager.delete(f"{path}/{delegation['id']}").status_code == 204
    assert manager.delete(f"{path}/{delegation['id']}").status_code == 404
    with tenant_context(alpha):
        assert not Delegation.objects.exists()


def test_a_task_is_reassigned_by_its_approver_and_not_by_others(alpha, company):
    save_process(alpha, company)
    rep, manager = client_of(alpha, company["rep"]), client_of(alpha, company["manager"])
    request = submit(rep, company["record"]).json()
    task = request["approvers"][0]["id"]
    path = f"{APPROVALS}/tasks/{task}/reassign"
    assert send(rep, "post", path, {"to": company["director"].pk}).status_code == 403  # sees it, not theirs
    assert send(client_of(alpha, company["other_rep"]), "post", path, {"to": 1}).status_code == 404
    assert send(manager, "post", f"{APPROVALS}/tasks/999999999/reassign", {"to": 1}).status_code == 404
    assert fields_of(send(manager, "post", path, {"to": "boss"})) == {"to"}
    assert fields_of(send(manager, "post", path, {"to": 10**9})) == {"to"}
    moved = send(manager, "post", path, {"to": company["director"].pk, "comment": "出差"})
    assert moved.status_code == 200, moved.content
    assert [a["approver"] for a in moved.json()["approvers"]] == [company["director"].pk]
    again = gql(
        client_of(alpha, company["director"]),
        "mutation($id: Int!, $to: Int!) { reassign_approval_task(id: $id, to: $to) "
        "{ request { id } errors { code } } }",
        id=task,
        to=company["manager"].pk,
    )["reassign_approval_task"]
    assert again == {"request": None, "errors": [{"code": "conflict"}]}  # that task was handed on


def test_a_comment_carries_uploaded_files(alpha, company):
    save_process(alpha, company)
    rep = client_of(alpha, company["rep"])
    rid = submit(rep, company["record"]).json()["id"]
    upload = SimpleUploadedFile("报价单.pdf", b"%PDF-1.4 quote", content_type="application/pdf")
    response = rep.post(
        f"{APPROVALS}/requests/{rid}/comment", {"comment": "附件 attached", "attachments": [upload]}
    )
    assert response.status_code == 201, response.content
    event = response.json()
    assert event["kind"] == "commented" and event["comment"] == "附件 attached"
    assert [(a["name"], a["size"]) for a in event["attachments"]] == [("报价单.pdf", 14)]
    only_file = SimpleUploadedFile("note.txt", b"x")
    assert rep.post(f"{APPROVALS}/requests/{rid}/comment", {"attachments": [only_file]}).status_code == 201
    history = rep.get(f"{APPROVALS}/requests/{rid}").json()["events"]
    assert [len(e["attachments"]) for e in history if e["kind"] == "commented"] == [1, 1]
    approve_with_file = client_of(alpha, company["manager"]).post(
        f"{APPROVALS}/requests/{rid}/approve",
        {"comment": "ok", "attachments": [SimpleUploadedFile("a.txt", b"ok")]},
    )
    assert approve_with_file.status_code == 200, approve_with_file.content
    with tenant_context(alpha):
        assert ApprovalEvent.objects.filter(request_id=rid, kind="approved").get().comment == "ok"


def test_token_scopes_apply(alpha, company):
    save_process(alpha, company)
    reader = as_token(alpha, company["rep"], scopes=["read"])
    assert reader.get(f"{APPROVALS}/inbox").status_code == 200
    refused = submit(reader, company["record"])
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    with tenant_context(alpha):
        assert not ApprovalRequest.objects.exists()
        assert not Notification.objects.filter(user=company["manager"]).exists()


def test_an_approver_outside_the_records_scope_reads_it_through_the_request(alpha, company):
    with tenant_context(alpha):
        reviewer, bystander = person("service"), person("service")
        record = company["record"]
        assert not Account.objects.visible_to(reviewer).filter(pk=record.pk).exists()
    only_reviewer = {"steps": [{"name": "Review 审核", "approvers": [{"type": "user", "user": reviewer.pk}]}]}
    save_process(alpha, company, key="review", definition=only_reviewer)
    submitted = submit(client_of(alpha, company["rep"]), record, process="review")
    assert submitted.status_code == 201, submitted.content
    request_id = submitted.json()["id"]

    answer = client_of(alpha, reviewer).get(f"{APPROVALS}/requests/{request_id}").json()
    assert answer["record"]["id"] == record.pk and answer["record"]["name"] == "华辰科技"
    data = gql(
        client_of(alpha, reviewer), "query($id: Int!) { approval_request(id: $id) { record } }", id=request_id
    )
    assert data["approval_request"]["record"]["name"] == "华辰科技"
    # The request opens the record to those it involves, not to anyone else, nor the record's own door.
    assert client_of(alpha, bystander).get(f"{APPROVALS}/requests/{request_id}").status_code == 404
    assert client_of(alpha, reviewer).get(f"{ACCOUNTS}/{record.pk}").status_code == 404
