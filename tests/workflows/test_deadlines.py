"""SLA deadlines and notifications against committed tenants and a real worker on the real broker.

The reminder sweep runs here with a chosen clock (`run_deadlines(now=...)`); the overdue tasks it
queues run on the worker, which uses the real clock, so those requests are submitted in the past.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.tasks import fan_out
from tests.conftest import admin_of, wait_until
from tests.workflows.conftest import (
    account,
    broker_backlog,
    drop_committed,
    overdue_submit,
    person,
    save,
    sent_mail,
    sign_up_committed,
    staff,
    start_worker,
    stop_worker,
)
from workflows import deadlines, engine, notify
from workflows.models import ApprovalEvent, ApprovalRequest, ApprovalTask, Notification
from workflows.tasks import email_notifications

MANAGER = [{"type": "manager", "level": 1}]


@pytest.fixture(scope="module")
def tenants(two_tenants, django_db_blocker):
    with django_db_blocker.unblock():
        made = [sign_up_committed("deadlines-a"), sign_up_committed("deadlines-b")]
    yield made
    with django_db_blocker.unblock():
        for tenant in made:
            drop_committed(tenant)


@pytest.fixture(scope="module")
def worker(tenants, worker_dir):
    from crm_platform.celery import app

    app.control.purge()  # the sign-ups' ready-pool refills: not this module's business
    started = start_worker(worker_dir, "deadlines")
    yield started
    stop_worker(started)
    app.control.purge()


@pytest.fixture
def office(tenants, worker, committed_db):
    """The company, in tenant A; afterwards every request still open in either tenant is closed,
    so the next test's sweep finds only its own tasks."""
    with tenant_context(tenants[0]):
        yield staff(admin_of(tenants[0]))
    wait_until(lambda: broker_backlog() == 0)
    for tenant in tenants:
        with tenant_context(tenant):
            ApprovalTask.objects.filter(status="pending").update(status="cancelled")
            ApprovalRequest.objects.filter(status="pending").update(status="recalled")


def events(request, kind) -> list[ApprovalEvent]:
    return list(ApprovalEvent.objects.filter(request=request, kind=kind).order_by("id"))


def mail_to(worker_dir, user) -> list[str]:
    """The subjects of the e-mails the worker sent `user`."""
    return [subject for to, subject in sent_mail(worker_dir) if to == user.email]


def emailed(*notifications) -> bool:
    ids = [n.pk for n in notifications]
    return not Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).exists()


def settled() -> None:
    """Wait for the worker to finish everything queued (follow-up e-mails included)."""
    wait_until(lambda: broker_backlog() == 0)


def test_the_overdue_handler_follows_the_clock_it_is_given(company):
    """handle_overdue in this process, in a rolled-back transaction: not due before the deadline,
    escalated after it, and a second call finds nothing to do."""
    rep, manager, director = company["rep"], company["manager"], company["director"]
    step = {"name": "Manager", "approvers": MANAGER, "sla_hours": 8, "on_overdue": "escalate"}
    save(company["admin"], [step], key="clock")
    start = timezone.now()
    request = engine.submit(
        actor=rep, object_key="customers.account", record_id=account(rep).pk, process="clock", now=start
    )
    task = ApprovalTask.objects.get(request=request)
    assert deadlines.handle_overdue(task.pk, now=start + timedelta(hours=7, minutes=59)) == "not due"
    late = start + timedelta(hours=8)
    assert deadlines.handle_overdue(task.pk, now=late) == "escalated"
    assert deadlines.handle_overdue(task.pk, now=late) == "not due"
    new = ApprovalTask.objects.get(request=request, status="pending")
    assert (new.approver_id, new.on_behalf_of_id, new.due_at) == (
        director.pk,
        manager.pk,
        late + timedelta(hours=8),
    )
    assert [e.at for e in events(request, "escalated")] == [late]
    assert deadlines.handle_overdue(10**9, now=late) == "gone"


