"""Benchmark "api": a page of 50 accounts through REST and GraphQL over loopback HTTP, beside a
raw-SQL endpoint serving the same rows, and the per-tenant GraphQL schema build.

A throwaway tenant's account table gets `N` rows (1,000,000; `--quick`: 100,000) carrying 20 custom
fields, filled and indexed by the metadata benchmark's helpers. gunicorn serves the bench database
in a subprocess, with the production flags (2 workers x 4 threads). Load clients (one thread and
one keep-alive connection each) send `R` requests (400; `--quick`: 100) per endpoint after a
warm-up, at 1 and 16 concurrent clients, the three endpoints interleaved (each client takes them in
turn), for:

- REST: `GET /api/v1/records/customers.account?filter=...&fields=...&limit=50`
- GraphQL: `POST /graphql` with `account_list(filter:, first: 50) { edges { node { ... } } }`
- the anchor: `GET /bench/raw-accounts`, one hand-written query (benchmarks/api_views.py)

All three authenticate with the same bearer token and return the same 50 rows and columns.
Then, in this process: `build_schema` for 30 objects x 100 custom fields (objects and fields
built in memory), timed and measured with tracemalloc, and `base_schema()`.
"""

import dataclasses
import gc
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from api.graphql.schema import CACHED_SCHEMAS
from benchmarks import metadata as metadata_bench
from benchmarks.api_settings import BENCH_PLAN
from benchmarks.api_views import CPU_HEADER, RAW_SQL
from benchmarks.harness import RESULTS, ROOT, summarize, table
from crm_platform.celery import app
from metadata import registry, services
from metadata.models import FieldDefinition, ObjectDefinition
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.provisioning import template

ROWS, QUICK_ROWS = metadata_bench.ROWS, metadata_bench.QUICK_ROWS
REQUESTS, QUICK_REQUESTS = 400, 100  # per endpoint and concurrency, after the warm-up
WARMUP = 48  # requests per endpoint at 16 clients before any timing
CONCURRENCY = (1, 16)
BUILDS, QUICK_BUILDS = 7, 3  # schema builds timed (median), after one warm-up build

SLUG = "bench-api"
ACCOUNT = metadata_bench.ACCOUNT
FILTER_FIELD, FILTER_VALUE = metadata_bench.FILTER_FIELD, metadata_bench.FILTER_VALUE
FILTER = {"field": f"custom.{FILTER_FIELD}", "op": "eq", "value": FILTER_VALUE}
CUSTOM_COLUMNS = ["s0", "t0", "n0", "d0", "dt0"]  # text, select, number, decimal, date
COLUMNS = ["name", *(f"custom.{name}" for name in CUSTOM_COLUMNS)]
LIMIT = 50
STATEMENT_CHARS = 100  # of each SQL statement listed in the report

# gunicorn as the Dockerfile and k8s/web-deployment.yaml run it (2 workers x 4 threads, the pool's
# max = threads), with the access log off: the machine has 2 cores, shared with the load clients
# and PostgreSQL.
WORKERS, THREADS = 2, 4

RAW = "raw SQL endpoint (anchor)"
REST = "REST list"
GRAPHQL = "GraphQL account_list"
ENDPOINTS = (RAW, REST, GRAPHQL)

GRAPHQL_QUERY = (
    "query Accounts($filter: GenericScalar, $first: Int) { "
    "account_list(filter: $filter, first: $first) { edges { node { "
    f"id name custom {{ {' '.join(CUSTOM_COLUMNS)} }} "
    "} } } }"
)

SCHEMA_OBJECTS, SCHEMA_FIELDS = 30, 100
# Custom field types the schema build cycles through (the ones that need no other object or formula).
SCHEMA_FIELD_TYPES = [
    "text",
    "long_text",
    "number",
    "decimal",
    "currency",
    "percent",
    "date",
    "datetime",
    "boolean",
    "select",
    "multi_select",
    "email",
    "phone",
    "url",
]

