"""Re-placing records after a tree changed, so the scope filter keeps matching the truth.

A record carries the materialised path of its org unit and channel node. When a node moves, every
path under it changes prefix: one UPDATE per table and batch, rewriting the prefix in place. Small
moves finish inside the caller's transaction; large ones (over settings.RESCOPE_INLINE_LIMIT
records) run in the background in batches, reporting progress on their RescopeJob. Between batches
every record is placed either by the old tree or by the new one, never anywhere else.
"""

import logging

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from access.models import RescopeJob
from crm.records.models import StandardRecord

logger = logging.getLogger(__name__)
BATCH = 5000
COLUMNS = ("channel_path", "org_path")


def record_models() -> list:
    return [model for model in apps.get_models() if issubclass(model, StandardRecord)]


def count_under(column: str, prefix: str) -> int:
    return sum(model.objects.filter(**{f"{column}__startswith": prefix}).count() for model in record_models())


def start(*, actor, column: str, old_prefix: str, new_prefix: str, description: str) -> RescopeJob:
    """Re-place every record under `old_prefix`; inline when small, else queued after commit."""
    assert column in COLUMNS and not new_prefix.startswith(old_prefix)
    job = RescopeJob.objects.create(
        column=column,
        old_prefix=old_prefix,
        new_prefix=new_prefix,
        description=description[:300],
        total=count_under(column, old_prefix),
        requested_by=actor,
    )
    if job.total <= settings.RESCOPE_INLINE_LIMIT:
        run(job)
    else:
        from access.tasks import queue_rescope

        transaction.on_commit(lambda: queue_rescope(job))
    return job


def run(job: RescopeJob) -> RescopeJob:
    """Move the job's records batch by batch; safe to run again after an interruption."""
    RescopeJob.objects.filter(pk=job.pk).update(status=RescopeJob.Status.RUNNING)
    try:
        for model in record_models():
            while moved := _move_batch(model, job):
                RescopeJob.objects.filter(pk=job.pk).update(done=F("done") + moved)
                logger.info("re-scoping %s: %s more %s", job.description, moved, model._meta.label)
                if moved < BATCH:
                    break
    except Exception as error:
        RescopeJob.objects.filter(pk=job.pk).update(status=RescopeJob.Status.FAILED, error=str(error)[:2000])
        raise
    RescopeJob.objects.filter(pk=job.pk).update(status=RescopeJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def _move_batch(model, job: RescopeJob) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(job.column)
    pattern = job.old_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s || substr({column}, %s) "
            f"WHERE id IN (SELECT id FROM {table} WHERE {column} LIKE %s LIMIT %s)",
            [job.new_prefix, len(job.old_prefix) + 1, pattern, BATCH],
        )
        return cursor.rowcount
