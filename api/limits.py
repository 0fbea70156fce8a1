"""Per-tenant API rate limits by plan, and request size limits, for `/api/` and `/graphql`.

Every caller of one tenant (sessions and tokens, every user) draws on one budget: the plan's
`api_requests_per_minute` (billing/plans.py). The public host and a tenant's HTML pages are not
counted.

The headers follow draft-ietf-httpapi-ratelimit-headers-11, "RateLimit header fields for HTTP"
(23 May 2026, the latest revision found): two Structured Field Lists (RFC 9651), a policy named
"tenant" with its quota `q` and window `w`, and the live counter with the remaining quota `r` and
the seconds `t` until the window ends:

    RateLimit-Policy: "tenant";q=1200;w=60
    RateLimit: "tenant";r=1187;t=42

No partition key (`pk`) is sent: the partition is the tenant, which the host already names.
Over the budget the answer is 429 with `Retry-After` (the window's end) and a problem document;
a body announced larger than `API_MAX_BODY_BYTES` is refused with 413 before it is read.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from api.problems import problem_response, request_too_large
from billing.plans import plan_of

logger = logging.getLogger(__name__)

API_PREFIXES = ("/api/", "/graphql")
POLICY = "tenant"
# A fixed window: one counter per tenant per clock minute, created with `add` and bumped with
# `incr` (both atomic in Redis, so every web process shares it without locks), expiring on its
# own. It costs O(1) commands and memory per tenant and gives every client the same, computable
# reset time. The price is that a tenant can spend up to twice its budget across a window
# boundary; for a per-minute plan budget that protects shared capacity (not a hard guarantee)
# that is acceptable, where a sliding window or GCRA would need a Lua script and more state.
WINDOW_SECONDS = 60


def counter_key(schema_name: str, window: int) -> str:
    return f"api-rate:{schema_name}:{window}"


def _tenant():
    """The tenant the request's host routed to, or None on the public host."""
    tenant = getattr(connection, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return None
    return tenant


def _count(schema_name: str, now: float) -> int | None:
    """This request's number in the tenant's current window, or None if the cache is unusable."""
    key = counter_key(schema_name, int(now // WINDOW_SECONDS))
    # Two windows' lifetime: the window number in the key separates windows, the expiry only
    # cleans up, and must not drop the key between `add` and `incr` at a window's last instant.
    timeout = 2 * WINDOW_SECONDS
    try:
        backend = caches[DEFAULT_CACHE_ALIAS]
        if isinstance(backend, RedisCache):
            # One round trip instead of the three of `add` + `incr` (SET NX, EXISTS, INCR): INCR
            # counts a missing key from 0, and the expiry is renewed with every count. The value
            # stays a plain integer, which the cache API reads back.
            redis_key = backend.make_and_validate_key(key)
            pipeline = backend._cache.get_client(redis_key, write=True).pipeline(transaction=False)
            used, _expiry = pipeline.incr(redis_key).expire(redis_key, timeout).execute()
            return used
        backend.add(key, 0, timeout=timeout)
        return backend.incr(key)
    except Exception:
        # Fail open: the limit protects capacity, it is not a security boundary, so a cache outage
        # (Redis down, restarting, unreachable) must not turn into an API outage for every tenant.
        # Any error, since each cache backend raises its own.
        logger.warning("API rate limit not applied: the cache failed", exc_info=True)
        return None


def _declared_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


class ApiLimitsMiddleware:
    """Placed after the host routing (the tenant) and the locale (the problem's language)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = _tenant() if request.path.startswith(API_PREFIXES) else None
        if tenant is None:
            return self.get_response(request)

        limit = plan_of(tenant).api_requests_per_minute
        now = time.time()
        reset = max(1, math.ceil(WINDOW_SECONDS - now % WINDOW_SECONDS))  # seconds to the window's end
        used = _count(tenant.schema_name, now)
        headers = {"RateLimit-Policy": f'"{POLICY}";q={limit};w={WINDOW_SECONDS}'}
        if used is not None:
            # Without a counter (the cache failed) the remaining quota is unknown: only the policy.
            headers["RateLimit"] = f'"{POLICY}";r={max(0, limit - used)};t={reset}'

        if used is not None and used > limit:
            response = problem_response(
                429,
                "rate-limited",
                _("Too many requests"),
                _("This CRM's plan allows %(limit)d API requests a minute. Try again in %(seconds)d s.")
                % {"limit": limit, "seconds": reset},
                headers={"Retry-After": str(reset)},
            )
        else:
            length = _declared_length(request)
            if length is not None and length > settings.API_MAX_BODY_BYTES:
                # Refused on the declared length, before anything reads the body.
                response = problem_response(**request_too_large(settings.API_MAX_BODY_BYTES))
            else:
                response = self.get_response(request)

        for name, value in headers.items():
            response[name] = value
        return response

    def process_exception(self, request, exception):
        """A view outside DRF (GraphQL) read a body past DATA_UPLOAD_MAX_MEMORY_SIZE, declared or
        not (a chunked body on ASGI): a 413 problem rather than Django's 400. DRF views answer it
        themselves (api.problems.problem_exception_handler)."""
        if isinstance(exception, RequestDataTooBig) and request.path.startswith(API_PREFIXES):
            return problem_response(**request_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
        return None