GOAL_MEDIAN_MS, GOAL_VS_RAW, GOAL_GRAPHQL_VS_REST, GOAL_SCHEMA_MS = 15, 3.0, 1.3, 100


# --- the tenant -------------------------------------------------------------------------------


def _fill_tenant(rows: int) -> tuple[Tenant, str, dict]:
    """A tenant on the bench plan with `rows` accounts (20 custom fields, the filter field indexed),
    and a read token of its admin."""
    from api.tokens import issue_token

    tenant = tenant_services.sign_up(
        company_name="Bench API",
        slug=SLUG,
        admin_name="Bench Admin",
        email="admin@bench-api.example",
        password="Sturdy-Harbour-2026",
    )
    Tenant.objects.filter(pk=tenant.pk).update(plan=BENCH_PLAN)
    tenant.refresh_from_db()
    with tenant_context(tenant):
        admin = get_user_model().objects.get(is_superuser=True)
        defined = metadata_bench._define_fields(admin)
        fill_ms = metadata_bench.elapsed_ms(metadata_bench._fill, rows)[0]
        metadata_bench._execute(f"DROP TABLE {metadata_bench.TWIN}")  # the metadata benchmark's typed twin
        metadata_bench._execute("VACUUM ANALYZE customers_account")
        index_ms = metadata_bench.elapsed_ms(
            services.change_field, actor=admin, field=defined[FILTER_FIELD], filterable=True
        )[0]
        defined[FILTER_FIELD].refresh_from_db()
        assert defined[FILTER_FIELD].index_status == "ready", defined[FILTER_FIELD].index_error
        _token, secret = issue_token(admin, name="bench", scopes=["read"], expires_in_days=1)
    return tenant, secret, {"fill_s": round(fill_ms / 1000, 1), "index_s": round(index_ms / 1000, 1)}


# --- the requests -----------------------------------------------------------------------------


def _requests(host: str, token: str) -> dict[str, tuple[str, str, bytes | None, dict]]:
    """endpoint -> (method, path, body, headers)."""
    auth = {"Host": host, "Authorization": f"Bearer {token}", "Accept": "application/json"}
    rest_query = urlencode({"filter": json.dumps(FILTER), "fields": ",".join(COLUMNS), "limit": LIMIT})
    graphql_body = json.dumps(
        {"query": GRAPHQL_QUERY, "variables": {"filter": FILTER, "first": LIMIT}, "operationName": "Accounts"}
    ).encode()
    return {
        RAW: ("GET", f"/bench/raw-accounts?{urlencode({'s0': FILTER_VALUE})}", None, auth),
        REST: ("GET", f"/api/v1/records/{ACCOUNT}?{rest_query}", None, auth),
        GRAPHQL: ("POST", "/graphql", graphql_body, {**auth, "Content-Type": "application/json"}),
    }


def _rows(endpoint: str, body: bytes) -> list[dict]:
    """The records of one answer, in the REST shape."""
    document = json.loads(body)
    if endpoint == GRAPHQL:
        assert not document.get("errors"), document["errors"]
        return [edge["node"] for edge in document["data"]["account_list"]["edges"]]
    return document["results"]


def _rest_sql(tenant) -> str:
    """The page query REST sends, as sent, captured in this process through api/operations.py."""
    from api import operations

    with tenant_context(tenant):
        admin = get_user_model().objects.get(is_superuser=True)
        with CaptureQueriesContext(connection) as captured, registry.pinned():
            operations.list_records(
                operations.fields_for(admin, ACCOUNT), filter=FILTER, columns=COLUMNS, limit=LIMIT
            )
    sql = [q["sql"] for q in captured.captured_queries]
    return [q for q in sql if "customers_account" in q and "LIMIT" in q][-1]


