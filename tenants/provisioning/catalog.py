"""Read a schema's structure from pg_catalog: as replayable DDL, and as a comparable description.

Both read the same catalog rows, so what the replay reproduces and what the equality check
compares cannot drift apart. Besides tables, constraints, indexes and sequences the replay knows
functions and triggers (the audit trail's row triggers). Object kinds it does not know (views,
types, policies) are reported by `unsupported_objects` so a template holding them is refused, not
half-copied.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django_tenants.utils import schema_context

_TABLES = """
    SELECT c.oid, c.relname FROM pg_class c
    WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r' ORDER BY c.relname
"""
_COLUMNS = """
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
           CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
           col_description(c.oid, a.attnum),
           pg_get_serial_sequence(quote_ident(c.relname), a.attname)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
    WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
      AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum
"""
_CONSTRAINTS = """
    SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    WHERE k.connamespace = %(schema)s::regnamespace AND k.contype IN ('p', 'u', 'c', 'f', 'x')
    ORDER BY k.contype <> 'p', k.contype = 'f', c.relname, k.conname
"""
# Indexes that do not back a primary key, unique or exclusion constraint.
_INDEXES = """
    SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    WHERE i.relnamespace = %(schema)s::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                      WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid
                        AND k.contype IN ('p', 'u', 'x'))
    ORDER BY i.relname
"""
_SEQUENCES = """
    SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
           s.seqcycle, d.deptype, tc.relname, a.attname
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
    LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass
                         AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    LEFT JOIN pg_class tc ON tc.oid = d.refobjid
    LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE c.relnamespace = %(schema)s::regnamespace ORDER BY c.relname
"""
_TABLE_COMMENTS = """
    SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c
    WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
      AND obj_description(c.oid, 'pg_class') IS NOT NULL ORDER BY c.relname
"""
_FUNCTIONS = """
    SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
    FROM pg_proc p WHERE p.pronamespace = %(schema)s::regnamespace AND p.prokind = 'f'
    ORDER BY 1, 2
"""
_TRIGGERS = """
    SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger')
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = %(schema)s::regnamespace AND NOT t.tgisinternal ORDER BY 1, 2
"""
_UNSUPPORTED = """
    SELECT 'relation ' || relname || ' of kind ' || relkind::text FROM pg_class
    WHERE relnamespace = %(schema)s::regnamespace AND relkind NOT IN ('r', 'i', 'S')
    UNION ALL SELECT 'routine ' || proname FROM pg_proc
              WHERE pronamespace = %(schema)s::regnamespace AND prokind <> 'f'
    UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typnamespace = %(schema)s::regnamespace
              AND typtype NOT IN ('c', 'b') AND typrelid = 0
    UNION ALL SELECT 'policy ' || polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
              WHERE c.relnamespace = %(schema)s::regnamespace
"""
_SEQUENCE_STATE = "SELECT last_value, is_called FROM {}"


def _rows(sql: str, schema: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"schema": schema})
        return cursor.fetchall()


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _unqualify(definition: str, schema: str) -> str:
    """pg_get_indexdef and pg_get_triggerdef always name the table's schema; the replay runs inside
    the target schema."""
    return re.sub(rf"\b(ON (?:ONLY )?){re.escape(_quote(schema))}\.", r"\1", definition).replace(
        f" ON {schema}.", " ON "
    )


def _unqualify_function(definition: str, schema: str) -> str:
    """pg_get_functiondef always qualifies the function's name; bodies are kept as written."""
    head, sep, body = definition.partition("AS $")
    for qualifier in {_quote(schema), schema}:
        head = head.replace(f"FUNCTION {qualifier}.", "FUNCTION ")
    return head + sep + body


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    type: str
    not_null: bool
    default: str | None
    identity: str
    generated: str
    collation: str | None
    comment: str | None
    sequence: str | None

    def ddl(self) -> str:
        parts = [_quote(self.name), self.type]
        if self.collation:
            parts.append(f"COLLATE {_quote(self.collation)}")
        if self.identity:
            kind = "ALWAYS" if self.identity == "a" else "BY DEFAULT"
            # Name the sequence: after a table rename, PostgreSQL keeps the old sequence name.
            sequence = self.sequence.rsplit(".", 1)[-1].strip('"')
            parts.append(f"GENERATED {kind} AS IDENTITY (SEQUENCE NAME {_quote(sequence)})")
        elif self.generated == "s":
            parts.append(f"GENERATED ALWAYS AS ({self.default}) STORED")
        elif self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.not_null:
            parts.append("NOT NULL")
        return " ".join(parts)


def tables(schema: str) -> list[str]:
    return [name for _oid, name in _rows(_TABLES, schema)]


