"""Background re-scoping, carrying its tenant like every tenant task."""

from celery import shared_task
from django.db import connection
from django_tenants.utils import schema_context

from access import rescope
from access.models import RescopeJob


def queue_rescope(job: RescopeJob) -> None:
    # With no broker configured (a demo), Celery runs the task eagerly, here.
    rescope_records.delay(connection.schema_name, job.pk)


@shared_task(acks_late=True)
def rescope_records(schema: str, job_id: int) -> int:
    with schema_context(schema):
        job = RescopeJob.objects.filter(pk=job_id).exclude(status=RescopeJob.Status.DONE).first()
        return rescope.run(job).done if job else 0
