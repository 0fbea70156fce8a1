"""API tokens: issue, list, revoke, and authenticate bearer tokens.

A token reads `crm_<prefix>_<secret>`. The prefix is public: it finds the row through a unique
index. The secret is 256 random bits, and only its SHA-256 is stored. A slow password hash only
helps when the secret could be guessed, and this one can't be, so one fast hash per request is
enough. The full token is returned once, by `issue_token`, and can't be recovered after that.

A token acts as its user, narrowed by its scopes ("read", "write", "admin"; see
api/permissions.py). The user's own permissions still decide what the token may touch. Every
token expires, after 1 to 365 days.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Collection
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access.permissions import is_access_admin
from accounts.models import User
from api.models import ApiToken
from crm_platform.errors import NotFound, PermissionDenied
from tenants.services import require_writable

SCOPES = ("read", "write", "admin")
MAX_DAYS = 365
# Writing `last_used_at` on every request would add one write to every read. Once a minute is
# precise enough to spot an unused or leaked token.
LAST_USED_PRECISION = timedelta(minutes=1)

PREFIX_BYTES = 6  # 12 hex characters
SECRET_BYTES = 32  # 256 bits, 43 URL-safe characters
# A strict pattern, checked before any query, so no header text (NUL bytes, any length) reaches SQL.
TOKEN_PATTERN = re.compile(r"crm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def issue_token(
    actor,
    *,
    name: str,
    scopes: Collection[str],
    kind: str = ApiToken.Kind.PERSONAL,
    user: User | int | None = None,
    expires_in_days: int = 90,
    within: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token and return its row and its plaintext. The plaintext is not stored, so
    show it to the caller now.

    A personal token acts as `actor`, so `user` must be None or the actor. An integration token
    acts as `user`, which must be an active user of this tenant (usually a dedicated integration
    user), and only a tenant administrator may issue one. `within` is the token the request
    was made with, if any. The new token gets no scope that token lacks and expires no later
    than it does, so a token can't extend its own rights or lifetime.
    """
    require_writable()
    if kind not in ApiToken.Kind.values:
        raise ValidationError(
            {"kind": [ValidationError(_("Choose personal or integration."), code="invalid")]}
        )
    if actor is None:
        raise PermissionDenied(_("Tokens are issued by a signed-in user."))
    if kind == ApiToken.Kind.INTEGRATION and not is_access_admin(actor):
        raise PermissionDenied(_("Only administrators may issue integration tokens."))

    errors: dict[str, list[ValidationError]] = {}

    def refuse(field: str, message: str, code: str = "invalid") -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    name = name.strip() if isinstance(name, str) else ""
    if not name:
        refuse("name", _("Give the token a name."), "required")
    elif len(name) > ApiToken._meta.get_field("name").max_length:
        refuse("name", _("Use at most 100 characters."), "max_length")

    chosen = _clean_scopes(scopes, refuse)
    if within is not None and chosen and not set(chosen) <= set(within.scopes):
        refuse("scopes", _("A token cannot grant scopes it does not have itself."), "not_allowed")

    days = _clean_days(expires_in_days, refuse)
    now = timezone.now()
    expires_at = now + timedelta(days=days) if days else None
    if within is not None and expires_at is not None and expires_at > within.expires_at:
        refuse("expires_in_days", _("A token cannot outlive the token that issues it."), "too_long")

    holder = _holder(actor, kind, user, refuse)
    if errors:
        raise ValidationError(errors)

    secret = secrets.token_urlsafe(SECRET_BYTES)
    # Prefixes are 48 random bits, so two tokens sharing one is very unlikely. If it happens,
    # the unique index refuses the insert and a new prefix is drawn inside a savepoint.
    for attempt in range(3):
        prefix = secrets.token_hex(PREFIX_BYTES)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=holder,
                    kind=kind,
                    name=name,
                    prefix=prefix,
                    digest=_digest(secret),
                    scopes=chosen,
                    created_by=actor,
                    created_at=now,
                    expires_at=expires_at,
                )
            break
        except IntegrityError:
            if attempt == 2:
                raise
    return token, f"crm_{prefix}_{secret}"


def _clean_scopes(scopes, refuse) -> list[str]:
    if isinstance(scopes, str) or not isinstance(scopes, Collection) or not scopes:
        refuse("scopes", _("Choose at least one of: read, write, admin."), "required")
        return []
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        refuse("scopes", _("Unknown scope: %(scope)s.") % {"scope": str(unknown[0])[:20]}, "invalid_choice")
        return []
    return [s for s in SCOPES if s in scopes]  # canonical order, no repeats


def _clean_days(value, refuse) -> int | None:
    # Accept the digits a form sends as well as a JSON number, but not a bool (True == 1).
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        refuse("expires_in_days", _("Choose a number of days from 1 to %(max)d.") % {"max": MAX_DAYS})
        return None
    return value


def _holder(actor, kind: str, user, refuse) -> User | None:
    """The user the token will act as."""
    user_id = user.pk if isinstance(user, User) else user
    if isinstance(user_id, str) and user_id.strip().isdigit():  # a form's "12"
        user_id = int(user_id)
    if kind == ApiToken.Kind.PERSONAL:
        if user_id is not None and user_id != actor.pk:
            refuse("user", _("A personal token always acts as you."), "not_allowed")
            return None
        return actor
    if user_id is None or user_id == "":
        refuse("user", _("Choose the user the integration acts as."), "required")
        return None
    # Look the user up again even when given an object. The query is in this tenant's schema,
    # so only an active user of this tenant can match.
    holder = (
        User.objects.filter(pk=user_id, is_active=True).first()
        if isinstance(user_id, int) and not isinstance(user_id, bool)
        else None
    )
    if holder is None:
        refuse("user", _("No active user with this id."), "invalid")
    return holder


def revoke_token(actor, token_id: int) -> ApiToken:
    """Revoke a token now. Its own user or a tenant administrator may do this; anyone else gets
    NotFound, the same answer as for a missing token. Revoking a revoked token changes nothing."""
    require_writable()
    token = _visible(actor).filter(pk=token_id).first() if isinstance(token_id, int) else None
    if token is None:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        # Conditional, so two concurrent revocations agree on the first time.
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db(fields=["revoked_at"])
    return token


def tokens_of(actor):
    """The tokens the actor may see: their own, or every token of the tenant for an
    administrator. Newest first. Only digests are stored, so no secret can come back."""
    return _visible(actor).select_related("user").order_by("-created_at", "-pk")


def _visible(actor):
    if is_access_admin(actor):
        return ApiToken.objects.all()
    return ApiToken.objects.filter(user_id=actor.pk)


def authenticate_token(text: str) -> ApiToken | None:
    """Return the live token that `text` spells, or None.

    None covers a malformed token, an unknown prefix, a wrong secret, and a token that is
    revoked, expired or whose user is inactive. The caller can't tell which it was. The row is
    looked up in the current schema, so another tenant's token is unknown here.
    """
    match = TOKEN_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    prefix, secret = match.groups()
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        return None
    now = timezone.now()
    if token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or token.last_used_at <= now - LAST_USED_PRECISION:
        # Conditional, so concurrent requests in the same minute write the row at most once.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
