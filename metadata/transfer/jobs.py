"""Imports of large files in the background, with progress a client can poll.

`start_import` checks the header at once (a bad file is refused in the request), stores the file
on an ImportJob and queues the work after commit. The task imports in batches; each batch commits
together with the job's counters, so a redelivered task (acks_late) resumes after the last batch
that committed and a row is never imported twice.
"""

from itertools import islice

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metadata.transfer.importer import MAX_ERRORS, Importer, read_csv
from metadata.transfer.models import ImportJob

BATCH = 200


def start_import(
    user, object_key: str, content, *, mode: str = "create", key: str | None = None
) -> ImportJob:
    """Queue an import of `content` (CSV text, bytes or a file) into `object_key` as `user`, with
    import_records' `mode` and `key`, run by a worker once the caller's transaction commits. The
    header and rights are checked now: a bad file is a ValidationError here, not a failed job."""
    text = _text(content)
    rows = read_csv(text)
    importer = Importer(user, object_key, next(rows, []), mode=mode, key=key)
    job = ImportJob.objects.create(
        object_key=importer.info.key,
        user=user,
        mode=mode,
        key=key or "",
        content=text,
        total=sum(1 for _row in rows),
    )
    schema = connection.schema_name
    transaction.on_commit(lambda: _queue(schema, job.pk))
    return job


def run(job_id: int) -> ImportJob | None:
    """Import the rest of job `job_id` batch by batch (inside its tenant's schema). A job that is
    finished, or whose user is gone, does nothing more."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return job
    if job.user is None:  # never import as the system on behalf of a deleted user
        return _finish(job, ImportJob.Status.FAILED, {"user": [_("The importing user no longer exists.")]})
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    # The errors are read later by the importing user: in their language, not the worker's.
    with translation.override(job.user.language):
        return _run(job)


def _run(job: ImportJob) -> ImportJob:
    try:
        rows = read_csv(job.content)
        importer = Importer(job.user, job.object_key, next(rows, []), mode=job.mode, key=job.key or None)
        next(islice(rows, job.processed, job.processed), None)  # rows done before a redelivery
        while batch := list(islice(rows, BATCH)):
            _import_batch(job, importer, batch)
    except Exception as error:
        _finish(job, ImportJob.Status.FAILED, _errors_of(error))
        raise
    return _finish(job, ImportJob.Status.DONE)


def _import_batch(job: ImportJob, importer: Importer, batch: list) -> None:
    job.refresh_from_db(fields=["processed", "errors"])
    report = importer.report()
    with transaction.atomic():
        for offset, cells in enumerate(batch, start=job.processed + 1):
            importer.import_row(offset, cells, report)
        errors = dict(job.errors)
        for location, messages in report.errors.items():
            if len(errors) < MAX_ERRORS:
                errors[location] = messages
        ImportJob.objects.filter(pk=job.pk).update(
            processed=F("processed") + len(batch),
            created=F("created") + report.created,
            updated=F("updated") + report.updated,
            failed=F("failed") + report.failed,
            errors=errors,
        )


def _finish(job: ImportJob, status: str, errors: dict | None = None) -> ImportJob:
    changes = {"status": status, "finished_at": timezone.now()}
    if errors:
        changes["errors"] = {**job.errors, **errors}
    ImportJob.objects.filter(pk=job.pk).update(**changes)
    job.refresh_from_db()
    return job


def _errors_of(error: Exception) -> dict:
    messages = getattr(error, "message_dict", None)
    return messages if messages is not None else {"": [str(error)[:2000]]}


def _text(content) -> str:
    data = content.read() if hasattr(content, "read") else content
    return data.decode("utf-8-sig") if isinstance(data, bytes) else data


def _queue(schema: str, job_id: int) -> None:
    from metadata.tasks import import_records  # the task module imports this one

    # With no broker configured (a demo), Celery runs the task eagerly, here.
    import_records.delay(schema, job_id)
