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
