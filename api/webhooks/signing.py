"""Signatures in the Standard Webhooks form (https://www.standardwebhooks.com/, spec 1.0):

    Webhook-Id:        the event id, the same on every attempt (the receiver's idempotency key)
    Webhook-Timestamp: the attempt's time, integer Unix seconds
    Webhook-Signature: "v1," + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))

The secret reads "whsec_" + base64(key); the HMAC key is the decoded bytes, not the text. The id
and timestamp are signed with the body, so neither can be swapped to replay an old request. The
header may hold several space-separated signatures (to rotate a secret); `verify` accepts the
request when one of them matches.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64
DEFAULT_TOLERANCE = 5 * 60  # seconds: the spec's recommendation against replays
USER_AGENT = "crm-webhooks/1"


class SignatureError(ValueError):
    """The request is not a valid, fresh, signed webhook. The message says why (for logs)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureError("the secret is not a whsec_ base64 key") from error


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The Webhook-Signature value for one request."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, event_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Every header of a delivery's POST."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": event_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(secret, event_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a received webhook; raise SignatureError unless it is authentic and fresh.

    `headers` may use any case; `body` must be the raw bytes received, before any JSON parsing
    (parsing and re-serialising changes the bytes and breaks the signature). A timestamp more than
    `tolerance` seconds away from `now` is refused; receivers should also drop a Webhook-Id they
    have already processed."""
    lowered = {name.lower(): value for name, value in headers.items()}
    event_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    sent = lowered.get("webhook-signature", "")
    if not (event_id and stamp and sent):
        raise SignatureError("missing Webhook-Id, Webhook-Timestamp or Webhook-Signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("the timestamp is not an integer") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("the timestamp is outside the tolerance")
    expected = signature(secret, event_id, timestamp, body).encode()
    # Several signatures may be sent while a secret rotates; compare each in constant time (as
    # bytes: compare_digest refuses non-ASCII text, which a forged header may carry).
    candidates = [candidate.encode("utf-8", "replace") for candidate in sent.split(" ") if candidate]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("no signature matches")
