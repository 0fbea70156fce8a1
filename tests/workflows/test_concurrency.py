"""Decisions at the same moment, and workers killed in the middle of an escalation.

Committed rows in a throwaway tenant: the threads here each have their own database connection,
and the workers are processes of their own, so nothing may hide in an open test transaction.
"""

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context
from psycopg import sql

from crm_platform.celery import app
from crm_platform.errors import Conflict
from tenants.tasks import fan_out
from tests.conftest import admin_of, wait_until
from tests.workflows.conftest import (
    account,
    broker_backlog,
    drop_committed,
    overdue_submit,
    save,
    sent_mail,
    sign_up_committed,
    staff,
    start_worker,
    stop_worker,
)
from workflows import deadlines, engine
from workflows.models import ApprovalEvent, ApprovalRequest, ApprovalTask, Notification

LOCK_HELD = 0.3  # seconds each decision keeps the request locked, so the other one must wait


@pytest.fixture(scope="module")
def race(two_tenants, django_db_blocker):
    with django_db_blocker.unblock():
        tenant = sign_up_committed("approvals-race")
    yield tenant
    with django_db_blocker.unblock():
        drop_committed(tenant)


@pytest.fixture
def people(race, committed_db):
    with tenant_context(race):
        yield staff(admin_of(race))
    with tenant_context(race):
        ApprovalTask.objects.filter(status="pending").update(status="cancelled")
        ApprovalRequest.objects.filter(status="pending").update(status="recalled")


@pytest.fixture
def lock_waits(monkeypatch) -> list[float]:
    """Seconds each decision waited for the request's row lock; each then holds it LOCK_HELD."""
    waits, original = [], engine.locked

    def slow_locked(request):
        asked = time.monotonic()
        row = original(request)
        waits.append(time.monotonic() - asked)
        time.sleep(LOCK_HELD)
        return row

    monkeypatch.setattr(engine, "locked", slow_locked)
    return waits


