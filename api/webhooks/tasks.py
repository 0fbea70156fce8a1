"""The Celery task that sends one webhook delivery, inside the delivery's tenant.

Like tenants/tasks.py: the message carries the schema name, the task enters that schema itself and
acknowledges late, so a worker killed mid-task gets the message redelivered. That is safe because
an attempt is claimed with a conditional update (delivery.py): a succeeded delivery is never sent
again, and two workers never send the same attempt.
"""

import logging

from celery import shared_task
from django.db import OperationalError
from django_tenants.utils import tenant_context

from api.webhooks import delivery
from crm_platform.observability import bind_tenant
from tenants.models import Tenant

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def deliver(schema: str, delivery_id: int) -> str:
    """Attempt delivery `delivery_id` of tenant `schema`. A tenant that is not active (suspended,
    deleted) is skipped; its pending deliveries resume if it is reactivated."""
    tenant = Tenant.objects.filter(schema_name=schema, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        logger.info("skipping webhook delivery %s of %s: tenant not active", delivery_id, schema)
        return "skipped"
    bind_tenant(schema)
    try:
        with tenant_context(tenant):
            return delivery.attempt(delivery_id)
    finally:
        bind_tenant("-")


def queue(schema: str, delivery_ids: list[int]) -> None:
    """Queue an attempt of each delivery. A broker that cannot be reached is logged, not raised:
    the rows are pending and due, so the next sweep queues them (delivery.retry_due_deliveries)."""
    for delivery_id in delivery_ids:
        try:
            deliver.delay(schema, delivery_id)
        except Exception:
            logger.warning("could not queue webhook delivery %s; the sweep will", delivery_id, exc_info=True)