def _explain(tenant, sql: str, params=()) -> str:
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _statements_per_request(host: str, requests: dict) -> dict[str, list[str]]:
    """The SQL statements one request sends (their first words), served in this process by the
    test client with warm caches (the GraphQL schema, the metadata snapshot)."""
    client = Client(raise_request_exception=True)
    sent = {}
    for endpoint, (method, path, body, headers) in requests.items():
        extra = {"HTTP_AUTHORIZATION": headers["Authorization"], "HTTP_ACCEPT": "application/json"}

        def once(method=method, path=path, body=body, extra=extra):
            if method == "GET":
                return client.get(path, headers={"Host": host}, **extra)
            return client.post(path, body, content_type="application/json", headers={"Host": host}, **extra)

        assert once().status_code == 200, endpoint  # warms this process's caches
        with CaptureQueriesContext(connection) as captured:
            response = once()
        assert response.status_code == 200, endpoint
        sent[endpoint] = [" ".join(q["sql"].split())[:STATEMENT_CHARS] for q in captured.captured_queries]
        connection.set_schema_to_public()
    return sent


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,  # DATABASE_URL (the bench database) and DJANGO_SETTINGS_MODULE, set by the harness
        "DEBUG": "0",  # as in production: no query log, no debug pages
        "BEHIND_TLS": "0",  # plain HTTP on loopback
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-not-secret",
        "DB_POOL": "1",
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": str(THREADS),  # k8s/configmap.yaml: DB_POOL_MAX = gunicorn --threads
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "benchmarks.api_views:timed_application()",  # crm_platform.wsgi's, with each request's CPU
        f"--bind=127.0.0.1:{port}",
        f"--workers={WORKERS}",
        f"--threads={THREADS}",
        "--worker-tmp-dir=/dev/shm",
        "--no-control-socket",
        "--timeout=30",
        "--graceful-timeout=25",
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                probe.close()
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {log}")


def _stop_server(server: subprocess.Popen) -> None:
    server.terminate()  # SIGTERM to the master we started: graceful shutdown of its workers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _worker_cpu_s(server: subprocess.Popen) -> float:
    """User + system CPU seconds of the server's worker processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    total = 0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


# --- the load ---------------------------------------------------------------------------------


def _load(port: int, requests: dict, each: int, clients: int) -> dict:
    """`each` requests per endpoint from `clients` threads, each with its own keep-alive connection,
    started together. The endpoints are interleaved: every client takes them in turn (raw, REST,
    GraphQL, raw, ...), client k starting at endpoint k, so whatever else loads the machine meanwhile
    weighs on all of them alike. Per request: latency (send to last byte read), the client thread's
    CPU, and the server's CPU in Django (the X-Bench-CPU-us header); and the batch's wall time."""
    endpoints = list(requests)
    lock = threading.Lock()
    remaining = dict.fromkeys(endpoints, each)
    # endpoint -> [(latency ms, client CPU ms, server CPU in Django ms)]
    samples: dict[str, list[tuple[float, float, float]]] = {e: [] for e in endpoints}
    failures: dict[str, list[str]] = {e: [] for e in endpoints}
    reconnects = [0]
    ready = threading.Barrier(clients + 1)

    def take(turn: int) -> str | None:
        """The next endpoint in this client's rotation that still has requests to send."""
        with lock:
            for step in range(len(endpoints)):
                endpoint = endpoints[(turn + step) % len(endpoints)]
                if remaining[endpoint] > 0:
                    remaining[endpoint] -= 1
                    return endpoint
            return None

    def client(k: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        mine = {e: [] for e in endpoints}
        failed = []
        ready.wait()
        turn = k
        while (endpoint := take(turn)) is not None:
            turn = endpoints.index(endpoint) + 1
            method, path, body, headers = requests[endpoint]
            for attempt in (1, 2):
                start, cpu = time.perf_counter(), time.thread_time()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    # The server closed the keep-alive connection: reconnect once, timing included.
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    with lock:
                        reconnects[0] += 1
                    if attempt == 2:
                        raise
                    continue
                latency, client_cpu = (time.perf_counter() - start) * 1000, (time.thread_time() - cpu) * 1000
                server_cpu = int(response.getheader(CPU_HEADER) or 0) / 1000
                mine[endpoint].append((latency, client_cpu, server_cpu))
                if response.status != 200 or (endpoint == GRAPHQL and b'"errors"' in data):
                    failed.append((endpoint, f"{response.status}: {data[:300]!r}"))
                break
        conn.close()
        with lock:
            for endpoint, taken in mine.items():
                samples[endpoint].extend(taken)
            for endpoint, message in failed:
                failures[endpoint].append(message)

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {"samples": samples, "wall_s": wall, "failures": failures, "reconnects": reconnects[0]}


def _percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] if len(samples) > 1 else samples[0]


