"""Benchmark "deploy": `migrate_schemas --tenant` over T tenants, our executor against django-tenants'.

Each run is the command a deploy runs, in a process of its own (`python -m django migrate_schemas`),
timed from start to exit; its output goes to benchmarks/results/logs/. Two situations:

- no-op: every tenant is up to date;
- one new migration: benchapp 0002 (AddField with a default + AddIndex) is pending in every tenant.
  Before each executor's run, 0002 is undone in every tenant by SQL and the template snapshot is
  deleted, as a code change would make it stale: our run then includes the template rebuild.

Extrapolation to 10,000 tenants: fixed + (total - fixed) / T * 10,000. Fixed is the process
start-up (`migrate_schemas --help`), plus for ours with a new migration the template rebuild (timed
apart, in this process). Other fixed costs (our stale-schema query, worker start-up) are counted
per tenant, which overstates everyone a little at small T; catalog growth is ignored, which
understates everyone (the research saw 0.12 -> 0.19 s per tenant from 30 to 310 tenants).
"""

import os
import statistics
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from tqdm import tqdm

from benchmarks.harness import RESULTS, ROOT, elapsed_ms
from benchmarks.harness import table as format_table
from tenants.migrate_executor import stale_schemas
from tenants.models import Domain, TemplateSnapshot, Tenant
from tenants.provisioning import template
from tenants.signup_rules import schema_name_for

TENANTS, QUICK_TENANTS = 1000, 50
EXECUTORS = ["fast", "standard", "multiprocessing"]
# django-tenants' multiprocessing executor forks with the parent's psycopg pool open: the workers
# then share its sockets and fail ("the last operation didn't produce records") or hang. It runs
# without the pool; the others run with the settings as deployed.
EXECUTOR_ENV = {"multiprocessing": {"DB_POOL": "0"}}
LABELS = {
    "fast": "ours: fast",
    "standard": "django-tenants: standard",
    "multiprocessing": "django-tenants: multiprocessing, DB_POOL=0",
}
NEW_MIGRATION = ("benchapp", "0002_score")
LOGS = RESULTS / "logs"
TARGET = 10_000

# /work/shared/research/tenancy-scale.md 1.3 (2 cores, PG 15): (label, tenants, total seconds).
NOOP_ANCHORS = [
    ("anchor 1.3: standard", 30, 4.1),
    ("anchor 1.3: standard", 310, 58.6),
    ("anchor 1.3: multiprocessing (2)", 30, 2.2),
    ("anchor 1.3: multiprocessing (2)", 310, 43.7),
]
MIGRATION_ANCHORS = [("anchor 1.3: multiprocessing (2)", 310, 64.5)]


def _create_tenants(count: int, script: str) -> list[str]:
    """Tenants as sign-up makes them, minus the admin user and password hashing."""
    slugs = [f"bench-{i:05d}" for i in range(count)]
    for slug in tqdm(
        slugs,
        desc="replaying tenant schemas",
        unit="schema",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    ):
        with transaction.atomic():
            template.replay(schema_name_for(slug), script)
    tenants = Tenant.objects.bulk_create(
        [Tenant(schema_name=schema_name_for(slug), slug=slug, name=f"Bench {slug}") for slug in slugs],
        batch_size=500,
    )
    Domain.objects.bulk_create(
        [Domain(domain=f"{t.slug}.{settings.BASE_DOMAIN}", tenant=t, is_primary=True) for t in tenants],
        batch_size=500,
    )
    return [t.schema_name for t in tenants]


def _undo_new_migration(schemas: list[str]) -> None:
    """Put every tenant back before benchapp 0002, and make the template snapshot stale."""
    app, name = NEW_MIGRATION
    # 100 schemas per transaction keeps the locks taken within max_locks_per_transaction.
    for start in range(0, len(schemas), 100):
        statements = []
        for schema in schemas[start : start + 100]:
            quoted = connection.ops.quote_name(schema)
            statements += [
                f"ALTER TABLE {quoted}.benchapp_benchitem DROP COLUMN score",  # drops its index too
                f"DELETE FROM {quoted}.django_migrations WHERE app = '{app}' AND name = '{name}'",
            ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(";\n".join(statements))
    TemplateSnapshot.objects.all().delete()


def _migrated_count(schemas: list[str]) -> int:
    """Tenants that have the 0002 column: a run that recorded the migration without applying it fails this."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'benchapp_benchitem' "
            "AND column_name = 'score' AND table_schema = ANY(%s)",
            [schemas],
        )
        return cursor.fetchone()[0]


def _migrate_schemas(executor: str, log_name: str, tenants: int) -> float:
    """Seconds for one `migrate_schemas --tenant` process, start to exit."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{log_name}.log"
    command = [
        sys.executable,
        "-m",
        "django",
        "migrate_schemas",
        "--tenant",
        f"--executor={executor}",
        "--noinput",
    ]
    # The workers our executor spawns read DJANGO_SETTINGS_MODULE (benchmarks.settings) from here.
    env = {**os.environ, **EXECUTOR_ENV.get(executor, {})}
    with log.open("w") as output:
        start = time.perf_counter()
        # The timeout only stops a hung run (as the pooled multiprocessing executor did): far above any
        # figure measured so far, it is no judgement of speed.
        process = subprocess.run(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=300 + 5 * tenants
        )
        seconds = time.perf_counter() - start
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}, see {log}")
    return seconds


