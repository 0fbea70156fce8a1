"""The approval engine against real rows: approver rules, modes, policies, sending back, recall,
reassignment, delegation, versions and the final actions."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.customers.models import Account
from crm.records.models import Reminder
from crm_platform.errors import Conflict, NotFound, PermissionDenied
from metadata import services as metadata
from tests.workflows.conftest import account, person, save
from workflows import engine, services
from workflows.models import ApprovalEvent, ApprovalRequest, ApprovalTask

ACCOUNT = "customers.account"


def submit(user, record, **kwargs):
    return engine.submit(actor=user, object_key=ACCOUNT, record_id=record.pk, **kwargs)


def waiting(request) -> set[int]:
    return set(
        ApprovalTask.objects.filter(request=request, status="pending").values_list("approver_id", flat=True)
    )


def kinds(request) -> list[str]:
    return list(
        ApprovalEvent.objects.filter(request=request).order_by("at", "id").values_list("kind", flat=True)
    )


def test_a_definition_is_refused_field_by_field_and_nothing_is_saved(company):
    steps = [
        {"name": "", "approvers": [{"type": "role", "role": "nobody"}], "mode": "percent"},
        {"name": "B", "approvers": [{"type": "field", "field": "name"}, {"type": "manager", "level": 0}]},
        {
            "name": "C",
            "approvers": [{"type": "user", "user": 999999}],
            "sla_hours": 2,
            "remind_before_hours": 3,
        },
        {
            "name": "D",
            "approvers": [],
            "criteria": {"field": "nope", "op": "eq", "value": 1},
            "colour": "red",
        },
    ]
    with pytest.raises(ValidationError) as raised:
        save(company["admin"], steps, on_approve=[{"type": "set_field", "field": "id", "value": 1}])
    errors = raised.value.message_dict
    assert set(errors) >= {
        "definition.steps[0].name",
        "definition.steps[0].percent",
        "definition.steps[1].approvers[1].level",
        "definition.steps[3].approvers",
        "definition.steps[3].colour",
    }
    assert not ApprovalRequest.objects.exists()
    # The shape is right: now the tenant's own facts are checked, each where it is wrong.
    steps = [
        {"name": "A", "approvers": [{"type": "role", "role": "nobody"}]},
        {"name": "B", "approvers": [{"type": "field", "field": "name"}]},
        {
            "name": "C",
            "approvers": [{"type": "user", "user": 999999}],
            "sla_hours": 2,
            "remind_before_hours": 3,
        },
        {
            "name": "D",
            "approvers": [{"type": "manager", "level": 1}],
            "criteria": {"field": "nope", "op": "eq", "value": 1},
        },
        {"name": "E", "approvers": [{"type": "manager", "level": 1}], "on_overdue": "escalate"},
    ]
    with pytest.raises(ValidationError) as raised:
        save(company["admin"], steps, on_approve=[{"type": "set_field", "field": "id", "value": 1}])
    assert set(raised.value.message_dict) == {
        "definition.steps[0].approvers[0].role",
        "definition.steps[1].approvers[0].field",
        "definition.steps[2].approvers[0].user",
        "definition.steps[2].remind_before_hours",
        "definition.steps[3].criteria.field",
        "definition.steps[4].on_overdue",
        "definition.on_approve[0].field",
    }
    with pytest.raises(PermissionDenied):
        save(company["rep"], [{"name": "A", "approvers": [{"type": "manager", "level": 1}]}])
    with pytest.raises(ValidationError) as raised:
        save(company["admin"], [{"name": "A\x00", "approvers": [{"type": "user", "user": 2**63}]}])
    assert set(raised.value.message_dict) == {
        "definition.steps[0].name",
        "definition.steps[0].approvers[0].user",
    }


def test_thirty_steps_of_twenty_five_approvers_run_to_the_end(company):
    approvers = [person("sales_manager") for _ in range(25)]
    steps = [
        {"name": f"Step {n}", "approvers": [{"type": "user", "user": u.pk} for u in approvers], "mode": "any"}
        for n in range(30)
    ]
    steps[29]["mode"] = "all"
    save(company["admin"], steps)
    request = submit(company["rep"], account(company["rep"]))
    for n in range(29):
        assert waiting(request) == {u.pk for u in approvers}
        engine.approve(actor=approvers[n % 25], request=request)
        request.refresh_from_db()
        assert request.step == n + 1
    for user in approvers:
        request.refresh_from_db()
        assert request.status == "pending"
        engine.approve(actor=user, request=request)
    request.refresh_from_db()
    assert request.status == "approved"


def test_each_approver_rule_finds_its_users(company, alpha):
    rep, manager, director = company["rep"], company["manager"], company["director"]
    metadata.add_field(
        actor=company["admin"], object_key=ACCOUNT, name="reviewer", type="user", label_en="Reviewer"
    )
    reviewer = person("sales_manager")
    record = account(rep)
    record.custom = {"reviewer": reviewer.pk}
    record.save()
    named = person("service")
    from channels.models import ChannelMember
    from channels.services import add_channel_node

    brand = add_channel_node(name="品牌", code="brand", level="brand")
    agent = add_channel_node(name="代理", code="agent", level="agent", parent=brand)
    shop = add_channel_node(name="门店", code="shop", level="retailer", parent=agent)
    agent_admin = person("dealer_admin")
    ChannelMember.objects.create(user=agent_admin, node=agent)
    shop_record = account(company["admin"], "门店客户")
    shop_record.place(owner=None, channel_node=shop)
    shop_record.save()
    rules = [
        ({"type": "user", "user": named.pk}, record, {named.pk}),
        ({"type": "role", "role": "finance"}, record, {u.pk for u in company["finance"]}),
        ({"type": "manager", "level": 1}, record, {manager.pk}),
        ({"type": "manager", "level": 2}, record, {director.pk}),
        ({"type": "field", "field": "custom.reviewer"}, record, {reviewer.pk}),
        ({"type": "field", "field": "owner"}, record, {rep.pk}),
        ({"type": "dealer_admin"}, shop_record, {agent_admin.pk}),
    ]
    for n, (rule, target, expected) in enumerate(rules):
        save(company["admin"], [{"name": "Only", "approvers": [rule]}], key=f"rule{n}")
        submitter = rep if target is record else company["admin"]
        request = engine.submit(actor=submitter, object_key=ACCOUNT, record_id=target.pk, process=f"rule{n}")
        assert waiting(request) == expected, rule
        engine.recall(actor=submitter, request=request)


def test_any_all_and_percent_modes(company):
    finance = company["finance"] + [person("finance"), person("finance")]  # five of them
    rule = [{"type": "role", "role": "finance"}]
    rep = company["rep"]

    save(company["admin"], [{"name": "Any", "approvers": rule, "mode": "any"}], key="any")
    request = submit(rep, account(rep), process="any")
    engine.reject(actor=finance[0], request=request, comment="价格太低")
    request.refresh_from_db()
    assert request.status == "rejected" and waiting(request) == set()

    save(company["admin"], [{"name": "All", "approvers": rule, "mode": "all"}], key="all")
    request = submit(rep, account(rep), process="all")
    for user in finance[:4]:
        engine.approve(actor=user, request=request)
    request.refresh_from_db()
    assert request.status == "pending" and waiting(request) == {finance[4].pk}
    engine.approve(actor=finance[4], request=request)
    request.refresh_from_db()
    assert request.status == "approved"

    save(company["admin"], [{"name": "60%", "approvers": rule, "mode": "percent", "percent": 60}], key="pct")
    request = submit(rep, account(rep), process="pct")
    engine.approve(actor=finance[0], request=request)
    engine.reject(actor=finance[1], request=request)
    engine.approve(actor=finance[2], request=request)
    request.refresh_from_db()
    assert request.status == "pending"  # 2 of 5: not yet 60%, still reachable
    engine.approve(actor=finance[3], request=request)
    request.refresh_from_db()
    assert request.status == "approved" and waiting(request) == set()

    request = submit(rep, account(rep), process="pct")
    engine.reject(actor=finance[0], request=request)
    engine.reject(actor=finance[1], request=request)
    request.refresh_from_db()
    assert request.status == "pending"
    engine.reject(actor=finance[2], request=request)  # 60% can no longer be reached
    request.refresh_from_db()
    assert request.status == "rejected"


def test_when_no_approver_resolves(company):
    admin, rep = company["admin"], company["rep"]
    lonely = person("sales_rep")  # no manager
    nobody = [{"type": "manager", "level": 1}]
    for policy, status in (("approve", "approved"), ("reject", "rejected")):
        save(admin, [{"name": "Boss", "approvers": nobody, "when_no_approver": policy}], key=policy)
        request = submit(lonely, account(lonely), process=policy)
        assert request.status == status
        assert "no_approver" in kinds(request)
    save(admin, [{"name": "Boss", "approvers": nobody, "when_no_approver": "admin"}], key="admin")
    request = submit(lonely, account(lonely), process="admin")
    assert waiting(request) == {admin.pk}
    assert rep  # the rep with a manager is not affected
    request = submit(rep, account(rep), process="admin")
    assert waiting(request) == {company["manager"].pk}


def test_a_rejection_goes_back_to_a_named_earlier_step(company):
    rep, manager, director = company["rep"], company["manager"], company["director"]
    steps = [
        {"name": "Manager", "approvers": [{"type": "manager", "level": 1}]},
        {"name": "Director", "approvers": [{"type": "manager", "level": 2}]},
        {"name": "Finance", "approvers": [{"type": "role", "role": "finance"}]},
    ]
    save(company["admin"], steps)
    request = submit(rep, account(rep))
    engine.approve(actor=manager, request=request)
    engine.approve(actor=director, request=request)
    with pytest.raises(ValidationError) as raised:
        engine.reject(actor=company["finance"][0], request=request, to_step="Finance")
    assert list(raised.value.message_dict) == ["to_step"]
    engine.reject(actor=company["finance"][0], request=request, to_step="Director", comment="重新核价")
    request.refresh_from_db()
    assert (request.status, request.step) == ("pending", 1) and waiting(request) == {director.pk}
    engine.approve(actor=director, request=request)
    engine.approve(actor=company["finance"][1], request=request)
    request.refresh_from_db()
    assert request.status == "approved"
    assert kinds(request).count("sent_back") == 1


def test_recall_reassign_and_repeated_decisions(company):
    rep, manager, admin = company["rep"], company["manager"], company["admin"]
    save(
        admin,
        [
            {"name": "Manager", "approvers": [{"type": "manager", "level": 1}]},
            {"name": "Fin", "approvers": [{"type": "role", "role": "finance"}], "mode": "all"},
        ],
    )
    request = submit(rep, account(rep))
    with pytest.raises(Conflict):
        submit(rep, Account.objects.get(pk=request.record_id))  # already waiting
    engine.approve(actor=manager, request=request)
    engine.approve(actor=manager, request=request)  # the same answer again: nothing changes
    with pytest.raises(Conflict):
        engine.reject(actor=manager, request=request)
    request.refresh_from_db()
    assert request.step == 1 and kinds(request).count("approved") == 1

    task = ApprovalTask.objects.get(request=request, approver=company["finance"][0], status="pending")
    other = person("finance")
    with pytest.raises(PermissionDenied):
        engine.reassign(actor=rep, task=task, to=other)
    with pytest.raises(NotFound):
        engine.reassign(actor=company["admin"], task=10**12, to=other)
    with pytest.raises(ValidationError):
        engine.reject(actor=company["finance"][0], request=request, to_step={"step": 0})
    engine.reassign(actor=company["finance"][0], task=task, to=other, comment="休假")
    assert other.pk in waiting(request) and company["finance"][0].pk not in waiting(request)

    with pytest.raises(PermissionDenied):
        engine.recall(actor=manager, request=request)
    engine.recall(actor=rep, request=request, comment="客户改单")
    request.refresh_from_db()
    assert request.status == "recalled" and waiting(request) == set()
    with pytest.raises(Conflict):
        engine.approve(actor=other, request=request)


def test_delegation_for_a_date_range(company):
    rep, manager, director = company["rep"], company["manager"], company["director"]
    save(company["admin"], [{"name": "Manager", "approvers": [{"type": "manager", "level": 1}]}])
    now = timezone.now()
    services.delegate(
        actor=manager,
        user=manager,
        to=director,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
    )
    # Assigned while away: the task goes to the delegate, on the manager's behalf.
    request = submit(rep, account(rep))
    task = ApprovalTask.objects.get(request=request)
    assert (task.approver_id, task.on_behalf_of_id) == (director.pk, manager.pk)
    engine.approve(actor=director, request=request)
    request.refresh_from_db()
    assert request.status == "approved"
    # A task of the manager's, made before the delegation: the delegate may decide it too, but
    # only within the dates.
    save(
        company["admin"],
        [{"name": "Manager", "approvers": [{"type": "user", "user": manager.pk}]}],
        key="named",
    )
    from workflows.models import Delegation

    Delegation.objects.all().delete()
    request = submit(rep, account(rep), process="named")
    Delegation.objects.create(
        user=manager, delegate=director, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2)
    )
    with pytest.raises(Conflict):
        engine.approve(actor=director, request=request)
    engine.approve(actor=director, request=request, now=now + timedelta(days=1, hours=1))
    request.refresh_from_db()
    task = ApprovalTask.objects.get(request=request)
    assert request.status == "approved" and (task.decided_by_id, task.on_behalf_of_id) == (
        director.pk,
        manager.pk,
    )
    with pytest.raises(ValidationError):
        services.delegate(
            actor=manager, user=manager, to=manager, starts_at=now, ends_at=now - timedelta(days=1)
        )


def test_a_running_request_keeps_its_version(company):
    rep, manager = company["rep"], company["manager"]
    save(company["admin"], [{"name": "Manager", "approvers": [{"type": "manager", "level": 1}]}])
    first = submit(rep, account(rep))
    process = save(
        company["admin"], [{"name": "Finance", "approvers": [{"type": "role", "role": "finance"}]}]
    )
    assert process.current.number == 2
    second = submit(rep, account(rep))
    assert waiting(first) == {manager.pk}
    assert waiting(second) == {u.pk for u in company["finance"]}
    engine.approve(actor=manager, request=first)
    first.refresh_from_db()
    assert first.status == "approved" and first.version.number == 1
    assert (
        save(
            company["admin"], [{"name": "Finance", "approvers": [{"type": "role", "role": "finance"}]}]
        ).current.number
        == 2
    )


def test_final_actions_set_fields_and_plan_a_follow_up(company):
    rep, manager = company["rep"], company["manager"]
    metadata.add_field(
        actor=company["admin"],
        object_key=ACCOUNT,
        name="credit_ok",
        type="boolean",
        label_en="Credit checked",
    )
    save(
        company["admin"],
        [{"name": "Manager", "approvers": [{"type": "manager", "level": 1}]}],
        on_approve=[
            {"type": "set_field", "field": "custom.credit_ok", "value": True},
            {"type": "set_field", "field": "industry", "value": "制造业"},
            {"type": "follow_up", "subject": "通知客户审批结果", "due_in_days": 2},
        ],
    )
    record = account(rep)
    request = submit(rep, record)
    engine.approve(actor=manager, request=request, comment="同意")
    record.refresh_from_db()
    assert record.custom["credit_ok"] is True and record.industry == "制造业"
    reminder = Reminder.objects.get(kind="approval_follow_up")
    assert reminder.user_id == rep.pk and reminder.message == "通知客户审批结果"