def _measure(server, port: int, requests: dict, total: int) -> dict:
    # Warm every worker: schema, snapshot, pool, buffers.
    warm = _load(port, requests, WARMUP, 16)
    assert not any(warm["failures"].values()), {e: f[:3] for e, f in warm["failures"].items() if f}
    results = {}
    for clients in CONCURRENCY:
        cpu_before = _worker_cpu_s(server)
        batch = _load(port, requests, total, clients)
        worker_cpu_ms = (_worker_cpu_s(server) - cpu_before) * 1000
        busy = {e: sum(s[0] for s in taken) for e, taken in batch["samples"].items()}
        in_django = {e: sum(s[2] for s in taken) for e, taken in batch["samples"].items()}
        for endpoint, taken in batch["samples"].items():
            latencies = [s[0] for s in taken]
            n = len(taken)
            results[f"{clients}|{endpoint}"] = {
                "clients": clients,
                "endpoint": endpoint,
                **summarize(latencies),
                "p99_ms": round(_percentile(latencies, 99), 1),
                # The batch's wall time, shared among the endpoints by their summed latency: with
                # every client always waiting on one request, n / that share = clients / mean latency.
                "rps": round(n / (batch["wall_s"] * busy[endpoint] / sum(busy.values())), 1),
                # The workers' CPU over the batch (/proc), shared by their CPU in Django.
                "worker_cpu_ms_per_request": round(
                    worker_cpu_ms * in_django[endpoint] / sum(in_django.values()) / n, 2
                ),
                "django_cpu_ms_per_request": round(in_django[endpoint] / n, 2),
                "client_cpu_ms_per_request": round(sum(s[1] for s in taken) / n, 2),
                "failures": len(batch["failures"][endpoint]),
                "failure_examples": batch["failures"][endpoint][:3],
                "reconnects": batch["reconnects"],
            }
    return results


def _same_rows(port: int, requests: dict) -> dict:
    """One answer of each endpoint: the ids, and whether every row equals REST's."""
    answers = {}
    for endpoint, (method, path, body, headers) in requests.items():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        assert response.status == 200, (endpoint, response.status, data[:500])
        answers[endpoint] = _rows(endpoint, data)
    ids = {endpoint: [row["id"] for row in rows] for endpoint, rows in answers.items()}
    return {
        "count": len(ids[REST]),
        "same_ids": ids[RAW] == ids[REST] == ids[GRAPHQL],
        "same_values": answers[RAW] == answers[REST] == answers[GRAPHQL],
        "first_ids": ids[REST][:5],
        "first_row": answers[REST][0] if answers[REST] else None,
    }


# --- the schema build -------------------------------------------------------------------------


