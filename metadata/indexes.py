"""Indexes on custom fields: what a definition wants, and bringing the table in line with it.

A field marked filterable, sortable or unique gets partial expression indexes on its object's
table, built with CREATE INDEX CONCURRENTLY by a background task after the definition commits
(metadata/tasks.py), so an admin's change never holds a write lock on a large table.

The indexed expression is the filter compiler's own (`custom_expression`), compiled to SQL by
the table's query compiler, so the planner matches the conditions and sorts the compiler emits:

- filterable: (expr) WHERE expr IS NOT NULL, proven by the compiler's explicit IS NOT NULL;
- sortable: (expr, id) and (expr DESC NULLS LAST, id), serving the keyset pages of views sorted
  either way with empty values last;
- unique: UNIQUE ((custom ->> 'name')) WHERE custom ? 'name', the text form values.py compares.

On the custom-record table every index is also partial on `object_id = <id>`.

PostgreSQL takes no statistics from a partial index (selfuncs.c skips indexes with a predicate),
so without help a filter on a custom field is estimated at 0.5 % of the table whatever it matches,
and the planner sorts a "filter + first page" view the slow way. Each partial expression index
therefore gets an expression statistics object of the same name (CREATE STATISTICS ... ON (expr),
PostgreSQL >= 14; statistics live in their own namespace), built by an ANALYZE of the primary key
column alone, which computes every extended statistics object of the table but no other column.
It is dropped with its index. On the custom-record table it also covers `object_id`, so the pair
(object_id = X AND expr = v) is estimated from their joint MCV list rather than as independent.

Names are `cf_<table>_<field id>_<f|s|u>_<hash of the definition>`: deterministic, at most 63
characters, and a changed expression (a type change) gets a new name, so the sync builds the new
index and drops the old one without comparing index definitions.
"""

import hashlib
import re
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models.sql import Query

from metadata.fieldtypes import kind_of
from metadata.filters.custom import custom_expression
from metadata.filters.fields import FieldInfo
from metadata.models import FieldDefinition, IndexStatus

PREFIX = "cf_"
TABLE_CHARS = 24  # keeps every name within PostgreSQL's 63
NAME_PATTERN = re.compile(r"^cf_.+_(\d+)_([fsdu])_[0-9a-f]{6}$")


@dataclass(frozen=True)
class WantedIndex:
    name: str
    sql: str  # CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS ...
    statistics: str = ""  # CREATE STATISTICS IF NOT EXISTS <name> ..., for a partial expression index


def request_sync(definition: FieldDefinition) -> None:
    """Bring the field's indexes in line with its definition after commit (in the background)."""
    from metadata.tasks import sync_field_indexes

    wants = bool(wanted(definition))
    if not wants and definition.index_status == IndexStatus.NONE:
        return  # nothing built, nothing wanted: no task
    status = IndexStatus.PENDING if wants else IndexStatus.DROPPING
    FieldDefinition.objects.filter(pk=definition.pk).update(index_status=status, index_error="")
    definition.index_status, definition.index_error = status, ""
    schema = connection.schema_name
    # After commit: the worker must see the definition, and CONCURRENTLY cannot run in a
    # transaction block, which is also why an eager (broker-less) run must wait for the commit.
    transaction.on_commit(lambda: sync_field_indexes.delay(schema, definition.pk))


def drop_now(definition: FieldDefinition) -> None:
    """Drop the field's indexes at once, in the caller's transaction (a purge)."""
    with connection.cursor() as cursor:
        for name in existing(definition):
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
            cursor.execute(f"DROP STATISTICS IF EXISTS {connection.ops.quote_name(name)}")