def test_a_reminder_goes_out_once_before_the_deadline(office, worker_dir):
    rep, manager = office["rep"], office["manager"]
    step = {"name": "Manager", "approvers": MANAGER, "sla_hours": 24, "remind_before_hours": 6}
    save(office["admin"], [step], key="remind-early")
    start = timezone.now()
    request = engine.submit(
        actor=rep,
        object_key="customers.account",
        record_id=account(rep).pk,
        process="remind-early",
        now=start,
    )
    task = ApprovalTask.objects.get(request=request)
    assert (task.due_at, task.remind_at) == (start + timedelta(hours=24), start + timedelta(hours=18))

    early = deadlines.run_deadlines(now=start + timedelta(hours=17))
    first = deadlines.run_deadlines(now=start + timedelta(hours=19))
    again = deadlines.run_deadlines(now=start + timedelta(hours=20))
    assert [(r["reminded"], r["overdue_queued"]) for r in (early, first, again)] == [(0, 0), (1, 0), (0, 0)]

    task.refresh_from_db()
    assert (task.status, task.reminded_at) == ("pending", start + timedelta(hours=19))
    [reminded] = events(request, "reminded")
    assert reminded.data == {"approver": manager.pk} and reminded.at == start + timedelta(hours=19)
    [notice] = Notification.objects.filter(request=request, kind="approval_reminder")
    assert notice.user_id == manager.pk
    wait_until(lambda: emailed(notice))
    settled()
    assert mail_to(worker_dir, manager).count(notice.subject) == 1


def test_notifications_are_rows_at_once_and_emails_once_after_commit(office, worker_dir, tenants):
    rep, manager = office["rep"], office["manager"]
    save(office["admin"], [{"name": "Manager", "approvers": MANAGER}], key="notice")
    with transaction.atomic():
        request = engine.submit(actor=rep, object_key="customers.account", record_id=account(rep).pk)
        notice = Notification.objects.get(request=request)
        assert (notice.user_id, notice.kind, notice.emailed_at) == (manager.pk, "approval_waiting", None)
        time.sleep(1.5)  # a worker told before the commit would have sent it by now
        assert mail_to(worker_dir, manager) == [] and broker_backlog() == 0
    wait_until(lambda: emailed(notice))
    settled()
    assert mail_to(worker_dir, manager) == [notice.subject]

    # The same e-mail task delivered again, and the sweep, send nothing more.
    email_notifications.delay(tenants[0].schema_name, [notice.pk])
    settled()
    assert notify.email([notice.pk]) == 0 and notify.email_unsent() == 0
    assert len(mail_to(worker_dir, manager)) == 1

    # Rolled back: no row, and nothing is sent.
    other_manager = person("sales_manager")
    other_rep = person("sales_rep", manager=other_manager)
    record = account(other_rep)
    with pytest.raises(RuntimeError), transaction.atomic():
        engine.submit(actor=other_rep, object_key="customers.account", record_id=record.pk)
        assert Notification.objects.filter(user=other_manager).count() == 1
        raise RuntimeError("rolled back")
    email_notifications.delay(tenants[0].schema_name, [])  # something after it in the queue
    settled()
    assert not Notification.objects.filter(user=other_manager).exists()
    assert mail_to(worker_dir, other_manager) == []


