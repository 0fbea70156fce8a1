"""Typed SQL for a key of the JSONB `custom` column, so numbers and dates compare as such.

Each cast is guarded: a stored value of another type (a string where a number belongs, a
malformed or impossible date) reads as NULL instead of failing the whole query, since a broken
value in one row must not break every list and sharing rule over the object.
"""

from django.db import models
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from metadata.filters.fields import BOOLEAN, DATE, DATETIME, DECIMAL, INTEGER, REFERENCE, FieldInfo


class GuardedCast(models.Func):
    """The JSON value as a typed SQL value, NULL when it has another shape.

    Numbers and booleans: CASE WHEN jsonb_typeof(...) = 'number' THEN its text cast END. Dates and
    date-times go through the IMMUTABLE functions of metadata/sql.py. Constants are inlined, not
    bound, so the expression is the very one the custom-field indexes are built on.
    """

    def __init__(self, raw, kind: str, output_field):
        super().__init__(raw, output_field=output_field)
        self.kind = kind

    def as_sql(self, compiler, connection, **extra):
        raw, params = compiler.compile(self.source_expressions[0])
        if self.kind in (DECIMAL, BOOLEAN):
            sql_type, json_type = ("numeric", "number") if self.kind == DECIMAL else ("boolean", "boolean")
            return (
                f"(CASE WHEN jsonb_typeof({raw}) = '{json_type}' THEN ({raw} #>> '{{}}')::{sql_type} END)",
                [*params, *params],
            )
        function = "crm_json_date" if self.kind == DATE else "crm_json_timestamptz"
        return f"{function}({raw})", params


def custom_expression(info: FieldInfo):
    """The SQL value of a custom key, typed for comparison (text for text and choices)."""
    if info.type in (DECIMAL, INTEGER, REFERENCE):  # a reference holds a record id
        return GuardedCast(KeyTransform(info.custom_key, info.lookup), DECIMAL, models.DecimalField())
    if info.type == BOOLEAN:
        return GuardedCast(KeyTransform(info.custom_key, info.lookup), BOOLEAN, models.BooleanField())
    if info.type == DATE:
        return GuardedCast(KeyTransform(info.custom_key, info.lookup), DATE, models.DateField())
    if info.type == DATETIME:
        return GuardedCast(KeyTransform(info.custom_key, info.lookup), DATETIME, models.DateTimeField())
    return KeyTextTransform(info.custom_key, info.lookup)


def json_value(info: FieldInfo):
    """The raw JSONB value of a custom key (multi-choice lists)."""
    return KeyTransform(info.custom_key, info.lookup)


class JSONType(models.Func):
    function = "jsonb_typeof"
    output_field = models.CharField()


class JSONLength(models.Func):
    """Items in a JSON array; other values count as none."""

    output_field = models.IntegerField()

    def as_sql(self, compiler, connection, **extra):
        raw, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE WHEN jsonb_typeof({raw}) = 'array' THEN jsonb_array_length({raw}) END",
            [*params, *params],
        )