def sync(field_id: int) -> str:
    """Build the indexes the field wants and drop the ones it no longer wants (a deleted field,
    a flag turned off, a changed type); returns the status reached. Safe to run again: what
    exists and is valid is kept, an INVALID left-over of a failed build is dropped and rebuilt.

    Outside a transaction (the worker, an eager run after commit) builds are CONCURRENTLY;
    inside one (an eager run a test executes in its transaction) they are plain, in a savepoint.
    """
    definition = FieldDefinition.objects.filter(pk=field_id).first()
    if definition is None:
        return IndexStatus.NONE  # purged: drop_now took its indexes with it
    concurrently = not connection.in_atomic_block
    wants = {index.name: index for index in wanted(definition)}
    has = existing(definition)
    _set_status(field_id, IndexStatus.BUILDING if wants else IndexStatus.DROPPING)
    for name, valid in has.items():
        if name not in wants or not valid:
            _drop(name, concurrently)
    built = []
    for index in wants.values():
        if has.get(index.name):
            continue
        try:
            _run(index.sql if concurrently else index.sql.replace(" CONCURRENTLY", ""), concurrently)
            built.append(index)
        except DatabaseError as error:
            # A failed concurrent build leaves an INVALID index behind: never leave it there.
            _drop(index.name, concurrently)
            _set_status(field_id, IndexStatus.FAILED, str(error).strip())
            return IndexStatus.FAILED
    # Also for an index built before statistics objects existed: a later sync adds its statistics.
    missing = [index for index in wants.values() if index.statistics and not _has_statistics(index.name)]
    for index in missing:
        _run(index.statistics, concurrently)
    # A new non-partial expression index (sortable, standard table) has statistics of its own, which
    # only a whole-table ANALYZE computes; on a large, stable table autovacuum may not run one for long.
    whole = any(" WHERE " not in index.sql for index in built)
    if missing or whole:
        _analyze(definition, concurrently, whole=whole)
    status = IndexStatus.READY if wants else IndexStatus.NONE
    _set_status(field_id, status)
    return status


def wanted(definition: FieldDefinition) -> list[WantedIndex]:
    """The indexes the definition asks for; none for a deleted field."""
    if definition.deleted_at is not None:
        return []
    model, _table = _model_and_table(definition)
    info = field_info(definition)
    found = []
    if info is not None and (definition.filterable or definition.sortable):
        expression = _sql(model, custom_expression(info))
        on_object = _custom_object_id(definition) is not None
        # What the planner needs statistics of where only partial indexes cover the expression.
        statistics = f"{_quote('object_id')}, ({expression})" if on_object else f"({expression})"
        if definition.filterable:
            not_null = _where(definition, f"{expression} IS NOT NULL")
            found.append(_index(definition, "f", f"({expression})", not_null, statistics=statistics))
        if definition.sortable:
            # On a standard table this index is not partial: its own statistics cover the expression.
            found.append(
                _index(
                    definition,
                    "s",
                    f"({expression}), {_quote('id')}",
                    _where(definition),
                    statistics=statistics if on_object else "",
                )
            )
    if definition.unique:
        text = _sql(model, _key_text(definition))
        has_key = connection.ops.compose_sql(f"{_quote('custom')} ? %s", [definition.name])
        found.append(_index(definition, "u", f"({text})", _where(definition, has_key), unique=True))
    if info is not None and definition.sortable:
        # Views sort descending with empty values last (DESC NULLS LAST, id), an order a backward
        # scan of the sortable index (DESC NULLS FIRST, id DESC) does not give.
        found.append(
            _index(
                definition,
                "d",
                f"({expression}) DESC NULLS LAST, {_quote('id')}",
                _where(definition),
                statistics=statistics if on_object else "",
            )
        )
    return found


def field_info(definition: FieldDefinition) -> FieldInfo | None:
    """The field as the filter compiler sees it (what `resolver_for` would give); None when the
    type cannot be filtered (a list formula)."""
    filter_type = kind_of(definition.type).filter_type_of(definition.options)
    if filter_type is None:
        return None
    return FieldInfo(f"custom.{definition.name}", filter_type, "custom", custom_key=definition.name)


