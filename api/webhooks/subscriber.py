"""The domain-event subscriber: every record event becomes one delivery per matching endpoint.

Events reach subscribers only after their transaction commits (crm/records/events.py), so a
rolled-back change sends nothing, and a receiver that calls back finds the record. The event
names its tenant's schema; the subscriber looks endpoints up there, writes the delivery rows
(each pending and due at once), then queues one task per row. If the queueing fails the rows are
still there, and the retry sweep sends them.

The payload is thin on purpose:

    {"id": "<event id>", "type": "account.created", "created_at": "...", "tenant": "<slug>",
     "object": "customers.account", "record_id": 7, "data": {...the event's own details...}}

It carries no field values of the record. A receiver fetches the record through the API
(GET /api/v1/records/<object>/<record_id>) with its own token, so the object, field and data-scope
permissions of that token's user always apply and a webhook never shows what its reader may not
see. "object" is the key the REST API uses ("customers.account", "custom.project").
"""

import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks import tasks
from api.webhooks.events import matches
from crm.records.events import Event, subscribe
from tenants.models import Tenant

CUSTOM_RECORD = "metadata.customrecord"


def payload(event_id: uuid.UUID, name: str, slug: str, object_key, record_id, data: dict) -> dict:
    # Round-trip through JSON so what is stored is exactly what will be sent (dates as text...).
    return {
        "id": str(event_id),
        "type": name,
        "created_at": timezone.now().isoformat(),
        "tenant": slug,
        "object": object_key,
        "record_id": record_id,
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }


def tenant_slug(schema: str, current) -> str:
    """The slug of the tenant owning `schema`; `current` is the connection's tenant, if any."""
    if isinstance(current, Tenant) and current.schema_name == schema:
        return current.slug
    return Tenant.objects.filter(schema_name=schema).values_list("slug", flat=True).first() or schema


@subscribe
def on_event(event: Event) -> None:
    if event.schema == get_public_schema_name():
        return  # the control plane has no webhooks
    current = getattr(connection, "tenant", None)
    with schema_context(event.schema):
        endpoints = [
            endpoint
            for endpoint in WebhookEndpoint.objects.filter(is_active=True).only("pk", "events")
            if matches(endpoint.events, event.name)
        ]
        if not endpoints:
            return
        # A custom record's model is CustomRecord for every custom object; its event names the object.
        object_key = event.data.get("object") if event.model == CUSTOM_RECORD else event.model
        event_id = uuid.uuid4()  # one id per event, the same on every endpoint and attempt
        body = payload(
            event_id, event.name, tenant_slug(event.schema, current), object_key, event.pk, event.data
        )
        now = timezone.now()
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoint, event=event.name, event_id=event_id, payload=body, next_attempt_at=now
            )
            for endpoint in endpoints
        )
    tasks.queue(event.schema, [delivery.pk for delivery in deliveries])
