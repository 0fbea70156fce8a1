"""What a tenant's administrators do with webhooks: add, change and remove endpoints, send a test
event, read the delivery log and send a delivery again.

Every function is for access administrators only (`require_access_admin`); the others get
PermissionDenied. Writes call `require_writable` (a suspended tenant changes nothing). Input
errors are a ValidationError keyed by field ("url", "events", "description", "is_active"), all of
them at once. Sends are queued after commit, like the events themselves.
"""

import uuid
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.permissions import require_access_admin
from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks import signing, targets, tasks
from api.webhooks.events import TEST_EVENT, clean_patterns
from api.webhooks.subscriber import payload, tenant_slug
from crm.records.inputs import pk_of
from crm_platform.errors import Conflict, LimitReached, NotFound
from tenants.services import require_writable

MAX_ENDPOINTS = 20
CHANGEABLE = ("url", "events", "description", "is_active")
MAX_DESCRIPTION = WebhookEndpoint._meta.get_field("description").max_length
LOG_PAGE = 50
MAX_LOG_PAGE = 200


def endpoints_of(actor):
    """Every endpoint of the tenant, newest first."""
    require_access_admin(actor)
    return WebhookEndpoint.objects.order_by("-created_at", "-pk")


def get_endpoint(actor, endpoint) -> WebhookEndpoint:
    require_access_admin(actor)
    return _endpoint(pk_of(endpoint))


def _endpoint(endpoint_id, *, for_update: bool = False) -> WebhookEndpoint:
    rows = WebhookEndpoint.objects.select_for_update() if for_update else WebhookEndpoint.objects
    found = rows.filter(pk=endpoint_id).first() if _is_id(endpoint_id) else None
    if found is None:
        raise NotFound(_("No such webhook endpoint."))
    return found


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def add_endpoint(actor, *, url, events, description="") -> WebhookEndpoint:
    """Subscribe `url` to `events` (names or patterns, api/webhooks/events.py). The endpoint gets
    a new secret, which its `secret` holds: show it to the administrator."""
    require_access_admin(actor)
    require_writable()
    errors: dict[str, list] = {}
    cleaned = {
        "url": _field(errors, "url", _clean_url, url),
        "events": _field(errors, "events", clean_patterns, events),
        "description": _field(errors, "description", _clean_description, description),
    }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if WebhookEndpoint.objects.count() >= MAX_ENDPOINTS:
            raise LimitReached(
                _("A CRM can have at most %(max)d webhook endpoints.") % {"max": MAX_ENDPOINTS}
            )
        return WebhookEndpoint.objects.create(
            **cleaned, secret=signing.new_secret(), created_by=actor, created_at=timezone.now()
        )


def change_endpoint(actor, endpoint, /, **changes) -> WebhookEndpoint:
    """Change some of url, events, description and is_active. Switching an endpoint back on
    clears its failure count and why it was disabled."""
    require_access_admin(actor)
    require_writable()
    errors: dict[str, list] = {}
    for name in sorted(set(changes) - set(CHANGEABLE)):
        errors[name] = [ValidationError(_("Unknown field."), code="unknown")]
    cleaners = {
        "url": _clean_url,
        "events": clean_patterns,
        "description": _clean_description,
        "is_active": _clean_flag,
    }
    cleaned = {
        name: _field(errors, name, cleaners[name], value)
        for name, value in changes.items()
        if name in cleaners
    }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        found = _endpoint(pk_of(endpoint), for_update=True)
        if cleaned.get("is_active") and not found.is_active:
            found.failure_count, found.disabled_at, found.disabled_reason = 0, None, ""
        for name, value in cleaned.items():
            setattr(found, name, value)
        found.save()
        return found


def remove_endpoint(actor, endpoint) -> None:
    """Delete the endpoint and its delivery log; pending deliveries are not sent."""
    require_access_admin(actor)
    require_writable()
    _endpoint(pk_of(endpoint)).delete()


