"""Celery tasks of the approval engine. Each carries its tenant's schema and enters it; each is
idempotent and acknowledges late, so a worker killed mid-task has it run again, safely."""

from celery import shared_task
from django.db import OperationalError

from tenants.tasks import in_active_tenant


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def email_notifications(schema: str, ids: list[int]) -> int | None:
    from workflows.notify import email

    return in_active_tenant(schema, email, ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def handle_overdue_task(schema: str, task_id: int) -> str | None:
    """One overdue approval task: remind, escalate or decide, as its step says (deadlines.py)."""
    from workflows.deadlines import handle_overdue

    return in_active_tenant(schema, handle_overdue, task_id)
