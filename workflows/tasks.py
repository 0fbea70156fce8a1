"""Celery tasks of the approval engine. Each carries its tenant's schema and enters it; each is
idempotent and acknowledges late, so a worker killed mid-task has it run again, safely."""

import logging

from celery import shared_task
from django.db import OperationalError
from django_tenants.utils import tenant_context

from crm_platform.observability import bind_tenant
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def _in_tenant(schema: str, function, *args):
    tenant = Tenant.objects.filter(schema_name=schema, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        logger.info("skipping %s for %s: tenant not active", function.__name__, schema)
        return None
    bind_tenant(schema)
    try:
        with tenant_context(tenant):
            return function(*args)
    finally:
        bind_tenant("-")


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def email_notifications(schema: str, ids: list[int]) -> int | None:
    from workflows.notify import email

    return _in_tenant(schema, email, ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def handle_overdue_task(schema: str, task_id: int) -> str | None:
    """One overdue approval task: remind, escalate or decide, as its step says (deadlines.py)."""
    from workflows.deadlines import handle_overdue

    return _in_tenant(schema, handle_overdue, task_id)
