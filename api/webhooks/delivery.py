"""One delivery attempt, the retry schedule, and the periodic jobs that keep deliveries moving.
Everything here works in "the current tenant" (tasks.py enters the schema).

Claiming an attempt: one conditional UPDATE (still pending, due, attempts unchanged) counts the
attempt and pushes `next_attempt_at` forward by a lease. Of two workers handed the same delivery
(a task the broker redelivered, a sweep racing the first task) only one wins; the other sends
nothing. No row lock is held across the HTTP request. A worker that dies mid-attempt leaves the
lease to run out, and the sweep then queues the delivery again. A succeeded or failed delivery
is never sent again by a task; only `services.redeliver` sends its event once more, as a new row.

Retries: a failed attempt sets `next_attempt_at` from WEBHOOKS_RETRY_DELAYS (1 min, 5 min,
30 min, 2 h, 8 h, 24 h by default: exponential, plus up to 20% jitter so retries to one receiver
do not arrive in lockstep); `retry_due_deliveries`, a TENANT_JOB run every minute, queues every
due delivery. Why not Celery's `retry(countdown=...)`: a countdown lives only in the broker and in
the worker that prefetched it. Hours-long ETAs sit in worker memory and, on Redis, come back after
the visibility timeout; a purge or a lost message loses the retry for good. With the schedule in
the row nothing is lost, and the same sweep sends a first attempt whose task never reached the
broker (queued after commit, when the broker was down).
"""

import http.client
import json
import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks import signing, targets
from api.webhooks.events import TEST_EVENT

logger = logging.getLogger(__name__)

JITTER = 0.2
SWEEP_BATCH = 500  # deliveries queued per tenant per sweep; the rest wait for the next minute
ERROR_LENGTH = WebhookDelivery._meta.get_field("last_error").max_length


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent and signed: compact JSON, UTF-8."""
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def max_attempts(delivery: WebhookDelivery) -> int:
    # A test event is a one-off check of the URL: retrying it for a day would help nobody.
    return 1 if delivery.event == TEST_EVENT else len(settings.WEBHOOKS_RETRY_DELAYS) + 1


def retry_delay(failed_attempts: int) -> timedelta:
    """How long to wait after the `failed_attempts`-th failed attempt."""
    delays = settings.WEBHOOKS_RETRY_DELAYS
    seconds = delays[min(failed_attempts, len(delays)) - 1]
    return timedelta(seconds=seconds * (1 + random.uniform(0, JITTER)))


def _lease() -> timedelta:
    # Longer than one attempt can take (connect and read each get the timeout), so a live
    # attempt is never taken over; short enough that a crashed one is retried soon.
    return timedelta(seconds=2 * settings.WEBHOOKS_TIMEOUT + 30)


def attempt(delivery_id: int) -> str:
    """Make the next attempt of a delivery if it is pending and due. Returns what happened:
    "succeeded", "retrying", "failed", or "skipped" (done already, not due, or claimed by another
    worker)."""
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return "skipped"
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return "skipped"
    endpoint = delivery.endpoint
    pending = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    )
    if not endpoint.is_active and delivery.event != TEST_EVENT:
        pending.update(
            status=WebhookDelivery.Status.FAILED,
            next_attempt_at=None,
            last_error="The endpoint is disabled; nothing was sent.",
        )
        return "failed"

    if delivery.attempts >= max_attempts(delivery):  # the schedule was shortened meanwhile
        pending.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
        return "failed"

    number = delivery.attempts + 1
    claimed = pending.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).update(
        attempts=number, next_attempt_at=now + _lease()
    )
    if not claimed:
        return "skipped"

    body = body_of(delivery)
    headers = signing.headers(endpoint.secret, str(delivery.event_id), body)
    status_code, error = None, ""
    started = time.monotonic()
    try:
        status_code, excerpt = targets.post(endpoint.url, body, headers, settings.WEBHOOKS_TIMEOUT)
    except targets.TargetRefused as refused:
        error = str(refused)
    except Exception as failure:
        # Connection, TLS, timeout and protocol errors are the receiver's; anything else is ours,
        # logged, but still a failed attempt, so a delivery can never crash its way past its limit.
        if not isinstance(failure, OSError | http.client.HTTPException):
            logger.exception("webhook delivery %s: attempt %s raised", delivery.pk, number)
        error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
    duration_ms = round((time.monotonic() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not succeeded:
        error = f"HTTP {status_code}" + (f": {excerpt.strip()}" if excerpt.strip() else "")
    return _record(delivery, number, status_code, error[:ERROR_LENGTH], duration_ms, succeeded)


def _record(delivery, number: int, status_code, error: str, duration_ms: int, succeeded: bool) -> str:
    now = timezone.now()
    entry = {
        "attempt": number,
        "at": now.isoformat(),
        "status_code": status_code,
        "error": error,
        "duration_ms": duration_ms,
    }
    fields = {"last_status_code": status_code, "last_error": error, "history": [*delivery.history, entry]}
    gone = status_code == 410  # Standard Webhooks: the receiver wants no more; stop at once
    if succeeded:
        outcome = "succeeded"
        fields |= {"status": WebhookDelivery.Status.SUCCEEDED, "delivered_at": now, "next_attempt_at": None}
    elif gone or number >= max_attempts(delivery):
        outcome = "failed"
        fields |= {"status": WebhookDelivery.Status.FAILED, "next_attempt_at": None}
    else:
        outcome = "retrying"
        fields["next_attempt_at"] = now + retry_delay(number)
    # Only if still ours: a worker whose lease ran out must not overwrite a newer attempt.
    if not WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=number
    ).update(**fields):
        logger.warning("webhook delivery %s: attempt %s finished after its lease", delivery.pk, number)
        return "skipped"
    logger.info(
        "webhook delivery %s attempt %s to endpoint %s: %s (%s)",
        delivery.pk,
        number,
        delivery.endpoint_id,
        outcome,
        status_code or error,
    )
    if delivery.event != TEST_EVENT:  # a test ping says nothing about the endpoint's health
        _track_health(delivery.endpoint_id, succeeded, gone, outcome == "failed")
    return outcome


def _track_health(endpoint_id: int, succeeded: bool, gone: bool, failed: bool) -> None:
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint_id)
    if succeeded:
        endpoints.filter(failure_count__gt=0).update(failure_count=0)
    elif gone:
        _disable(endpoint_id, "The receiver answered 410 Gone.")
    elif failed:
        endpoints.update(failure_count=F("failure_count") + 1)
        limit = settings.WEBHOOKS_DISABLE_AFTER
        if endpoints.filter(failure_count__gte=limit).exists():
            _disable(endpoint_id, f"{limit} deliveries in a row failed.")


def _disable(endpoint_id: int, reason: str) -> None:
    if WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason
    ):
        logger.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)


def retry_due_deliveries() -> int:
    """TENANT_JOB: queue every pending delivery that is due (retries, and first attempts whose
    task was lost). Returns how many were queued. Queuing one twice is harmless: see `attempt`."""
    from api.webhooks.tasks import queue

    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    queue(connection.schema_name, due)
    return len(due)


def purge_old_deliveries() -> int:
    """TENANT_JOB: forget finished deliveries older than WEBHOOKS_KEEP_DAYS. Returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_KEEP_DAYS)
    deleted, _by_model = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff)
        .exclude(status=WebhookDelivery.Status.PENDING)
        .delete()
    )
    return deleted
