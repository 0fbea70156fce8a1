"""Typed SQL for a key of the JSONB `custom` column, so numbers and dates compare as such.

Each cast is guarded: a stored value of another type (a string where a number belongs, a
malformed or impossible date) reads as NULL instead of failing the whole query, since a broken
value in one row must not break every list and sharing rule over the object.
"""

from django.db import models
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from metadata.filters.fields import BOOLEAN, DATE, DATETIME, DECIMAL, INTEGER, FieldInfo

DATE_PATTERN = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DATETIME_PATTERN = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?$"
)


class GuardedCast(models.Func):
    """CASE WHEN <the JSON value has the right shape> THEN <its text cast to the type> END."""

    def __init__(self, raw, kind: str, output_field):
        super().__init__(raw, output_field=output_field)
        self.kind = kind

    def as_sql(self, compiler, connection, **extra):
        raw, params = compiler.compile(self.source_expressions[0])
        text = f"({raw} #>> '{{}}')"
        if self.kind in (DECIMAL, BOOLEAN):
            sql_type = "numeric" if self.kind == DECIMAL else "boolean"
            json_type = "number" if self.kind == DECIMAL else "boolean"
            return (
                f"CASE WHEN jsonb_typeof({raw}) = %s THEN {text}::{sql_type} END",
                [*params, json_type, *params],
            )
        pattern, sql_type = (DATE_PATTERN, "date") if self.kind == DATE else (DATETIME_PATTERN, "timestamptz")
        # The pattern admits 2026-02-31; rebuilding the day from the month's first shows it is not one.
        day = (
            f"to_char((substr({text}, 1, 7) || '-01')::date + (substr({text}, 9, 2)::int - 1), "
            f"'YYYY-MM-DD') = substr({text}, 1, 10)"
        )
        return (
            f"CASE WHEN {text} ~ %s THEN CASE WHEN {day} THEN {text}::{sql_type} END END",
            [*params, pattern, *params, *params, *params, *params],
        )


def custom_expression(info: FieldInfo):
    """The SQL value of a custom key, typed for comparison (text for text and choices)."""
    if info.type in (DECIMAL, INTEGER):
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
