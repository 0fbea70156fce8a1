"""Benchmark "provisioning": one new tenant schema, ours against django-tenants' two paths.

Every method builds the same schema (all tenant apps). The methods run round-robin, so a slow
drift of the machine or the growing catalog weighs on all of them alike. Run 0 of each method is
a warm-up (first-call costs: password list, migration loader, clone functions) reported apart.
"""

from collections import defaultdict

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.clone import CloneSchema

from benchmarks.harness import elapsed_ms, summarize, table
from tenants import services
from tenants.models import Tenant
from tenants.provisioning import ready_pool, template

RUNS, QUICK_RUNS = 20, 5
PASSWORD = "Sturdy-Harbour-2026"

SIGN_UP = "ours: sign_up(), ready schema claimed"
SIGN_UP_REPLAY = "ours: sign_up(), pool empty (replay)"
HASH = "ours:   argon2 make_password() (in a thread)"
REPLAY = "ours: template.replay() in a transaction"
MIGRATE = "django-tenants: migrate path"
CLONE = "django-tenants: clone path (clone + --fake)"
CLONE_SQL = "django-tenants:   of which clone_schema()"

# /work/shared/research/tenancy-scale.md 1.2 (2 cores, PG 15, Dj 5.2/Py 3.11, 248 relations per schema).
ANCHORS = [
    ("anchor 1.2: migrate path", "2300"),
    ("anchor 1.2: clone path", "700"),
    ("anchor 1.2: clone_schema() SQL alone", "630"),
    ("anchor 1.2: pg_dump -n replay via psql", "220-270"),
    ("anchor 1.2: raw DDL, 30 tables + 65 indexes", "100-120"),
]
ANCHOR_RELATIONS = 248


def _sign_up_as(label: str, slug: str):
    def method(i: int, script: str) -> tuple[str, dict]:
        ms, tenant = elapsed_ms(
            services.sign_up,
            company_name=f"Bench {i}",
            slug=f"{slug}-{i}",
            admin_name="Bench Admin",
            email=f"admin{i}@bench.example",
            password=PASSWORD,
        )
        return tenant.schema_name, {label: ms}

    return method


def _sign_up_claiming(i: int, script: str) -> tuple[str, dict]:
    ready_pool.fill(1)  # in production the background refill does this between sign-ups
    schema, timings = _sign_up_as(SIGN_UP, "bench-pool")(i, script)
    # Hashing alone, outside sign-up: sign-up runs it in a thread beside the schema work.
    timings[HASH] = elapsed_ms(make_password, PASSWORD)[0]
    return schema, timings


def _sign_up_replaying(i: int, script: str) -> tuple[str, dict]:
    ready_pool.drain()
    return _sign_up_as(SIGN_UP_REPLAY, "bench-replay")(i, script)


def _replay(i: int, script: str) -> tuple[str, dict]:
    schema = f"bench_replay_{i}"

    def replay():
        with transaction.atomic():
            template.replay(schema, script)

    return schema, {REPLAY: elapsed_ms(replay)[0]}


def _migrate(i: int, script: str) -> tuple[str, dict]:
    schema = f"bench_migrate_{i}"
    return schema, {MIGRATE: elapsed_ms(template.migrate_into_new_schema, schema)[0]}


def _clone(i: int, script: str) -> tuple[str, dict]:
    """What TenantMixin.create_schema does with TENANT_CREATION_FAKES_MIGRATIONS and a base schema."""
    schema = f"bench_clone_{i}"
    clone_ms, _ = elapsed_ms(
        CloneSchema().clone_schema, settings.TENANT_TEMPLATE_SCHEMA, schema, set_connection=True
    )
    fake_ms, _ = elapsed_ms(
        call_command,
        "migrate_schemas",
        tenant=True,
        fake=True,
        schema_name=schema,
        executor="standard",
        interactive=False,
        verbosity=0,
    )
    connection.set_schema_to_public()
    return schema, {CLONE: clone_ms + fake_ms, CLONE_SQL: clone_ms}


METHODS = [_sign_up_claiming, _sign_up_replaying, _replay, _migrate, _clone]


def _differences_from_template(schema: str) -> list[str]:
    """How the method's schema differs from the template (structure, seed rows, migration records)."""
    problems = template.differences(
        template.describe_with_data(settings.TENANT_TEMPLATE_SCHEMA), template.describe_with_data(schema)
    )
    connection.set_schema_to_public()
    return problems


def run(quick: bool) -> dict:
    call_command("migrate_schemas", shared=True, executor="standard", interactive=False, verbosity=0)
    snapshot = template.refresh()
    runs = QUICK_RUNS if quick else RUNS
    samples, first, schemas = defaultdict(list), {}, []
    for i in range(runs + 1):
        for method in METHODS:
            schema, timings = method(i, snapshot.ddl)
            schemas.append(schema)
            for label, ms in timings.items():
                if i == 0:
                    first[label] = round(ms, 1)
                else:
                    samples[label].append(ms)
    differences = {
        # sign-up's schema is a replay plus its admin user, so it is not compared.
        REPLAY: _differences_from_template("bench_replay_0"),
        MIGRATE: _differences_from_template("bench_migrate_0"),
        CLONE: _differences_from_template("bench_clone_0"),
    }
    for schema in schemas:
        template.drop_schema(schema)
    Tenant.objects.filter(slug__startswith="bench-").delete()
    return {
        "runs": runs,
        "relations_per_schema": snapshot.relation_count,
        "migrations": len(template.code_migrations()),
        "methods": {
            label: {
                **summarize(samples[label]),
                "first_ms": first[label],
                "differences_from_template": differences.get(label),
            }
            for label in [SIGN_UP, SIGN_UP_REPLAY, HASH, REPLAY, MIGRATE, CLONE, CLONE_SQL]
        },
        "anchors": {
            "source": "research/tenancy-scale.md 1.2",
            "relations_per_schema": ANCHOR_RELATIONS,
            "median_ms": dict(ANCHORS),
        },
    }


def report(result: dict) -> str:
    methods = result["methods"]
    replay, sign_up = methods[REPLAY]["median_ms"], methods[SIGN_UP]["median_ms"]
    rows = [
        [
            label,
            m["n"],
            m["median_ms"],
            m["p95_ms"],
            m["min_ms"],
            m["max_ms"],
            m["first_ms"],
            f"{m['median_ms'] / replay:.1f}x",
            f"{m['median_ms'] / sign_up:.2f}x",
        ]
        for label, m in methods.items()
    ]
    rows += [[label, None, median, None, None, None, None, None, None] for label, median in ANCHORS]
    headers = ["method (ms)", "n", "median", "p95", "min", "max", "warm-up", "vs replay", "vs sign_up"]
    checks = "\n".join(
        f"  {label}: "
        + (f"{len(found)} difference(s)\n" + "\n".join(f"    {p[:300]}" for p in found) if found else "same")
        for label, m in methods.items()
        if (found := m["differences_from_template"]) is not None
    )
    return (
        f"Schema: {result['relations_per_schema']} relations, {result['migrations']} migrations "
        f"(anchors: {ANCHOR_RELATIONS} relations). {result['runs']} runs per method after 1 warm-up.\n\n"
        f"{table(headers, rows)}\n\nSame as the template (catalog, seed rows, django_migrations):\n{checks}"
    )
