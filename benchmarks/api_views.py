"""The api benchmark's anchor: the page of accounts that the REST and GraphQL calls of
benchmarks/api.py read, served by one hand-written SQL query and JsonResponse, under the same
middleware, host routing and bearer-token check as the API. It skips what the API adds on top:
DRF, the metadata registry, permissions and data scope, the filter compiler, keyset cursors and
the representation.

Routed only by benchmarks/urls.py (benchmarks/api_settings.py). `timed_application()` is the WSGI
application the benchmark's gunicorn serves: the platform's, reporting each request's CPU.
"""

import json
import time

from django.db import connection
from django.http import JsonResponse

CPU_HEADER = "X-Bench-CPU-us"

# The same rows as `GET /api/v1/records/customers.account?filter={"field": "custom.s0", "op": "eq",
# "value": ...}&limit=50&fields=name,custom.s0,custom.t0,custom.n0,custom.d0,custom.dt0` for the
# tenant admin (data level "all": no scope condition): the filter compiler's condition on s0 (with
# the IS NOT NULL that lets its partial index, metadata/indexes.py, serve it), the API's default
# order (id), 50 rows, and the same columns. The custom values come back as one JSON object per row.
RAW_SQL = """
SELECT id, name, jsonb_build_object(
    's0', custom -> 's0', 't0', custom -> 't0', 'n0', custom -> 'n0',
    'd0', custom -> 'd0', 'dt0', custom -> 'dt0'
)
FROM customers_account
WHERE (custom ->> 's0') = %s AND (custom ->> 's0') IS NOT NULL
ORDER BY id
LIMIT 50
"""


def raw_accounts(request):
    """`GET /bench/raw-accounts?s0=c3` with `Authorization: Bearer <token>`: {"results": [...]}."""
    from api.tokens import authenticate_token  # here: gunicorn imports this module before Django's set-up

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or authenticate_token(token.strip()) is None:
        return JsonResponse({"detail": "unauthenticated"}, status=401)
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL, [request.GET.get("s0", "")])
        rows = cursor.fetchall()
    # Django reads jsonb as text (its JSONField decodes it), so the custom values are decoded here.
    results = [
        {"id": pk, "name": name, "custom": json.loads(custom) if isinstance(custom, str) else custom}
        for pk, name, custom in rows
    ]
    return JsonResponse({"results": results, "next": None})


def timed_application():
    """crm_platform.wsgi's application (gunicorn: `benchmarks.api_views:timed_application()`), with
    a response header `X-Bench-CPU-us`: the CPU time the serving thread spent in Django for this
    request (time.thread_time, microseconds, up to the response's headers; the body is rendered by
    then). The benchmark interleaves its endpoints on the same workers, so the workers' total CPU
    (/proc) is split among them by this figure."""
    from crm_platform.wsgi import application

    def timed(environ, start_response):
        started = time.thread_time()

        def start(status, headers, exc_info=None):
            spent = round((time.thread_time() - started) * 1_000_000)
            return start_response(status, [*headers, (CPU_HEADER, str(spent))], exc_info)

        return application(environ, start)

    return timed