def test_an_overdue_task_escalates_to_the_approvers_manager_once(office, worker_dir):
    rep, manager, director = office["rep"], office["manager"], office["director"]
    step = {"name": "Manager", "approvers": MANAGER, "sla_hours": 24, "on_overdue": "escalate"}
    save(office["admin"], [step], key="escalate")
    request = overdue_submit("escalate", rep, account(rep))
    old = ApprovalTask.objects.get(request=request)
    assert old.approver_id == manager.pk and old.due_at < timezone.now()

    assert deadlines.run_deadlines()["overdue_queued"] == 1
    deadlines.queue_overdue([old.pk])  # the next sweep, before the worker got to the first
    wait_until(lambda: ApprovalTask.objects.get(pk=old.pk).status == "escalated")
    settled()

    old, new = ApprovalTask.objects.filter(request=request).order_by("id")
    assert (old.status, new.status) == ("escalated", "pending")
    assert (new.approver_id, new.on_behalf_of_id, new.visit) == (director.pk, manager.pk, old.visit)
    assert new.due_at > timezone.now() + timedelta(hours=23)  # a fresh SLA from the escalation
    [escalated] = events(request, "escalated")
    assert escalated.data == {"action": "escalate", "from": manager.pk, "to": director.pk}
    [notice] = Notification.objects.filter(request=request, user=director, kind="approval_waiting")
    wait_until(lambda: emailed(notice))
    settled()
    assert len(mail_to(worker_dir, director)) == 1
    assert deadlines.run_deadlines()["overdue_queued"] == 0
    request.refresh_from_db()
    assert request.status == "pending"


def test_overdue_approve_moves_the_request_on_and_overdue_reject_ends_it(office):
    rep, manager, finance = office["rep"], office["manager"], office["finance"]
    first = {"name": "Manager", "approvers": MANAGER, "sla_hours": 24, "on_overdue": "approve"}
    then = {"name": "Finance", "approvers": [{"type": "user", "user": u.pk} for u in finance]}
    save(office["admin"], [first, then], key="auto-approve")
    save(office["admin"], [{**first, "on_overdue": "reject"}], key="auto-reject")
    approving = overdue_submit("auto-approve", rep, account(rep))
    rejecting = overdue_submit("auto-reject", rep, account(rep))

    assert deadlines.run_deadlines()["overdue_queued"] == 2
    wait_until(lambda: ApprovalRequest.objects.get(pk=rejecting.pk).status == "rejected")
    wait_until(lambda: ApprovalRequest.objects.get(pk=approving.pk).step == 1)
    settled()

    approving.refresh_from_db()
    assert approving.status == "pending"
    decided = ApprovalTask.objects.get(request=approving, step=0)
    assert (decided.status, decided.decided_by_id, decided.approver_id) == ("approved", None, manager.pk)
    assert decided.comment  # "decided automatically"
    waiting = ApprovalTask.objects.filter(request=approving, status="pending")
    assert {t.approver_id for t in waiting} == {u.pk for u in finance} and {t.step for t in waiting} == {1}
    [escalated] = events(approving, "escalated")
    assert escalated.data == {"action": "approve", "task": decided.pk}
    assert len(events(approving, "step_approved")) == 1 and not events(approving, "finished")

    rejecting.refresh_from_db()
    assert rejecting.decided_at is not None
    assert ApprovalTask.objects.get(request=rejecting).status == "rejected"
    assert events(rejecting, "escalated")[0].data["action"] == "reject"
    [finished] = events(rejecting, "finished")
    assert finished.data == {"status": "rejected"}
    assert Notification.objects.filter(request=rejecting, user=rep, kind="approval_rejected").count() == 1


def _approver_without_manager(office):
    return office["director"]


def _approver_with_an_inactive_manager(office):
    boss = person("sales_manager", name="Retired 退休")
    boss.is_active = False
    boss.save()
    return person("sales_manager", manager=boss)


