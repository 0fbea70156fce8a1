"""Idempotency keys on writes (the `Idempotency-Key` header, as in the IETF httpapi draft and
Stripe): a write sent again with the same key gets the first answer back, replayed, and changes
nothing more.

The key's row is inserted first, in the write's own transaction, and filled with the answer at
the end. A concurrent repeat therefore waits on the row's unique index until the first commits
(then replays it) or rolls back (then runs itself). A write that fails rolls its key back with it,
so correcting the request and sending it again with the same key works. Keys are per user and
kept for `KEEP_FOR` (TENANT_JOBS purges older ones).
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
REPLAYED_HEADERS = ("ETag", "Location")


class KeyReused(APIException):
    status_code = 422
    default_code = "idempotency_key_reused"
    default_detail = _("This Idempotency-Key was used for a different request.")


def idempotent(method):
    """Wrap a view's write method: the whole method runs in one transaction with its key."""

    @functools.wraps(method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise ValidationError({HEADER: [_("Send a key of 1 to 255 characters.")]})
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    entry = IdempotencyKey.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint, status=0
                    )
            except IntegrityError:
                return _replay(request.user, key, fingerprint)
            response = method(view, request, *args, **kwargs)
            entry.status = response.status_code
            entry.body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            entry.headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
            entry.save(update_fields=["status", "body", "headers"])
            return response

    return wrapper


def purge_expired_keys(now=None) -> int:
    """Forget keys older than KEEP_FOR (a periodic job of every tenant)."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _rows = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _replay(user, key: str, fingerprint: str) -> Response:
    entry = IdempotencyKey.objects.get(user=user, key=key)
    if entry.fingerprint != fingerprint:
        raise KeyReused()
    headers = {**entry.headers, "Idempotent-Replayed": "true"}
    return Response(entry.body, status=entry.status, headers=headers)


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.get_full_path()):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()