def relation_count(schema: str) -> int:
    """Tables, indexes and sequences: what each tenant adds to the catalog."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relnamespace = %s::regnamespace", [schema])
        return cursor.fetchone()[0]


def columns(schema: str) -> list[Column]:
    with schema_context(schema):
        return [Column(*row) for row in _rows(_COLUMNS, schema)]


def unsupported_objects(schema: str) -> list[str]:
    return [row[0] for row in _rows(_UNSUPPORTED, schema)]


def schema_ddl(schema: str) -> list[str]:
    """Statements that rebuild `schema`'s tables, constraints, indexes and sequences, unqualified."""
    # search_path = only this schema, so definitions name its objects without a qualifier and
    # anything outside it (public tables, pg_catalog types) keeps its qualifier.
    with schema_context(schema):
        connection.set_schema(schema, include_public=False)
        cols = [Column(*row) for row in _rows(_COLUMNS, schema)]
        constraints = _rows(_CONSTRAINTS, schema)
        indexes = _rows(_INDEXES, schema)
        sequences = _rows(_SEQUENCES, schema)
        table_comments = _rows(_TABLE_COMMENTS, schema)
        functions = _rows(_FUNCTIONS, schema)
        triggers = _rows(_TRIGGERS, schema)

    statements = []
    for name, type_, start, increment, minimum, maximum, cycle, deptype, *_owner in sequences:
        if deptype == "i":
            continue  # created by its identity column
        statements.append(
            f"CREATE SEQUENCE {_quote(name)} AS {type_} INCREMENT {increment} MINVALUE {minimum} "
            f"MAXVALUE {maximum} START {start} {'CYCLE' if cycle else 'NO CYCLE'}"
        )
    by_table: dict[str, list[Column]] = {}
    for column in cols:
        by_table.setdefault(column.table, []).append(column)
    for table, table_columns in by_table.items():
        body = ",\n    ".join(column.ddl() for column in table_columns)
        statements.append(f"CREATE TABLE {_quote(table)} (\n    {body}\n)")
    for name, _type, _s, _i, _mn, _mx, _c, deptype, owner_table, owner_column in sequences:
        if deptype == "a":
            statements.append(
                f"ALTER SEQUENCE {_quote(name)} OWNED BY {_quote(owner_table)}.{_quote(owner_column)}"
            )
    for table, name, _kind, definition in constraints:
        statements.append(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}")
    statements.extend(_unqualify(definition, schema) for _name, definition in indexes)
    for table, comment in table_comments:
        statements.append(f"COMMENT ON TABLE {_quote(table)} IS {literal(comment)}")
    for column in cols:
        if column.comment is not None:
            statements.append(
                f"COMMENT ON COLUMN {_quote(column.table)}.{_quote(column.name)} IS {literal(column.comment)}"
            )
    # Function bodies are not resolved at creation, but a `%TYPE` in a signature is: tables first.
    statements.extend(_unqualify_function(definition, schema) for _n, _a, definition in functions)
    for table, name, definition, comment in triggers:
        statements.append(_unqualify(definition, schema))
        if comment is not None:
            statements.append(f"COMMENT ON TRIGGER {_quote(name)} ON {_quote(table)} IS {literal(comment)}")
    return statements


def sequence_values(schema: str) -> dict[str, tuple[int, bool]]:
    values = {}
    for name, *_rest in _rows(_SEQUENCES, schema):
        with connection.cursor() as cursor:
            cursor.execute(_SEQUENCE_STATE.format(f"{_quote(schema)}.{_quote(name)}"))
            values[name] = tuple(cursor.fetchone())
    return values


def describe(schema: str) -> dict:
    """Everything that makes two schemas the same, with the schema's own name taken out."""
    with schema_context(schema):
        connection.set_schema(schema, include_public=False)
        description = {
            "columns": [
                (
                    c.table,
                    c.name,
                    c.type,
                    c.not_null,
                    None if c.identity else c.default,
                    c.identity,
                    c.generated,
                    c.collation,
                    c.comment,
                    c.sequence.rsplit(".", 1)[-1] if c.sequence else None,
                )
                for c in (Column(*row) for row in _rows(_COLUMNS, schema))
            ],
            "constraints": [tuple(row) for row in _rows(_CONSTRAINTS, schema)],
            "indexes": [
                (name, _unqualify(definition, schema)) for name, definition in _rows(_INDEXES, schema)
            ],
            "sequences": [tuple(row) for row in _rows(_SEQUENCES, schema)],
            "table_comments": [tuple(row) for row in _rows(_TABLE_COMMENTS, schema)],
            "functions": [
                (name, arguments, _unqualify_function(definition, schema))
                for name, arguments, definition in _rows(_FUNCTIONS, schema)
            ],
            "triggers": [
                (table, name, _unqualify(definition, schema), comment)
                for table, name, definition, comment in _rows(_TRIGGERS, schema)
            ],
            "unsupported": unsupported_objects(schema),
        }
    description["sequence_values"] = sequence_values(schema)
    return description
