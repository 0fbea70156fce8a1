"""Benchmark "metadata": custom fields in JSONB against real typed columns, on one large table.

A throwaway tenant's account table gets `N` rows (1,000,000; `--quick`: 100,000) carrying 20
custom fields (text, select, number, decimal, date), filled by one INSERT ... SELECT
generate_series with the audit triggers off. A twin table holds the same values as typed columns
with the equivalent btree indexes. Measured: a view's first page (filter on an indexed field, sort
by another, 50 rows) through the filter compiler, through the view runner (`run_view`, and its SQL
alone) against the same query on the typed twin; adding a field (the service, no DDL) against
ALTER TABLE ADD COLUMN with a constant and with a volatile default; and the background index
builds (statistics and ANALYZE included).
"""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from benchmarks.harness import elapsed_ms, summarize, table
from crm.customers.models import Account
from crm_platform.celery import app
from metadata import indexes, services
from metadata.filters import compile_filter
from metadata.filters.custom import custom_expression
from metadata.models import FieldDefinition
from metadata.resolver import resolver_for
from metadata.views import services as view_services
from metadata.views.run import run_view
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.provisioning import template

ROWS, QUICK_ROWS = 1_000_000, 100_000
RUNS, QUICK_RUNS = 50, 20
ACCOUNT = "customers.account"
TWIN = "bench_typed_account"
CHOICES = [f"c{n}" for n in range(10)]
# name -> (custom field type, SQL making row g's JSON value, typed column type)
FIELDS = {
    **{f"t{i}": ("text", f"'text ' || mod(g * {7 + i}, 5000)", "text") for i in range(4)},
    **{f"s{i}": ("select", f"'c' || mod(g * {3 + i}, 10)", "text") for i in range(4)},
    **{f"n{i}": ("number", f"mod(g * {7919 + i}, 100000)", "bigint") for i in range(4)},
    **{
        f"d{i}": ("decimal", f"round(mod(g * {104729 + i}, 1000000) / 100.0, 2)", "numeric") for i in range(4)
    },
    **{
        f"dt{i}": ("date", f"to_char(date '2020-01-01' + mod(g * {13 + i}, 2000)::int, 'YYYY-MM-DD')", "date")
        for i in range(4)
    },
}
FILTER_FIELD, SORT_FIELD, FILTER_VALUE = "s0", "d0", "c3"

VIEW_CUSTOM = "view page: custom fields, compile + query"
VIEW_CUSTOM_SQL = "view page: custom fields, query only"
VIEW_RUNNER = "view page: run_view() (through the product)"
VIEW_RUNNER_SQL = "view page: run_view()'s SQL, query only"
VIEW_TYPED = "view page: typed columns (anchor)"
ADD_FIELD = "add a custom field: services.add_field()"
ADD_CONSTANT = "typed: ADD COLUMN ... DEFAULT 0 NOT NULL"
ADD_VOLATILE = "typed: ADD COLUMN ... DEFAULT random() (rewrite)"
BUILD_FILTER = "index build: custom filterable (background)"
BUILD_SORT = "index build: custom sortable (background)"
BUILD_TYPED_FILTER = "index build: typed filter column, concurrently"
BUILD_TYPED_SORT = "index build: typed (sort column, id), concurrently"


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _fetch(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _relfilenode(table_name: str) -> int:
    return _fetch("SELECT relfilenode FROM pg_class WHERE oid = %s::regclass", [table_name])[0][0]


def _fill(rows: int) -> None:
    """`rows` accounts copied from one prototype row, their custom values generated in SQL."""
    prototype = Account.objects.create(name="prototype")
    columns = [f.column for f in Account._meta.concrete_fields if f.column not in ("id", "name", "custom")]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    custom = ", ".join(f"'{name}', {expression}" for name, (_t, expression, _c) in FIELDS.items())
    with transaction.atomic():
        # Triggers off for this transaction only: the audit (pghistory) triggers would write an
        # event row per account (100k rows took 194 s with them). Foreign-key checks are triggers
        # too; every reference is copied from the prototype, which passed them.
        _execute("SET LOCAL session_replication_role = replica")
        _execute(
            f"INSERT INTO customers_account (name, custom, {quoted}) "
            f"SELECT 'account ' || g, jsonb_build_object({custom}), {', '.join(f'p.{c}' for c in columns)} "
            f"FROM customers_account p CROSS JOIN generate_series(1, %s::bigint) g WHERE p.id = %s",
            [rows, prototype.pk],
        )
    prototype.delete()
    typed = ", ".join(
        f"(custom ->> '{name}')::{column_type} AS {name}" for name, (_t, _e, column_type) in FIELDS.items()
    )
    _execute(f"CREATE TABLE {TWIN} AS SELECT id, name, {typed} FROM customers_account")
    _execute(f"ALTER TABLE {TWIN} ADD PRIMARY KEY (id)")


def _define_fields(admin) -> dict[str, FieldDefinition]:
    defined = {}
    for name, (field_type, _e, _c) in FIELDS.items():
        options = {"choices": [{"value": c} for c in CHOICES]} if field_type == "select" else {}
        defined[name] = services.add_field(
            actor=admin, object_key=ACCOUNT, name=name, type=field_type, label_en=name, options=options
        )
    return defined


def _index_builds(admin, defined: dict) -> dict[str, float]:
    """The custom indexes as an admin asks for them (the task runs eagerly, after the commit, so the
    call returns when the build is done), and the typed twin's equivalents."""
    timings = {}
    timings[BUILD_FILTER] = elapsed_ms(
        services.change_field, actor=admin, field=defined[FILTER_FIELD], filterable=True
    )[0]
    timings[BUILD_SORT] = elapsed_ms(
        services.change_field, actor=admin, field=defined[SORT_FIELD], sortable=True
    )[0]
    for name in (FILTER_FIELD, SORT_FIELD):
        defined[name].refresh_from_db()
        assert defined[name].index_status == "ready", (name, defined[name].index_error)
    timings[BUILD_TYPED_FILTER] = elapsed_ms(
        _execute,
        f"CREATE INDEX CONCURRENTLY {TWIN}_f ON {TWIN} ({FILTER_FIELD}) WHERE {FILTER_FIELD} IS NOT NULL",
    )[0]
    timings[BUILD_TYPED_SORT] = elapsed_ms(
        _execute, f"CREATE INDEX CONCURRENTLY {TWIN}_s ON {TWIN} ({SORT_FIELD}, id)"
    )[0]
    # The account table gets only what the index sync itself analyses: the figures are the product's.
    _execute(f"ANALYZE {TWIN}")
    return timings


def _runner_sql(admin, view) -> tuple[str, list]:
    """The page query `run_view` sends, as sent (SQL and parameters)."""
    sent = []

    def capture(execute, sql, params, many, context):
        sent.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        run_view(admin, view)
    pages = [(sql, params) for sql, params in sent if "customers_account" in sql and "LIMIT" in sql]
    assert len(pages) == 1, sent
    return pages[0]


def _explain(sql: str, params) -> str:
    return "\n".join(r[0] for r in _fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, params))