def _snapshot(custom_objects: int, fields_each: int, standard_keys: list[str]) -> registry.Snapshot:
    """A tenant's definitions in memory (unsaved rows): `custom_objects` custom objects, and
    `fields_each` custom fields on every standard and custom object."""
    objects = {}
    for n in range(custom_objects):
        definition = ObjectDefinition(
            name=f"bench_object_{n:02d}", label_en=f"Bench object {n}", is_active=True
        )
        objects[definition.key] = definition
    fields = {}
    for key in [*standard_keys, *objects]:
        fields[key] = []
        for n in range(fields_each):
            kind = SCHEMA_FIELD_TYPES[n % len(SCHEMA_FIELD_TYPES)]
            options = {"choices": [{"value": f"v{c}"} for c in range(5)]} if "select" in kind else {}
            fields[key].append(
                FieldDefinition(
                    object_key=key,
                    name=f"f{n:03d}",
                    type=kind,
                    label_en=f"Field {n}",
                    label_zh=f"字段 {n}",
                    options=options,
                    position=n,
                )
            )
    return registry.Snapshot(version=1, objects=objects, fields=fields, rules={}, stamp=uuid.uuid4())


def _build(snap: registry.Snapshot):
    """What tenant_schema() does on a cache miss: describe every object, build the schema."""
    from api.graphql.schema import build_schema

    # A miss follows a definition change, so its snapshot is new: nothing described in it yet.
    snap = dataclasses.replace(snap, compiled={})
    keys = sorted(registry.standard_models()) + sorted(k for k, d in snap.objects.items() if d.is_active)
    return build_schema([registry.describe(key, snap=snap) for key in keys])


def _retained_bytes(build, times: int = 3) -> int:
    """Bytes still allocated (tracemalloc) once `build()`'s result is built, garbage collected: what
    one cached schema holds. The median of `times`: now and then a long-lived container elsewhere
    grows during the window (about 4 MB once in 5 measurements), which would count as the schema's."""
    sizes = []
    for _ in range(times):
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            built = build()
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0] - before)
        finally:
            tracemalloc.stop()
        del built
    return int(statistics.median(sizes))


def _schema_builds(builds: int) -> dict:
    """key -> timings and size of: the tenant (every standard object plus custom ones, 30 objects in
    all, 100 custom fields on each), a wider one (30 custom objects beside the standard ones), and
    base_schema()."""
    from api.graphql.schema import base_schema

    standard = sorted(registry.standard_models())
    extra = SCHEMA_OBJECTS - len(standard)
    cases = {
        "tenant": (
            extra,
            f"{len(standard)} standard + {extra} custom objects = {SCHEMA_OBJECTS}, "
            f"{SCHEMA_FIELDS} custom fields on each",
        ),
        "wide": (
            SCHEMA_OBJECTS,
            f"{SCHEMA_OBJECTS} custom + {len(standard)} standard objects, "
            f"{SCHEMA_FIELDS} custom fields on each",
        ),
    }
    results = {}
    for key, (custom_objects, label) in cases.items():
        snap = _snapshot(custom_objects, SCHEMA_FIELDS, standard)
        schema = _build(snap)  # warm-up: imports, translations, the shared scalars and payloads
        types = len(schema.type_map)
        del schema
        times = [metadata_bench.elapsed_ms(_build, snap)[0] for _ in range(builds)]
        results[key] = {
            "label": label,
            **summarize(times),
            "objects": len(standard) + custom_objects,
            "custom_fields": (len(standard) + custom_objects) * SCHEMA_FIELDS,
            "types": types,
            "retained_bytes": _retained_bytes(lambda snap=snap: _build(snap)),
        }
    base_schema()
    times = [metadata_bench.elapsed_ms(base_schema)[0] for _ in range(builds)]
    results["base"] = {
        "label": f"base_schema(): {len(standard)} standard objects, no custom fields",
        **summarize(times),
        "objects": len(standard),
        "custom_fields": 0,
        "types": len(base_schema().type_map),
        "retained_bytes": _retained_bytes(base_schema),
    }
    return results


# --- run and report ---------------------------------------------------------------------------


