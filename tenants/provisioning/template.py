"""The sign-up template: a schema built by migrations, captured once per migration state.

The deploy (`migrate_schemas`) rebuilds the template whenever the code's migration graph changes,
captures it as one SQL script (tables, constraints, indexes, seed rows, sequence positions),
replays that script into a probe schema and compares the two catalogs. Only a snapshot that
passed this check is stored; sign-up uses the snapshot whose digest matches the running code.
"""

import hashlib
import json
import logging

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from tenants.models import TemplateSnapshot
from tenants.provisioning import catalog

log = logging.getLogger(__name__)

PROBE_SCHEMA = "tenant_template_probe"


class TemplateMismatch(Exception):
    """The replayed schema differs from the migrated one: the snapshot must not be used."""


def code_migrations() -> list[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(loader.graph.nodes)


def migration_digest(migrations: list[tuple[str, str]] | None = None) -> str:
    """Fingerprint of the code's migration graph; a snapshot is valid only for the same graph."""
    names = migrations if migrations is not None else code_migrations()
    return hashlib.sha256("\n".join(f"{app}.{name}" for app, name in names).encode()).hexdigest()


def current_snapshot() -> TemplateSnapshot | None:
    return TemplateSnapshot.objects.filter(migration_digest=migration_digest()).first()


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [schema])
        return cursor.fetchone()[0]


def drop_schema(schema: str) -> None:
    with connection.cursor() as cursor:
        # Deferred foreign-key checks still pending in this transaction would block the DROP.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP SCHEMA IF EXISTS {_quote(schema)} CASCADE")


def migrate_into_new_schema(schema: str, verbosity: int = 0) -> None:
    """django-tenants' own path: CREATE SCHEMA, then every tenant migration. Slow; used for the template."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {_quote(schema)}")
    call_command(
        "migrate_schemas",
        schema_name=schema,
        tenant=True,
        executor="standard",
        interactive=False,
        verbosity=verbosity,
    )
    connection.set_schema_to_public()


def _seed_tables(schema: str) -> list[str]:
    tables = []
    for table in catalog.tables(schema):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_quote(schema)}.{_quote(table)})")
            if cursor.fetchone()[0]:
                tables.append(table)
    return tables


def _seed_statements(schema: str, tables: list[str]) -> list[str]:
    """One INSERT per table, rows inlined as a JSON literal, so the script needs no template at run time."""
    statements = []
    for table in tables:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT json_agg(t)::text FROM {_quote(schema)}.{_quote(table)} t")
            rows = cursor.fetchone()[0]
        literal = "'" + rows.replace("'", "''") + "'"
        name = _quote(table)
        statements.append(
            f"INSERT INTO {name} SELECT * FROM json_populate_recordset(NULL::{name}, {literal})"
        )
    return statements


def _sequence_statements(schema: str) -> list[str]:
    return [
        f"SELECT setval('{_quote(name)}', {value}, {'true' if called else 'false'})"
        for name, (value, called) in catalog.sequence_values(schema).items()
        if called
    ]


def capture(schema: str) -> tuple[str, list[str]]:
    """The replay script for `schema`: tables, seed rows, constraints and indexes, sequence positions."""
    unsupported = catalog.unsupported_objects(schema)
    if unsupported:
        raise TemplateMismatch(f"the template holds objects the replay cannot copy: {', '.join(unsupported)}")
    ddl = catalog.schema_ddl(schema)
    tables_end = sum(1 for s in ddl if s.startswith(("CREATE SEQUENCE", "CREATE TABLE")))
    seeded = _seed_tables(schema)
    # Rows go in before constraints and indexes exist: cheaper, and no FK ordering to get right.
    script = [
        *ddl[:tables_end],
        *_seed_statements(schema, seeded),
        *ddl[tables_end:],
        *_sequence_statements(schema),
    ]
    return ";\n".join(script) + ";\n", seeded


def replay(schema: str, script: str) -> None:
    """Create `schema` from a captured script. Runs in the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {_quote(schema)}")
    connection.set_schema(schema, include_public=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute(script)
    finally:
        connection.set_schema_to_public()


def differences(left: dict, right: dict) -> list[str]:
    """Human-readable differences between two `catalog.describe()` results (plus seed data)."""
    problems = []
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key), right.get(key)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list):
            only_a = [x for x in a if x not in b][:5]
            only_b = [x for x in b if x not in a][:5]
            problems.append(f"{key}: only in first {only_a}, only in second {only_b}")
        else:
            problems.append(
                f"{key}: {json.dumps(a, default=str)[:300]} != {json.dumps(b, default=str)[:300]}"
            )
    return problems


def describe_with_data(schema: str) -> dict:
    """Catalog description plus the migration records and a digest of every seeded table's rows."""
    description = catalog.describe(schema)
    data = {}
    for table in _seed_tables(schema):
        # Times and random stamps (uuid) differ between any two builds: compare the rest.
        varying = [
            c.name
            for c in catalog.columns(schema)
            if c.table == table and (c.type.startswith("timestamp") or c.type == "uuid")
        ]
        drop = "".join(f" - {catalog.literal(c)}" for c in varying)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), '')) "
                f"FROM (SELECT to_jsonb(t){drop} AS r FROM {_quote(schema)}.{_quote(table)} t) s"
            )
            data[table] = tuple(cursor.fetchone())
    description["seed_data"] = data
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {_quote(schema)}.django_migrations ORDER BY app, name")
        description["migrations"] = [tuple(row) for row in cursor.fetchall()]
    return description


def refresh(force: bool = False, verbosity: int = 0) -> TemplateSnapshot:
    """Bring the template up to the code's migrations, verify the replay, store the snapshot."""
    digest = migration_digest()
    existing = TemplateSnapshot.objects.filter(migration_digest=digest).first()
    if existing and not force:
        return existing
    template = settings.TENANT_TEMPLATE_SCHEMA
    log.info("building tenant template %s for migration state %s", template, digest[:12])
    drop_schema(template)
    migrate_into_new_schema(template, verbosity=verbosity)
    script, seeded = capture(template)

    with transaction.atomic():
        drop_schema(PROBE_SCHEMA)
        replay(PROBE_SCHEMA, script)
        problems = differences(describe_with_data(template), describe_with_data(PROBE_SCHEMA))
        drop_schema(PROBE_SCHEMA)
        if problems:
            raise TemplateMismatch("replayed template differs from the migrated one:\n" + "\n".join(problems))
        relation_count = catalog.relation_count(template)
        TemplateSnapshot.objects.exclude(migration_digest=digest).delete()
        snapshot, _ = TemplateSnapshot.objects.update_or_create(
            migration_digest=digest,
            defaults={"ddl": script, "seeded_tables": seeded, "relation_count": relation_count},
        )
    log.info("tenant template ready: %s", snapshot)
    return snapshot