def existing(definition: FieldDefinition) -> dict[str, bool]:
    """{index name: valid} of the field's indexes in the current schema (every name it ever had)."""
    _model, table = _model_and_table(definition)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, i.indisvalid FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relname = %s AND t.relnamespace = current_schema()::regnamespace
              AND starts_with(c.relname::text, %s)
            """,
            [table, _name_stem(definition)],
        )
        return {name: valid for name, valid in cursor.fetchall() if NAME_PATTERN.match(name)}


def unique_field_of(error: IntegrityError) -> str | None:
    """The custom field whose unique index `error` violated (a race past values.py's check), or
    None for any other integrity error."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    match = NAME_PATTERN.match(constraint or "")
    if match is None or match.group(2) != "u":
        return None
    if connection.in_atomic_block and connection.needs_rollback:
        return None  # the caller's transaction is broken: no query can name the field
    return FieldDefinition.objects.filter(pk=int(match.group(1))).values_list("name", flat=True).first()


def _run(sql: str, concurrently: bool) -> None:
    if concurrently:
        with connection.cursor() as cursor:
            cursor.execute(sql)
        return
    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a failure keeps the caller's
        cursor.execute(sql)


def _drop(name: str, concurrently: bool) -> None:
    how = "CONCURRENTLY " if concurrently else ""
    _run(f"DROP INDEX {how}IF EXISTS {_quote(name)}", concurrently)
    _run(f"DROP STATISTICS IF EXISTS {_quote(name)}", concurrently)


def _has_statistics(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_statistic_ext WHERE stxname = %s"
            " AND stxnamespace = current_schema()::regnamespace",
            [name],
        )
        return cursor.fetchone() is not None


def _analyze(definition: FieldDefinition, concurrently: bool, *, whole: bool) -> None:
    """Compute the statistics now rather than at the next autovacuum. Unless `whole`, a column list
    skips the other columns and the indexes (the JSONB column's own statistics are the costly part)
    but still builds every statistics object whose plain columns it names (an expression-only one
    needs none, one on `object_id` needs that column). Takes only a SHARE UPDATE EXCLUSIVE lock:
    writes go on."""
    model, table = _model_and_table(definition)
    if whole:
        _run(f"ANALYZE {_quote(table)}", concurrently)
        return
    columns = [model._meta.pk.column] + (["object_id"] if _custom_object_id(definition) is not None else [])
    _run(f"ANALYZE {_quote(table)} ({', '.join(_quote(c) for c in columns)})", concurrently)


def _set_status(field_id: int, status: str, error: str = "") -> None:
    from metadata import registry

    with transaction.atomic():
        FieldDefinition.objects.filter(pk=field_id).update(index_status=status, index_error=error)
        registry.bump_version()  # cached snapshots hold the definition, its status included


# --- SQL ----------------------------------------------------------------------------------------


def _model_and_table(definition: FieldDefinition) -> tuple[type[models.Model], str]:
    from metadata import registry
    from metadata.models import CustomRecord

    if definition.object_key.startswith(registry.CUSTOM_PREFIX):
        model = CustomRecord
    else:
        model = registry.standard_models()[definition.object_key]
    return model, model._meta.db_table


def _custom_object_id(definition: FieldDefinition) -> int | None:
    from metadata import registry
    from metadata.models import ObjectDefinition

    if not definition.object_key.startswith(registry.CUSTOM_PREFIX):
        return None
    name = definition.object_key.removeprefix(registry.CUSTOM_PREFIX)
    return ObjectDefinition.objects.values_list("pk", flat=True).get(name=name)


def _sql(model, expression) -> str:
    """`expression` as the ORM compiles it in a query on `model`, parameters inlined."""
    query = Query(model)
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(expression.resolve_expression(query, allow_joins=False))
    return connection.ops.compose_sql(sql, params)


def _key_text(definition: FieldDefinition):
    from django.db.models.fields.json import KeyTextTransform

    return KeyTextTransform(definition.name, "custom")


def _where(definition: FieldDefinition, *conditions: str) -> str:
    object_id = _custom_object_id(definition)
    parts = ([f"{_quote('object_id')} = {int(object_id)}"] if object_id is not None else []) + list(
        conditions
    )
    return " AND ".join(f"({part})" for part in parts)


def _index(
    definition, kind: str, columns: str, where: str, *, unique: bool = False, statistics: str = ""
) -> WantedIndex:
    _model, table = _model_and_table(definition)
    body = f"ON {_quote(table)} ({columns})" + (f" WHERE {where}" if where else "")
    digest = hashlib.sha1(f"{unique} {body}".encode()).hexdigest()[:6]
    name = f"{_name_stem(definition)}{kind}_{digest}"
    create = "CREATE UNIQUE INDEX" if unique else "CREATE INDEX"
    if statistics:
        statistics = f"CREATE STATISTICS IF NOT EXISTS {_quote(name)} ON {statistics} FROM {_quote(table)}"
    return WantedIndex(name, f"{create} CONCURRENTLY IF NOT EXISTS {_quote(name)} {body}", statistics)


def _name_stem(definition: FieldDefinition) -> str:
    _model, table = _model_and_table(definition)
    return f"{PREFIX}{table[:TABLE_CHARS]}_{definition.pk}_"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