def at_once(tenant, *calls) -> list:
    """Run each call in a thread of its own (so on a connection of its own), all released by one
    barrier; returns each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            with tenant_context(tenant):
                barrier.wait(timeout=30)
                return call()
        except Exception as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def kinds(request) -> list[str]:
    return list(ApprovalEvent.objects.filter(request=request).values_list("kind", flat=True))


def named(users) -> list[dict]:
    return [{"type": "user", "user": user.pk} for user in users]


def decision(actor, answer, request):
    return lambda: getattr(engine, answer)(actor=actor, request=request.pk)


@pytest.mark.parametrize("other_answer", ["approve", "reject"])
def test_two_approvers_at_once_on_an_any_step_give_one_outcome(race, people, lock_waits, other_answer):
    first, second = people["finance"][:2]
    save(people["admin"], [{"name": "Finance", "approvers": named(people["finance"])}])
    request = engine.submit(
        actor=people["rep"], object_key="customers.account", record_id=account(people["rep"]).pk
    )

    results = at_once(race, decision(first, "approve", request), decision(second, other_answer, request))

    assert max(lock_waits) >= LOCK_HELD * 0.8  # one waited for the other: both were deciding at once
    decided = [r for r in results if isinstance(r, ApprovalRequest)]
    refused = [r for r in results if not isinstance(r, ApprovalRequest)]
    assert len(decided) == 1 and len(refused) == 1 and isinstance(refused[0], Conflict), results
    winner, answer = (first, "approve") if results[0] is decided[0] else (second, other_answer)
    outcome = {"approve": "approved", "reject": "rejected"}[answer]

    request.refresh_from_db()
    assert request.status == outcome
    history = kinds(request)
    assert history.count("approved") + history.count("rejected") == 1
    assert history.count("step_approved") == (outcome == "approved") and history.count("finished") == 1
    tasks = ApprovalTask.objects.filter(request=request)
    assert [(t.approver_id, t.status) for t in tasks if t.status != "cancelled"] == [(winner.pk, outcome)]
    assert ApprovalTask.objects.filter(request=request, status="cancelled").count() == 2


def test_everyone_approving_an_all_step_at_once_moves_it_on_once(race, people, lock_waits):
    finance = people["finance"]
    save(
        people["admin"],
        [
            {"name": "Finance", "approvers": named(finance), "mode": "all"},
            {"name": "Manager", "approvers": [{"type": "manager", "level": 1}]},
        ],
        key="all",
    )
    request = engine.submit(
        actor=people["rep"],
        object_key="customers.account",
        record_id=account(people["rep"]).pk,
        process="all",
    )

    results = at_once(race, *(decision(user, "approve", request) for user in finance))

    assert all(isinstance(r, ApprovalRequest) for r in results), results
    assert sorted(lock_waits)[-1] >= 2 * LOCK_HELD * 0.8  # the last one waited for both others
    request.refresh_from_db()
    assert (request.status, request.step) == ("pending", 1)
    history = kinds(request)
    assert [history.count(kind) for kind in ("approved", "step_approved", "step_started")] == [3, 1, 2]
    waiting = ApprovalTask.objects.filter(request=request, status="pending")
    assert [task.approver_id for task in waiting] == [people["manager"].pk]


def test_the_same_decision_sent_twice_at_once_is_one_decision(race, people, lock_waits):
    first = people["finance"][0]
    save(people["admin"], [{"name": "Finance", "approvers": named(people["finance"])}], key="twice")
    request = engine.submit(
        actor=people["rep"],
        object_key="customers.account",
        record_id=account(people["rep"]).pk,
        process="twice",
    )

    results = at_once(race, decision(first, "approve", request), decision(first, "approve", request))

    assert all(isinstance(r, ApprovalRequest) for r in results), results  # no error for the repeat
    assert max(lock_waits) >= LOCK_HELD * 0.8
    request.refresh_from_db()
    assert request.status == "approved"
    history = kinds(request)
    assert (history.count("approved"), history.count("step_approved"), history.count("finished")) == (1, 1, 1)


def test_decisions_on_two_requests_of_one_process_do_not_wait_for_each_other(race, people, lock_waits):
    """The lock is the request's row only: not the process version it shares with every other
    request of the process (nor anything else the lookup joins)."""
    first, second = people["finance"][:2]
    save(people["admin"], [{"name": "Finance", "approvers": named([first, second])}], key="apart")
    requests = [
        engine.submit(
            actor=people["rep"],
            object_key="customers.account",
            record_id=account(people["rep"]).pk,
            process="apart",
        )
        for _ in range(2)
    ]

    results = at_once(race, decision(first, "approve", requests[0]), decision(second, "approve", requests[1]))

    assert all(isinstance(r, ApprovalRequest) and r.status == "approved" for r in results), results
    assert max(lock_waits) < LOCK_HELD / 2, lock_waits


def test_every_decision_locks_the_request_row_first(company):
    """What the races above rely on (and the only test here in a rolled-back transaction)."""
    save(company["admin"], [{"name": "Finance", "approvers": named(company["finance"])}], key="locks")
    request = engine.submit(
        actor=company["rep"],
        object_key="customers.account",
        record_id=account(company["rep"]).pk,
        process="locks",
    )
    with CaptureQueriesContext(connection) as captured:
        engine.approve(actor=company["finance"][0], request=request.pk)
    first = next(q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SAVEPOINT"))
    assert first.startswith('SELECT "workflows_approvalrequest"'), first
    assert first.endswith('FOR UPDATE OF "workflows_approvalrequest"'), first  # that row only


# --- workers killed mid-escalation ------------------------------------------------------------


@contextmanager
def rows_locked(tenant, statement: str, params):
    """Another session holding row locks (`SELECT ... FOR UPDATE` in an open transaction) in the
    tenant's schema until the block ends; yields that session's backend pid."""
    settings = connection.settings_dict
    holder = psycopg.connect(
        dbname=settings["NAME"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
    )
    try:
        holder.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(tenant.schema_name)))
        holder.execute(statement, params)
        yield holder.info.backend_pid
    finally:
        holder.rollback()
        holder.close()


def waiting_on(holder_pid: int) -> list[tuple[int, str]]:
    """The sessions blocked by `holder_pid`, with the statement each is blocked in."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [holder_pid]
        )
        return cursor.fetchall()


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid])
        return cursor.fetchone()[0]


def unacked() -> int:
    """Messages the broker delivered and holds until they are acknowledged (acks_late)."""
    with app.connection_for_write() as broker:
        return broker.default_channel.client.hlen("unacked")


def forget_unacked() -> None:
    """Drop what workers killed earlier (an interrupted run) left delivered and unacknowledged:
    this test counts its own message. Only while no worker runs on the test broker."""
    with app.connection_for_write() as broker:
        broker.default_channel.client.delete("unacked", "unacked_index")


def pool_process(worker) -> int:
    stats = app.control.inspect(destination=[worker.node], timeout=5).stats()
    [pid] = stats[worker.node]["pool"]["processes"]
    return pid


def kill_mid_escalation(tenant, task, worker_dir, lock: tuple[str, list], *, pool: str = "solo") -> str:
    """Queue the overdue task to a new worker, let the escalation block on rows another session
    holds, SIGKILL the process running it (the worker itself, or its pool process), then let the
    rows go. Returns the statement the escalation was blocked in."""
    app.control.purge()
    forget_unacked()
    worker = start_worker(worker_dir, f"doomed-{pool}", pool=pool)
    try:
        with rows_locked(tenant, *lock) as holder:
            deadlines.queue_overdue([task.pk])
            wait_until(lambda: waiting_on(holder))
            [(backend, statement)] = waiting_on(holder)
            assert unacked() == 1  # delivered, not acknowledged: acks_late
            os.kill(worker.pid if pool == "solo" else pool_process(worker), signal.SIGKILL)
            if pool == "solo":
                worker.wait(timeout=30)
            else:  # the worker saw its pool process die and dealt with the message
                wait_until(lambda: unacked() == 0)
        wait_until(lambda: backend_gone(backend))
    finally:
        stop_worker(worker)
    return statement


