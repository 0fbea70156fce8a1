"""A definition change checked against the stored values before it is made.

Changing a field's type, choices, bounds, length, pattern, uniqueness or requiredness must not
leave records the new definition refuses. Every stored value is read (in batches, by the same
checks that validate new input, after the conversion the new type allows), and a change that
would break any is refused with a report: how many records, the first few, and why.
"""

import json
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform, KeyTransform
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
    """The value a stored value becomes under the new type, before the new type's checks (a value
    that cannot be converted is returned as it is, for those checks to refuse)."""
    if old_type == new_type or value is None:
        return value
    if new_type in TEXT_TYPES and isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, "f").rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    if new_type in NUMBER_TYPES and isinstance(value, str):
        return _number(value)
    if new_type == "datetime" and old_type == "date":
        return f"{value}T00:00:00Z"
    if new_type == "multi_select" and old_type == "select":
        return [value]
    if new_type == "select" and old_type == "multi_select" and isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _number(text: str):
    # Decimal, not float: "12345678901234567" must not be rounded into a valid-looking number.
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return text
    if not number.is_finite():  # "NaN", "Infinity" are no numbers a field holds
        return text
    return int(number) if number == number.to_integral_value() else float(number)


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
    kind, rewritten = kind_of(after.type), {}
    for pk, value in _stored_values(info, after.name):
        new = kind.clean(convert(value, before.type, after.type), after.options)
        # By type too: 5.0 == 5, yet a whole-number field must store 5.
        if (type(new), new) != (type(value), value):
            rewritten[pk] = new
    return _set_values(info, after.name, rewritten)


def fill_default(info: registry.ObjectInfo, before, after) -> int:
    """Give the default to the records without a value when a field becomes required (the check
    allowed it because there is a default); returns how many."""
    if not after.required or before.required or after.default is None:
        return 0
    missing = info.queryset().exclude(custom__has_key=after.name).values_list("pk", flat=True)
    return _set_values(info, after.name, dict.fromkeys(missing, after.default))


def _set_values(info: registry.ObjectInfo, name: str, values: dict) -> int:
    """Store `values` ({pk: value}) under key `name`, one statement per batch."""
    table = connection.ops.quote_name(info.model._meta.db_table)
    items = list(values.items())
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS record SET custom = jsonb_set(record.custom, %s, new.value)"
                " FROM unnest(%s::bigint[], %s::jsonb[]) AS new(id, value) WHERE record.id = new.id",
                [[name], [pk for pk, _value in batch], [json.dumps(value) for _pk, value in batch]],
            )
    return len(items)


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
        # KeyTransform, not "custom__<name>": a name with "__" would read as a nested path.
        page = holders.filter(pk__gt=last).annotate(_value=KeyTransform(name, "custom"))
        rows = list(page.values_list("pk", "_value")[:BATCH])
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