def _view_queries(admin, runs: int) -> tuple[dict[str, list[float]], dict]:
    resolver = resolver_for(ACCOUNT)
    spec = {"field": f"custom.{FILTER_FIELD}", "op": "eq", "value": FILTER_VALUE}
    sort = custom_expression(resolver.resolve(Account, f"custom.{SORT_FIELD}"))

    def custom_page():
        queryset = Account.objects.filter(compile_filter(spec, Account, resolver=resolver))
        sql, params = queryset.order_by(sort.asc(), "id")[:50].query.sql_with_params()
        return _fetch(sql, params)

    sql, params = (
        Account.objects.filter(compile_filter(spec, Account, resolver=resolver))
        .order_by(sort.asc(), "id")[:50]
        .query.sql_with_params()
    )
    view = view_services.create_view(
        actor=admin,
        object_key=ACCOUNT,
        name="bench",
        label_en="Bench",
        columns=["name", f"custom.{FILTER_FIELD}", f"custom.{SORT_FIELD}"],
        filter=spec,
        sort=[{"field": f"custom.{SORT_FIELD}", "direction": "asc"}],
    )
    runner_sql, runner_params = _runner_sql(admin, view)
    typed_sql = f"SELECT * FROM {TWIN} WHERE {FILTER_FIELD} = %s ORDER BY {SORT_FIELD}, id LIMIT 50"
    samples = {
        label: [] for label in (VIEW_CUSTOM, VIEW_CUSTOM_SQL, VIEW_RUNNER, VIEW_RUNNER_SQL, VIEW_TYPED)
    }
    for run in range(runs + 1):
        timings = {
            VIEW_CUSTOM: elapsed_ms(custom_page),
            VIEW_CUSTOM_SQL: elapsed_ms(_fetch, sql, params),
            VIEW_RUNNER: elapsed_ms(lambda: run_view(admin, view).rows),
            VIEW_RUNNER_SQL: elapsed_ms(_fetch, runner_sql, runner_params),
            VIEW_TYPED: elapsed_ms(_fetch, typed_sql, [FILTER_VALUE]),
        }
        if run:  # run 0 warms the caches
            for label, (ms, rows) in timings.items():
                assert len(rows) in (50, 51), label  # the runner reads one more row for its cursor
                samples[label].append(ms)
    typed_ids = [r[0] for r in _fetch(typed_sql, [FILTER_VALUE])]
    same = [r[0] for r in custom_page()] == typed_ids == [r["id"] for r in run_view(admin, view).rows]
    plans = {
        "custom": _explain(sql, params),
        "runner_sql": runner_sql,
        "runner": _explain(runner_sql, runner_params),
        "typed": _explain(typed_sql, [FILTER_VALUE]),
        "same_rows": same,
    }
    return samples, plans