def run(quick: bool) -> dict:
    call_command("migrate_schemas", shared=True, executor="standard", interactive=False, verbosity=0)
    template.refresh()
    app.conf.task_always_eager = True  # no worker here: the index task runs in-process after commit
    rows, total = (QUICK_ROWS, QUICK_REQUESTS) if quick else (ROWS, REQUESTS)
    tenant, token, fill = _fill_tenant(rows)
    host = f"{SLUG}.{settings.BASE_DOMAIN}"
    requests = _requests(host, token)
    log = RESULTS / "logs" / "api-gunicorn.log"
    try:
        rest_sql = _rest_sql(tenant)
        plans = {
            "rest_sql": rest_sql,
            "rest": _explain(tenant, rest_sql),
            "raw": _explain(tenant, RAW_SQL, [FILTER_VALUE]),
        }
        statements = _statements_per_request(host, requests)
        port = _free_port()
        server = _start_server(port, log)
        try:
            check = _same_rows(port, requests)
            load = _measure(server, port, requests, total)
        finally:
            _stop_server(server)
        schema = _schema_builds(QUICK_BUILDS if quick else BUILDS)
    finally:
        connection.set_schema_to_public()
        template.drop_schema(tenant.schema_name)
        Tenant.objects.filter(pk=tenant.pk).delete()
    return {
        "rows": rows,
        "requests": total,
        "warmup": WARMUP,
        "fields": len(metadata_bench.FIELDS),
        **fill,
        "server": {"workers": WORKERS, "threads": THREADS, "db_pool_max": THREADS, "debug": False},
        "query": {
            "filter": f"custom.{FILTER_FIELD} = {FILTER_VALUE!r} (1 in {len(metadata_bench.CHOICES)})",
            "order": "id",
            "limit": LIMIT,
            "columns": COLUMNS,
            "graphql": GRAPHQL_QUERY,
        },
        "check": check,
        "statements": statements,
        "load": load,
        "plans": plans,
        "schema": schema,
        "log": str(log),
    }


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def _clients(n: int) -> str:
    return f"{n:>2} client{'s' if n > 1 else ' '}"


def _load_table(load: dict) -> str:
    headers = ["request (ms)", "n", "median", "p95", "p99", "max", "req/s"]
    headers += ["server CPU ms/req", "in Django", "client CPU ms/req", "vs raw", "failed"]
    rows = []
    for clients in CONCURRENCY:
        raw = load[f"{clients}|{RAW}"]["median_ms"]
        for endpoint in ENDPOINTS:
            v = load[f"{clients}|{endpoint}"]
            rows.append(
                [
                    f"{_clients(clients)}: {endpoint}",
                    v["n"],
                    v["median_ms"],
                    v["p95_ms"],
                    v["p99_ms"],
                    v["max_ms"],
                    v["rps"],
                    v["worker_cpu_ms_per_request"],
                    v["django_cpu_ms_per_request"],
                    v["client_cpu_ms_per_request"],
                    f"{v['median_ms'] / raw:.2f}x",
                    v["failures"],
                ]
            )
    return table(headers, rows)


def _schema_table(schema: dict) -> str:
    headers = ["GraphQL schema build (ms)", "objects", "custom fields", "types", "n", "median", "min", "max"]
    rows = []
    for v in schema.values():
        row = [v["label"], v["objects"], v["custom_fields"], v["types"], v["n"], v["median_ms"], v["min_ms"]]
        rows.append([*row, v["max_ms"], f"{v['retained_bytes'] / 2**20:.1f}"])
    return table([*headers, "MB kept"], rows)