def send_test(actor, endpoint) -> WebhookDelivery:
    """Send a "webhook.test" event to the endpoint now, whatever it subscribes to and even while
    it is switched off: a check of the URL and of the receiver's signature code. One attempt."""
    require_access_admin(actor)
    require_writable()
    found = _endpoint(pk_of(endpoint))
    event_id = uuid.uuid4()
    slug = tenant_slug(connection.schema_name, getattr(connection, "tenant", None))
    body = payload(event_id, TEST_EVENT, slug, None, None, {"endpoint": found.pk})
    return _queue_new(found, TEST_EVENT, event_id, body)


def deliveries_of(
    actor, endpoint, *, limit: int = LOG_PAGE, before: int | None = None
) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first: `limit` deliveries older than the delivery
    `before` (an id, from the previous page), so each page costs the same."""
    require_access_admin(actor)
    found = _endpoint(pk_of(endpoint))
    errors = {}
    if not _is_id(limit) or not 1 <= limit <= MAX_LOG_PAGE:
        errors["limit"] = [
            ValidationError(_("A whole number from 1 to %(max)s.") % {"max": MAX_LOG_PAGE}, code="invalid")
        ]
    if before is not None and not _is_id(before):
        errors["before"] = [ValidationError(_("The id of a delivery."), code="invalid")]
    if errors:
        raise ValidationError(errors)
    rows = WebhookDelivery.objects.filter(endpoint=found)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    return list(rows.order_by("-pk")[:limit])


def get_delivery(actor, delivery) -> WebhookDelivery:
    require_access_admin(actor)
    delivery_id = pk_of(delivery)
    found = (
        WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
        if _is_id(delivery_id)
        else None
    )
    if found is None:
        raise NotFound(_("No such webhook delivery."))
    return found


def redeliver(actor, delivery) -> WebhookDelivery:
    """Send a finished delivery's event again, as a new delivery with the same event id and
    payload (so a receiver that already processed it can tell). A pending one will be retried
    anyway, and a switched-off endpoint must be switched on first."""
    require_access_admin(actor)
    require_writable()
    original = get_delivery(actor, delivery)
    if original.status == WebhookDelivery.Status.PENDING:
        raise Conflict(_("This delivery is still pending: it will be retried on its own."))
    if not original.endpoint.is_active and original.event != TEST_EVENT:
        raise Conflict(_("Switch the endpoint on before sending to it again."))
    return _queue_new(original.endpoint, original.event, original.event_id, original.payload)


def _queue_new(endpoint: WebhookEndpoint, event: str, event_id, body: dict) -> WebhookDelivery:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event=event, event_id=event_id, payload=body, next_attempt_at=timezone.now()
        )
        transaction.on_commit(partial(tasks.queue, connection.schema_name, [delivery.pk]))
    return delivery


def _field(errors: dict, name: str, clean, value):
    """`clean(value)`, or None with its messages recorded under `name`."""
    try:
        return clean(value)
    except ValidationError as error:
        messages = error.error_dict.get(name, []) if hasattr(error, "error_dict") else error.error_list
        errors.setdefault(name, []).extend(messages)
        return None


def _clean_url(value) -> str:
    url = value.strip() if isinstance(value, str) else ""
    if not url:
        raise ValidationError(_("Enter the URL to send events to."), code="required")
    if len(url) > targets.MAX_URL_LENGTH:
        raise ValidationError(
            _("Use at most %(max)d characters.") % {"max": targets.MAX_URL_LENGTH}, code="max_length"
        )
    try:
        targets.check(url)
    except targets.TargetRefused as refused:
        raise ValidationError(str(refused), code=refused.code) from None
    return url


def _clean_description(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."), code="invalid")
    if len(value.strip()) > MAX_DESCRIPTION:
        raise ValidationError(
            _("Use at most %(max)d characters.") % {"max": MAX_DESCRIPTION}, code="max_length"
        )
    return value.strip()


def _clean_flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(_("Send true or false."), code="invalid")
    return value