def _add_columns(admin) -> dict:
    before = _relfilenode("customers_account")
    ms, _definition = elapsed_ms(
        services.add_field, actor=admin, object_key=ACCOUNT, name="added", type="number", label_en="Added"
    )
    rewritten = _relfilenode("customers_account") != before
    twin = _relfilenode(TWIN)
    constant_ms = elapsed_ms(_execute, f"ALTER TABLE {TWIN} ADD COLUMN added integer DEFAULT 0 NOT NULL")[0]
    constant_rewrote = _relfilenode(TWIN) != twin
    twin = _relfilenode(TWIN)
    volatile_ms = elapsed_ms(
        _execute, f"ALTER TABLE {TWIN} ADD COLUMN jitter double precision DEFAULT random() NOT NULL"
    )[0]
    return {
        ADD_FIELD: {"ms": ms, "rewrote_table": rewritten},
        ADD_CONSTANT: {"ms": constant_ms, "rewrote_table": constant_rewrote},
        ADD_VOLATILE: {"ms": volatile_ms, "rewrote_table": _relfilenode(TWIN) != twin},
    }


def run(quick: bool) -> dict:
    call_command("migrate_schemas", shared=True, executor="standard", interactive=False, verbosity=0)
    template.refresh()
    app.conf.task_always_eager = True  # no worker here: index tasks run in-process after commit
    rows, runs = (QUICK_ROWS, QUICK_RUNS) if quick else (ROWS, RUNS)
    tenant = tenant_services.sign_up(
        company_name="Bench metadata",
        slug="bench-metadata",
        admin_name="Bench Admin",
        email="admin@bench-metadata.example",
        password="Sturdy-Harbour-2026",
    )
    try:
        with tenant_context(tenant):
            admin = get_user_model().objects.get(is_superuser=True)
            defined = _define_fields(admin)
            fill_ms = elapsed_ms(_fill, rows)[0]
            for table_name in ("customers_account", TWIN):
                _execute(f"VACUUM ANALYZE {table_name}")
            builds = _index_builds(admin, defined)
            samples, plans = _view_queries(admin, runs)
            added = _add_columns(admin)
            index_names = sorted(indexes.existing(defined[FILTER_FIELD])) + sorted(
                indexes.existing(defined[SORT_FIELD])
            )
    finally:
        connection.set_schema_to_public()
        template.drop_schema(tenant.schema_name)
        Tenant.objects.filter(pk=tenant.pk).delete()
    return {
        "rows": rows,
        "runs": runs,
        "fields": len(FIELDS),
        "fill_s": round(fill_ms / 1000, 1),
        "query": {
            "filter": f"custom.{FILTER_FIELD} = {FILTER_VALUE!r} (1 in {len(CHOICES)})",
            "sort": f"custom.{SORT_FIELD}, id",
            "limit": 50,
        },
        "view": {label: summarize(values) for label, values in samples.items()},
        "plans": plans,
        "index_names": index_names,
        "once_ms": {label: round(ms, 1) for label, ms in builds.items()}
        | {label: round(entry["ms"], 1) for label, entry in added.items()},
        "rewrote_table": {label: entry["rewrote_table"] for label, entry in added.items()},
    }


def report(result: dict) -> str:
    view = result["view"]
    typed = view[VIEW_TYPED]["median_ms"]
    rows = [
        [
            label,
            v["n"],
            v["median_ms"],
            v["p95_ms"],
            v["min_ms"],
            v["max_ms"],
            f"{v['median_ms'] / typed:.2f}x",
        ]
        for label, v in view.items()
    ]
    headers = ["view query (ms)", "n", "median", "p95", "min", "max", "vs typed"]
    once = [
        [label, ms, {True: "yes", False: "no"}.get(result["rewrote_table"].get(label))]
        for label, ms in result["once_ms"].items()
    ]
    query = result["query"]
    return (
        f"{result['rows']:,} accounts with {result['fields']} custom fields "
        f"(filled in {result['fill_s']} s); "
        f"twin table with typed columns. Query: {query['filter']}, sort {query['sort']}, "
        f"first {query['limit']}; {result['runs']} runs after 1 warm-up. "
        f"Same rows: {result['plans']['same_rows']}.\n\n"
        f"{table(headers, rows)}\n\n{table(['once (ms)', 'ms', 'rewrote table'], once)}\n\n"
        f"Custom plan (compiler query):\n{result['plans']['custom']}\n\n"
        f"run_view() SQL:\n{result['plans']['runner_sql']}\n\n"
        f"run_view() plan:\n{result['plans']['runner']}\n\n"
        f"Typed plan:\n{result['plans']['typed']}\n\n"
        f"Targets: custom median < 20 ms and within 1.5x of typed; add_field < 1000 ms, no rewrite."
    )
