"""What the APIs keep per tenant: API tokens (hashed, never the secret) and idempotency keys."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token acting as its user, narrowed by its scopes. Only a hash of the secret is
    stored; the full token is shown once, when it is issued."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        INTEGRATION = "integration", _("Integration")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PERSONAL)
    name = models.CharField(_("name"), max_length=100)
    # The token's public part: it finds the row (indexed), the secret is checked against `digest`.
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Required: every token expires (at most a year after it is issued, see api/tokens.py).
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class IdempotencyKey(models.Model):
    """The answer to a write sent with an `Idempotency-Key` header, replayed when the same request
    comes again. The row is written in the write's own transaction, so it exists exactly when the
    write committed; its unique key makes a concurrent repeat wait for the first and replay it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body: a reused key is refused
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_key_unique")]

    def __str__(self) -> str:
        return self.key


class WebhookEndpoint(models.Model):
    """A URL of the tenant's that receives signed POSTs for the record events it subscribes to
    (api/webhooks/). Only administrators manage endpoints and see their secrets."""

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Event names or patterns: "account.created", "account.*", "*" (api/webhooks/events.py).
    events = models.JSONField(_("events"), default=list)
    # The shared HMAC key ("whsec_" + base64 of 32 random bytes, the Standard Webhooks form). It
    # is stored in clear, unlike an API token's digest: every delivery is signed with it, and the
    # receiver holds the same key. Only administrators can read it (api/webhooks/services.py).
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Deliveries in a row that ended failed; a success resets it. At WEBHOOKS_DISABLE_AFTER (or on
    # a "410 Gone") the endpoint is switched off: is_active false, disabled_at and the reason set.
    failure_count = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one endpoint, with the outcome of its attempts.

    `event_id` is the Webhook-Id header and the payload's "id": the same on every attempt and on
    a manual redelivery, so receivers can use it as their idempotency key. Retries are scheduled
    by `next_attempt_at` and picked up by a periodic sweep (api/webhooks/delivery.py)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    # No index of its own: the log's index below starts with the endpoint.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.CharField(_("event"), max_length=150)
    event_id = models.UUIDField()
    payload = models.JSONField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # One entry per attempt: {"at", "status_code", "error", "duration_ms"}; bounded by the attempts.
    history = models.JSONField(default=list)
    # Pending only: when the next attempt is due (or, while an attempt runs, when its lease ends).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # The admin's log: one endpoint's deliveries, newest first, paged by id.
            models.Index(fields=["endpoint", "-id"], name="api_webhook_delivery_log"),
            # The retry sweep: pending deliveries that are due, and nothing else.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="api_webhook_delivery_due",
            ),
            # The daily purge of old log entries.
            models.Index(fields=["created_at"], name="api_webhook_delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
