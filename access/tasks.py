"""Background work of the access rules, carrying its tenant like every tenant task."""

from celery import shared_task
from django.db import connection
from django_tenants.utils import schema_context

from access import ancestors, rescope
from access.models import RescopeJob

LOCK_RETRY_SECONDS = 5


def queue_rescope(job: RescopeJob) -> None:
    # With no broker configured (a demo), Celery runs the task eagerly, here.
    rescope_records.delay(connection.schema_name, job.pk)


@shared_task(acks_late=True)
def rescope_records(schema: str, job_id: int) -> int:
    with schema_context(schema):
        job = RescopeJob.objects.filter(pk=job_id).exclude(status=RescopeJob.Status.DONE).first()
        return rescope.run(job).done if job else 0


@shared_task(bind=True, acks_late=True, max_retries=60)
def build_ancestor_indexes(self, schema: str) -> list[int]:
    """Build the ancestor indexes tenant `schema`'s channel tree wants (access/ancestors.py);
    returns the depths newly marked ready.

    Idempotent, so a redelivery after a lost worker (acks_late) only finishes the work. One build
    per tenant at a time: a second one waits its turn by retrying, never by blocking, since a
    concurrent index build waits for every older transaction, a blocked waiter's included.
    """
    ready = build_ancestor_indexes_now(schema)
    if ready is None:
        raise self.retry(countdown=LOCK_RETRY_SECONDS)
    return ready


def build_ancestor_indexes_now(schema: str) -> list[int] | None:
    """The task's work, in this process; None if another build of the tenant holds its lock."""
    key = f"ancestor-index:{schema}"
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        if not cursor.fetchone()[0]:
            return None
        try:
            return ancestors.build()
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
