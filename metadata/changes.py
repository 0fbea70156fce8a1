"""A definition change checked against the stored values before it is made.

Changing a field's type, choices, bounds, length, pattern, uniqueness or requiredness must not
leave records the new definition refuses. Every stored value is read (in batches, by the same
checks that validate new input, after the conversion the new type allows), and a change that
would break any is refused with a report: how many records, the first few, and why.
"""

import json

from django.db import connection
from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from crm_platform.errors import Conflict
from metadata import registry
from metadata.fieldtypes import BadValue, kind_of
from metadata.values import value_message

BATCH = 5000
EXAMPLES = 5
TEXT_TYPES = ("text", "long_text", "email", "phone", "url", "select", "auto_number")
NUMBER_TYPES = ("number", "decimal", "currency", "percent")


class DefinitionConflict(Conflict):
    """The stored data does not allow this change; `report` says which records and why."""

    kind = "definition-conflict"

    def __init__(self, detail, report: dict):
        super().__init__(detail)
        self.report = report

    def as_problem(self) -> dict:
        return {**super().as_problem(), "report": self.report}


def convert(value, old_type: str, new_type: str):
    """The value a stored value becomes under the new type, before the new type's checks."""
    if old_type == new_type or value is None:
        return value
    if new_type in TEXT_TYPES and isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, "f").rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    if new_type in NUMBER_TYPES and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return value
        return int(number) if number.is_integer() and new_type == "number" else number
    if new_type == "datetime" and old_type == "date":
        return f"{value}T00:00:00Z"
    if new_type == "multi_select" and old_type == "select":
        return [value]
    return value


def _problem(definition, value) -> str | None:
    kind = kind_of(definition.type)
    error = next(iter(Draft202012Validator(kind.schema(definition.options)).iter_errors(value)), None)
    if error is not None:
        return value_message(error)
    try:
        kind.clean(value, definition.options)
    except BadValue as bad:
        return str(bad)
    return None


def check_against_data(info: registry.ObjectInfo, before, after) -> None:
    """Refuse `after` with a report if any stored value of the field would not satisfy it."""
    if kind_of(after.type).computed:
        if (
            before.type != after.type
            and not kind_of(before.type).computed
            and _count_values(info, after.name)
        ):
            raise DefinitionConflict(
                _("Records hold values for this field; a computed field would overwrite them."),
                {"records": _count_values(info, after.name), "examples": []},
            )
        return
    failures, examples = 0, []
    if _value_rules_changed(before, after):
        for pk, value in _stored_values(info, after.name):
            problem = _problem(after, convert(value, before.type, after.type))
            if problem is not None:
                failures += 1
                if len(examples) < EXAMPLES:
                    examples.append({"id": pk, "value": value, "problem": problem})
    if failures:
        raise DefinitionConflict(
            _("%(count)s records hold values this definition would refuse.") % {"count": failures},
            {"records": failures, "examples": examples},
        )
    if after.unique and not before.unique:
        clashes = _duplicates(info, after.name)
        if clashes:
            raise DefinitionConflict(
                _("Some records share a value, so the field cannot be unique."),
                {"records": sum(c["count"] for c in clashes), "examples": clashes[:EXAMPLES]},
            )
    if after.required and not before.required and after.default is None:
        missing = info.queryset().exclude(custom__has_key=after.name).count()
        if missing:
            raise DefinitionConflict(
                _("%(count)s records have no value; give a default or fill them first.") % {"count": missing},
                {"records": missing, "examples": []},
            )


def convert_values(info: registry.ObjectInfo, before, after) -> int:
    """Rewrite stored values in the new type's form after a type change; returns how many."""
    if before.type == after.type or kind_of(after.type).computed:
        return 0
    changed = 0
    table = connection.ops.quote_name(info.model._meta.db_table)
    with connection.cursor() as cursor:
        for pk, value in list(_stored_values(info, after.name)):
            new = kind_of(after.type).clean(convert(value, before.type, after.type), after.options)
            if new != value:
                cursor.execute(
                    f"UPDATE {table} SET custom = jsonb_set(custom, %s, %s::jsonb) WHERE id = %s",
                    [[after.name], json.dumps(new), pk],
                )
                changed += 1
    return changed


def remove_values(info: registry.ObjectInfo, name: str) -> int:
    """Delete key `name` from every record's values (a purge); returns how many held it."""
    holders = info.queryset().filter(custom__has_key=name)
    table = connection.ops.quote_name(info.model._meta.db_table)
    removed = 0
    while True:
        batch = list(holders.values_list("pk", flat=True)[:BATCH])
        if not batch:
            return removed
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET custom = custom - %s WHERE id = ANY(%s)", [name, batch])
            removed += cursor.rowcount


def _value_rules_changed(before, after) -> bool:
    return (before.type, before.options) != (after.type, after.options)


def _stored_values(info: registry.ObjectInfo, name: str):
    """(pk, value) of every record holding the key, in batches by primary key."""
    last = 0
    holders = info.queryset().filter(custom__has_key=name).order_by("pk")
    while True:
        rows = list(holders.filter(pk__gt=last).values_list("pk", f"custom__{name}")[:BATCH])
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def _count_values(info: registry.ObjectInfo, name: str) -> int:
    return info.queryset().filter(custom__has_key=name).count()


def _duplicates(info: registry.ObjectInfo, name: str) -> list[dict]:
    rows = (
        info.queryset()
        .filter(custom__has_key=name)
        .annotate(_value=KeyTextTransform(name, "custom"))
        .values("_value")
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .order_by("-count")[:EXAMPLES]
    )
    return [{"value": row["_value"], "count": row["count"]} for row in rows]
