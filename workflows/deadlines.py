"""SLA deadlines of approval steps: a reminder before a task's deadline, and the step's overdue
action after it — remind again, escalate to the approver's manager, or approve or reject.

`run_deadlines` is a periodic tenant job (settings.TENANT_JOBS): it sends due reminders and queues
one `handle_overdue_task` per overdue task. Each overdue task is handled under its request's row
lock and only while it is still pending and due, and the handling marks it (handed on, decided,
or its deadline cleared), all in one transaction: a worker killed midway leaves nothing done and
the redelivered task does it once; a task queued twice is handled once.
"""

import logging

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows import engine, notify
from workflows.models import ApprovalEvent, ApprovalTask

logger = logging.getLogger(__name__)
BATCH = 1000
Kind, TaskStatus = ApprovalEvent.Kind, ApprovalTask.Status


def run_deadlines(now=None) -> dict:
    now = now or timezone.now()
    reminded = send_reminders(now)
    overdue = list(
        ApprovalTask.objects.filter(status=TaskStatus.PENDING, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    queue_overdue(overdue)
    emailed = notify.email_unsent()
    return {"reminded": reminded, "overdue_queued": len(overdue), "emailed": emailed}


def queue_overdue(task_ids: list[int]) -> None:
    from workflows.tasks import handle_overdue_task

    schema = connection.schema_name
    for task_id in task_ids:
        handle_overdue_task.delay(schema, task_id)


def send_reminders(now) -> int:
    sent = 0
    due = ApprovalTask.objects.filter(status=TaskStatus.PENDING, remind_at__lte=now, reminded_at__isnull=True)
    for task in due.select_related("request", "approver")[:BATCH]:
        with transaction.atomic():
            # Claimed by a conditional update: two sweeps at once remind once.
            if not ApprovalTask.objects.filter(pk=task.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            request = task.request
            engine.record_event(
                request, Kind.REMINDED, None, step=task.step, now=now, data={"approver": task.approver_id}
            )
            notify.notify(
                [task.approver],
                "approval_reminder",
                request,
                _("Due soon: %(title)s") % {"title": request.title},
                _("Please decide by %(due)s.")
                % {"due": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")},
            )
            sent += 1
    return sent


def handle_overdue(task_id: int, now=None) -> str:
    """Apply the step's overdue action to one task; returns what was done."""
    now = now or timezone.now()
    with transaction.atomic():
        # order_by(): the tasks' default order joins the request table for nothing here.
        request_id = (
            ApprovalTask.objects.filter(pk=task_id).order_by().values_list("request_id", flat=True).first()
        )
        if request_id is None:
            return "gone"
        request = engine.locked(request_id)
        task = ApprovalTask.objects.select_related("approver").get(pk=task_id)
        task.request = request  # the locked row: hand_on and notify read it without asking again
        if task.status != TaskStatus.PENDING or task.due_at is None or task.due_at > now:
            return "not due"
        step = request.version.steps[task.step]
        action = step["on_overdue"]
        if action == "escalate":
            manager = task.approver.manager if task.approver.manager_id else None
            if manager is not None and manager.is_active:
                due, _remind = engine.deadlines_of(step, now)
                engine.hand_on(task, manager, TaskStatus.ESCALATED, now=now, due_at=due)
                engine.record_event(
                    request,
                    Kind.ESCALATED,
                    None,
                    step=task.step,
                    now=now,
                    data={"action": action, "from": task.approver_id, "to": manager.pk},
                )
                return "escalated"
            action = "remind"  # nobody above: the approver is told again, and that is recorded
        if action in ("approve", "reject"):
            status = TaskStatus.APPROVED if action == "approve" else TaskStatus.REJECTED
            engine.close_task(task, status, None, _("Decided automatically: the deadline passed."), now)
            engine.record_event(
                request,
                Kind.ESCALATED,
                None,
                step=task.step,
                now=now,
                data={"action": action, "task": task.pk},
            )
            engine.settle(request, now=now)
            return action
        task.due_at = None  # handled: not overdue again
        task.save(update_fields=["due_at"])
        engine.record_event(
            request, Kind.ESCALATED, None, step=task.step, now=now, data={"action": "remind", "task": task.pk}
        )
        notify.notify(
            [task.approver], "approval_overdue", request, _("Overdue: %(title)s") % {"title": request.title}
        )
        return "reminded"