def _startup_seconds() -> float:
    """A migrate_schemas process that sets Django up and exits: the per-run fixed cost."""
    command = [sys.executable, "-m", "django", "migrate_schemas", "--help"]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=os.environ, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _figures(seconds: float, tenants: int, fixed: float) -> dict:
    return {
        "total_s": round(seconds, 2),
        "per_tenant_ms": round(seconds / tenants * 1000, 1),
        "extrapolated_10k_s": round(fixed + max(seconds - fixed, 0) / tenants * TARGET, 1),
    }


def run(quick: bool) -> dict:
    count = QUICK_TENANTS if quick else TENANTS
    call_command("migrate_schemas", shared=True, executor="standard", interactive=False, verbosity=0)
    snapshot = template.refresh()
    start = time.perf_counter()
    schemas = _create_tenants(count, snapshot.ddl)
    create_seconds = time.perf_counter() - start
    startup = _startup_seconds()
    rebuild_seconds = elapsed_ms(template.refresh, force=True)[0] / 1000

    noop, migration = {}, {}
    for executor in EXECUTORS:
        print(f"no-op migrate_schemas, {executor} executor, {count} tenants", file=sys.stderr, flush=True)
        seconds = _migrate_schemas(executor, f"deploy-noop-{executor}", count)
        noop[executor] = _figures(seconds, count, startup)
    for executor in EXECUTORS:
        _undo_new_migration(schemas)
        print(f"new migration, {executor} executor, {count} tenants", file=sys.stderr, flush=True)
        seconds = _migrate_schemas(executor, f"deploy-migration-{executor}", count)
        # Without the migration record, or recorded without the column.
        problems = max(len(stale_schemas(schemas)), count - _migrated_count(schemas))
        fixed = startup + (rebuild_seconds if executor == "fast" else 0)
        migration[executor] = {**_figures(seconds, count, fixed), "tenants_not_migrated": problems}
    return {
        "tenants": count,
        "create_tenants_s": round(create_seconds, 1),
        "startup_s": round(startup, 2),
        "template_rebuild_s": round(rebuild_seconds, 2),
        "workers": {
            "fast (MIGRATE_PARALLEL)": settings.MIGRATE_PARALLEL,
            "multiprocessing (TENANT_MULTIPROCESSING_MAX_PROCESSES)": getattr(
                settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", 2
            ),
        },
        "noop": noop,
        "new_migration": migration,
        "anchors": {
            "source": "research/tenancy-scale.md 1.3",
            "noop": [{"label": a, "tenants": t, "total_s": s} for a, t, s in NOOP_ANCHORS],
            "new_migration": [{"label": a, "tenants": t, "total_s": s} for a, t, s in MIGRATION_ANCHORS],
        },
    }


def _table(figures: dict, anchors: list, tenants: int) -> str:
    ours = figures["fast"]["total_s"]
    rows = [
        [
            LABELS[executor],
            tenants,
            f["total_s"],
            f["per_tenant_ms"],
            round(f["extrapolated_10k_s"] / 60, 1),
            f"{f['total_s'] / ours:.1f}x",
        ]
        for executor, f in figures.items()
    ]
    # Anchors carry no start-up figure: extrapolated linearly.
    rows += [[a, t, s, round(s / t * 1000, 1), round(s / t * TARGET / 60, 1), None] for a, t, s in anchors]
    return format_table(["executor", "tenants", "total s", "ms/tenant", "10k est. min", "vs ours"], rows)


def report(result: dict) -> str:
    failed = {
        e: f["tenants_not_migrated"] for e, f in result["new_migration"].items() if f["tenants_not_migrated"]
    }
    return (
        f"{result['tenants']} tenants created by replay in {result['create_tenants_s']} s. Workers: "
        f"{', '.join(f'{k}={v}' for k, v in result['workers'].items())}. Process start-up "
        f"{result['startup_s']} s (in every total). Template rebuild {result['template_rebuild_s']} s "
        "(in ours, (b)).\n\n"
        f"(a) no-op `migrate_schemas --tenant`\n{_table(result['noop'], NOOP_ANCHORS, result['tenants'])}\n\n"
        f"(b) one new migration (AddField with default + AddIndex) in every tenant; ours includes the "
        f"template rebuild\n{_table(result['new_migration'], MIGRATION_ANCHORS, result['tenants'])}\n\n"
        f"Tenants left without the new migration: {failed or 'none'}"
    )
