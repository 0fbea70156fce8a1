"""Background work that belongs to a tenant: every task carries its tenant's schema name.

Periodic jobs (pool returns, reminders, SLA checks...) are plain service functions that work in
"the current tenant". Celery beat fires `fan_out(job)` on its schedule (settings.TENANT_JOBS); the
fan-out queues one `run_job` per active tenant, which enters that tenant's schema and calls the
job. Jobs are idempotent and the tasks acknowledge late, so a worker killed mid-job makes the job
run again rather than be lost.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils.module_loading import import_string
from django_tenants.utils import get_public_schema_name, tenant_context

from crm_platform.observability import bind_tenant
from tenants.models import Tenant

logger = logging.getLogger(__name__)


class UnknownJob(ValueError):
    pass


def job_function(job: str):
    """Only jobs listed in settings.TENANT_JOBS may run: a message cannot name arbitrary code."""
    if job not in settings.TENANT_JOBS:
        raise UnknownJob(job)
    return import_string(job)


@shared_task(acks_late=True)
def fan_out(job: str) -> int:
    """Queue `job` once for every active tenant; returns how many were queued."""
    job_function(job)
    schemas = (
        Tenant.objects.filter(status=Tenant.Status.ACTIVE)
        .exclude(schema_name=get_public_schema_name())
        .values_list("schema_name", flat=True)
    )
    count = 0
    for schema in schemas.iterator():
        run_job.delay(schema, job)
        count += 1
    return count


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def run_job(schema: str, job: str):
    """Run `job` inside tenant `schema`. A tenant suspended or deleted meanwhile is skipped."""
    result = in_active_tenant(schema, job_function(job))
    logger.info("job %s done in %s: %s", job, schema, result)
    return result


def in_active_tenant(schema: str, function, *args):
    """`function(*args)` inside tenant `schema`, its name on every log line; None, and nothing
    run, when the tenant is not active (suspended or deleted since the task was queued)."""
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


@shared_task(acks_late=True)
def refill_ready_schemas() -> int:
    """Top the ready-schema pool up after sign-ups took from it (tenants/provisioning/ready_pool.py)."""
    from django.db import connection

    from tenants.provisioning import ready_pool

    # One refill at a time across workers (a session advisory lock); the rows say what is missing.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('ready-schema-pool'))")
        if not cursor.fetchone()[0]:
            return 0
        try:
            return ready_pool.fill()
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext('ready-schema-pool'))")