@pytest.mark.parametrize(
    ("on_overdue", "approver_of"),
    [
        ("remind", _approver_without_manager),
        ("escalate", _approver_without_manager),
        ("escalate", _approver_with_an_inactive_manager),
    ],
    ids=["remind", "escalate-without-manager", "escalate-to-inactive-manager"],
)
def test_an_overdue_reminder_clears_the_deadline_and_is_recorded(office, worker_dir, on_overdue, approver_of):
    approver = approver_of(office)
    rep = office["rep"]
    step = {"name": "Named", "approvers": [{"type": "user", "user": approver.pk}], "sla_hours": 24}
    save(office["admin"], [{**step, "on_overdue": on_overdue}], key=f"late-{on_overdue}")
    request = overdue_submit(f"late-{on_overdue}", rep, account(rep))
    task = ApprovalTask.objects.get(request=request)

    assert deadlines.run_deadlines()["overdue_queued"] == 1
    wait_until(lambda: ApprovalTask.objects.get(pk=task.pk).due_at is None)
    settled()

    [task] = ApprovalTask.objects.filter(request=request)  # no one else was given the task
    assert (task.status, task.approver_id, task.due_at) == ("pending", approver.pk, None)
    [escalated] = events(request, "escalated")
    assert escalated.data == {"action": "remind", "task": task.pk}
    [notice] = Notification.objects.filter(request=request, kind="approval_overdue")
    assert notice.user_id == approver.pk
    wait_until(lambda: emailed(notice))
    settled()
    assert mail_to(worker_dir, approver).count(notice.subject) == 1
    assert deadlines.run_deadlines()["overdue_queued"] == 0  # handled: not overdue again


def _overdue_in(tenant, task_id_from: int):
    """An overdue escalating task in `tenant`, its id `task_id_from` (same in both tenants)."""
    with tenant_context(tenant):
        people = staff(admin_of(tenant))
        step = {"name": "Manager", "approvers": MANAGER, "sla_hours": 24, "on_overdue": "escalate"}
        save(people["admin"], [step], key="isolation")
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval('workflows_approvaltask_id_seq', %s, false)", [task_id_from])
        request = overdue_submit("isolation", people["rep"], account(people["rep"]))
        return people, request, ApprovalTask.objects.get(request=request)


def _next_task_id(tenants) -> int:
    highest = 0
    for tenant in tenants:
        with tenant_context(tenant), connection.cursor() as cursor:
            cursor.execute(
                "SELECT greatest((SELECT coalesce(max(id), 0) FROM workflows_approvaltask), "
                "(SELECT coalesce(pg_sequence_last_value('workflows_approvaltask_id_seq'), 0)))"
            )
            highest = max(highest, cursor.fetchone()[0])
    return highest + 100


def test_a_task_for_one_tenant_never_touches_another(office, tenants):
    a, b = tenants
    first_id = _next_task_id(tenants)
    a_people, a_request, a_task = _overdue_in(a, first_id)
    b_people, b_request, b_task = _overdue_in(b, first_id)
    assert a_task.pk == b_task.pk  # a task handled in the wrong schema would find the other's

    with tenant_context(a):
        assert deadlines.run_deadlines()["overdue_queued"] == 1
        wait_until(lambda: ApprovalTask.objects.get(pk=a_task.pk).status == "escalated")
    settled()
    with tenant_context(b):
        b_task.refresh_from_db()
        assert (b_task.status, b_task.due_at is not None) == ("pending", True)
        assert ApprovalTask.objects.filter(request=b_request).count() == 1
        assert (
            not events(b_request, "escalated")
            and not Notification.objects.filter(kind="approval_waiting", user=b_people["director"]).exists()
        )

    # The periodic path: beat's fan-out queues run_deadlines for every tenant on the worker.
    fan_out.delay("workflows.deadlines.run_deadlines")
    with tenant_context(b):
        wait_until(lambda: ApprovalTask.objects.get(pk=b_task.pk).status == "escalated")
    settled()
    for tenant, people, request in ((a, a_people, a_request), (b, b_people, b_request)):
        with tenant_context(tenant):
            [escalated] = events(request, "escalated")
            assert escalated.data == {
                "action": "escalate",
                "from": people["manager"].pk,
                "to": people["director"].pk,
            }
            assert ApprovalTask.objects.filter(request=request, status="pending").get().approver_id == (
                people["director"].pk
            )