def escalating(people, key="escalate"):
    step = {"name": "Manager", "approvers": [{"type": "manager", "level": 1}], "sla_hours": 24}
    save(people["admin"], [{**step, "on_overdue": "escalate"}], key=key)
    request = overdue_submit(key, people["rep"], account(people["rep"]))
    return request, ApprovalTask.objects.get(request=request)


def assert_escalated_once(request, people) -> None:
    old, new = ApprovalTask.objects.filter(request=request).order_by("id")
    assert (old.status, old.approver_id) == ("escalated", people["manager"].pk)
    assert (new.status, new.approver_id) == ("pending", people["director"].pk)
    [escalated] = ApprovalEvent.objects.filter(request=request, kind="escalated")
    assert escalated.data == {"action": "escalate", "from": people["manager"].pk, "to": people["director"].pk}


def assert_untouched(request, task) -> None:
    task.refresh_from_db()
    assert (task.status, task.due_at < timezone.now()) == ("pending", True)
    assert ApprovalTask.objects.filter(request=request).count() == 1
    assert not ApprovalEvent.objects.filter(request=request, kind="escalated").exists()


def test_a_worker_killed_before_its_escalation_commits_loses_nothing(race, people, worker_dir):
    request, task = escalating(people)
    # The request's row held elsewhere: the worker waits inside handle_overdue's transaction.
    lock = ("SELECT id FROM workflows_approvalrequest WHERE id = %s FOR UPDATE", [request.pk])

    blocked_in = kill_mid_escalation(race, task, worker_dir, lock)

    assert "FOR UPDATE" in blocked_in and "workflows_approvalrequest" in blocked_in
    assert_untouched(request, task)
    assert unacked() == 1  # the broker still holds the message: nothing is lost
    # A new worker gets the message again once the visibility timeout passed, and escalates once.
    fresh = start_worker(worker_dir, "fresh", visibility_timeout=2)
    try:
        wait_until(lambda: ApprovalTask.objects.get(pk=task.pk).status == "escalated")
        wait_until(lambda: broker_backlog() == 0)
        deadlines.queue_overdue([task.pk])  # and the next sweep finds nothing to do
        wait_until(lambda: broker_backlog() == 0)
    finally:
        stop_worker(fresh)
    assert_escalated_once(request, people)


def test_a_worker_killed_at_commit_does_not_escalate_twice_and_the_email_still_goes(race, people, worker_dir):
    request, task = escalating(people, key="at-commit")
    director = people["director"]
    # The director's row held elsewhere: the escalation writes everything, then waits at COMMIT
    # for the deferred foreign-key check of the director's new task.
    lock = ("SELECT id FROM accounts_user WHERE id = %s FOR UPDATE", [director.pk])

    blocked_in = kill_mid_escalation(race, task, worker_dir, lock)

    # The server finished the COMMIT after the worker died: the escalation is done, but the worker
    # never acknowledged the message nor queued the e-mail (it would have after the commit).
    assert blocked_in.strip().upper() == "COMMIT"
    assert_escalated_once(request, people)
    notice = Notification.objects.get(request=request, user=director)
    assert notice.emailed_at is None and unacked() == 1
    fresh = start_worker(worker_dir, "fresh", visibility_timeout=2)
    try:
        wait_until(lambda: broker_backlog() == 0)  # redelivered and done: "not due" any more
        assert_escalated_once(request, people)
        # The deadline sweep e-mails what was never sent, once it is a minute old.
        Notification.objects.filter(pk=notice.pk).update(created_at=F("created_at") - timedelta(minutes=2))
        fan_out.delay("workflows.deadlines.run_deadlines")
        wait_until(lambda: Notification.objects.get(pk=notice.pk).emailed_at is not None)
        wait_until(lambda: broker_backlog() == 0)
    finally:
        stop_worker(fresh)
    assert [subject for to, subject in sent_mail(worker_dir) if to == director.email] == [notice.subject]


def test_a_pool_process_killed_mid_escalation_is_recovered_by_the_next_sweep(race, people, worker_dir):
    request, task = escalating(people, key="pool")
    lock = ("SELECT id FROM workflows_approvalrequest WHERE id = %s FOR UPDATE", [request.pk])

    kill_mid_escalation(race, task, worker_dir, lock, pool="prefork")

    assert_untouched(request, task)
    # The worker saw its pool process die (WorkerLostError) and, task_reject_on_worker_lost being
    # off, acknowledged the message as failed: the broker holds nothing. The sweep still finds
    # the task overdue and queues it again.
    assert broker_backlog() == 0
    fresh = start_worker(worker_dir, "fresh")
    try:
        assert deadlines.run_deadlines()["overdue_queued"] == 1
        wait_until(lambda: ApprovalTask.objects.get(pk=task.pk).status == "escalated")
        wait_until(lambda: broker_backlog() == 0)
    finally:
        stop_worker(fresh)
    assert_escalated_once(request, people)