def _goals(result: dict) -> str:
    load, rows = result["load"], []
    for clients in CONCURRENCY:
        raw, rest = load[f"{clients}|{RAW}"]["median_ms"], load[f"{clients}|{REST}"]["median_ms"]
        for endpoint in (REST, GRAPHQL):
            median = load[f"{clients}|{endpoint}"]["median_ms"]
            rows.append(
                [
                    f"{_clients(clients)}: {endpoint} median < {GOAL_MEDIAN_MS} ms",
                    f"{median} ms",
                    _met(median < GOAL_MEDIAN_MS),
                ]
            )
            rows.append(
                [
                    f"{_clients(clients)}: {endpoint} median <= {GOAL_VS_RAW:g}x raw",
                    f"{median / raw:.2f}x",
                    _met(median / raw <= GOAL_VS_RAW),
                ]
            )
        graphql = load[f"{clients}|{GRAPHQL}"]["median_ms"]
        rows.append(
            [
                f"{_clients(clients)}: GraphQL median <= {GOAL_GRAPHQL_VS_REST:g}x REST",
                f"{graphql / rest:.2f}x",
                _met(graphql / rest <= GOAL_GRAPHQL_VS_REST),
            ]
        )
    build, label = result["schema"]["tenant"]["median_ms"], result["schema"]["tenant"]["label"]
    rows.append(
        [f"schema build < {GOAL_SCHEMA_MS} ms ({label})", f"{build} ms", _met(build < GOAL_SCHEMA_MS)]
    )
    return table(["goal (reported, never asserted)", "measured", ""], rows)


def report(result: dict) -> str:
    check, query, server = result["check"], result["query"], result["server"]
    statements = "\n".join(
        f"  {endpoint}: {len(sent)}\n" + "\n".join(f"    {line}" for line in sent)
        for endpoint, sent in result["statements"].items()
    )
    kept = result["schema"]["tenant"]["retained_bytes"] / 2**20
    return "\n".join(
        [
            f"{result['rows']:,} accounts with {result['fields']} custom fields (filled in "
            f"{result['fill_s']} s, filter index built in {result['index_s']} s). Page: {query['filter']}, "
            f"order by {query['order']}, first {query['limit']}, columns {', '.join(query['columns'])}.",
            f"Server: gunicorn over loopback, {server['workers']} workers x {server['threads']} threads "
            f"(gthread, the Dockerfile's flags, access log off), DB_POOL_MAX={server['db_pool_max']}, "
            f"DEBUG=0. Every endpoint checks the same bearer token. Load: one thread and one keep-alive "
            f"connection per client, {result['warmup']} warm-up requests per endpoint at 16 clients, then "
            f"{result['requests']} per endpoint and concurrency, the endpoints interleaved (each client "
            f"takes raw, REST, GraphQL in turn, client k starting at endpoint k). The load clients share "
            f"the cores with the server and PostgreSQL (client CPU ms/req is their threads'; server CPU "
            f"is the gunicorn workers' over the batch, shared among endpoints by each request's CPU in "
            f"Django, the next column; PostgreSQL's not included). req/s: the batch's wall time shared by "
            f"summed latency. At 16 clients the latency is mostly queueing and req/s is the figure to "
            f"compare.",
            f"Same rows: {check['count']} rows; same ids from all three: {check['same_ids']}; same values: "
            f"{check['same_values']} (first ids {check['first_ids']}).",
            "",
            _load_table(result["load"]),
            "",
            _schema_table(result["schema"]),
            f"Custom fields cycle through {len(SCHEMA_FIELD_TYPES)} types ({', '.join(SCHEMA_FIELD_TYPES)}). "
            f"One cached schema of the first row keeps {kept:.1f} MB (tracemalloc, after a warm-up build); "
            f"the per-process cache holds up to {CACHED_SCHEMAS} (api/graphql/schema.py): "
            f"{CACHED_SCHEMAS * kept:.0f} MB at that size.",
            "",
            _goals(result),
            "",
            f"SQL statements per request (in this process, warm caches; first {STATEMENT_CHARS} characters):",
            statements,
            "",
            f"REST page SQL (captured):\n{result['plans']['rest_sql']}",
            "",
            f"REST page plan:\n{result['plans']['rest']}",
            "",
            f"Raw endpoint SQL:{RAW_SQL}",
            f"Raw endpoint plan:\n{result['plans']['raw']}",
            "",
            f"Server log: {result['log']}",
        ]
    )
