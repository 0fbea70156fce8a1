"""Background work of the metadata engine, carrying its tenant like every tenant task."""

from celery import shared_task
from django.db import connection
from django_tenants.utils import schema_context

from metadata import indexes

LOCK_RETRY_SECONDS = 5


@shared_task(bind=True, acks_late=True, max_retries=60)
def sync_field_indexes(self, schema: str, field_id: int) -> str:
    """Bring one custom field's indexes in line with its definition, inside tenant `schema`.

    Idempotent, so a redelivery after a lost worker (acks_late) only finishes the work. One sync
    per field at a time: a second one waits its turn by retrying, never by blocking, since a
    concurrent index build waits for every older transaction, a blocked waiter's included.
    """
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"custom-index:{schema}:{field_id}"])
        if not cursor.fetchone()[0]:
            raise self.retry(countdown=LOCK_RETRY_SECONDS)
        try:
            return indexes.sync(field_id)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"custom-index:{schema}:{field_id}"])


@shared_task(acks_late=True)
def import_records(schema: str, job_id: int) -> int:
    """Run import job `job_id` inside tenant `schema`; returns the rows processed. A redelivery
    resumes after the last committed batch (metadata/transfer/jobs.py)."""
    from metadata.transfer import jobs  # jobs queues this task: imported late, not in a cycle

    with schema_context(schema):
        job = jobs.run(job_id)
        return job.processed if job else 0
