"""Values the engine computes at save time: auto-numbers on creation and formulas on every save,
then the validation rules over the result. Both speak the formula language (metadata/formulas).

A formula's value is stored with the record so it can be filtered, sorted and indexed like any
value; when a formula's definition changes, `recompute_formulas` brings the stored values in line.
"""

import json
from decimal import InvalidOperation
from graphlib import CycleError, TopologicalSorter

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from metadata import registry
from metadata.fieldtypes import to_python


def parsed(info: registry.ObjectInfo, name: str, source: str):
    """A formula parsed once per metadata version."""
    key = ("formula", info.key, name)
    compiled = info.snapshot.compiled
    if key not in compiled:
        from metadata import formulas

        compiled[key] = formulas.parse(source)
    return compiled[key]


def record_values(info: registry.ObjectInfo, record, values: dict) -> dict:
    """What a formula sees: the record's standard fields and its custom values, as Python."""
    seen = {}
    for field in info.fields:
        if field.standard:
            attribute = f"{field.name}_id" if field.type in ("lookup", "user") else field.name
            seen[field.name] = getattr(record, attribute, None)
        elif field.type == "formula":  # stored in its result's JSON form
            seen[field.name] = to_python(_python_type(field.definition), values.get(field.name))
        else:
            seen[field.name] = to_python(field.type, values.get(field.name))
    return seen


def formula_order(info: registry.ObjectInfo) -> list:
    """Formula fields, each after the formulas it reads."""
    definitions = {d.name: d for d in info.custom_fields if d.type == "formula"}
    graph = {
        name: parsed(info, name, d.options["expression"]).references & definitions.keys()
        for name, d in definitions.items()
    }
    try:
        return [definitions[name] for name in TopologicalSorter(graph).static_order()]
    except CycleError:  # refused when defined; a stale snapshot must not loop
        return list(definitions.values())


def fill(info: registry.ObjectInfo, record, values: dict, *, creating: bool) -> dict:
    """`values` with the computed ones set: auto-numbers on creation (sequence
    "field:<object>.<name>"), then every formula, each after the formulas it reads."""
    from crm.records.services import next_number

    values = dict(values)
    if creating:
        for definition in info.custom_fields:
            if definition.type == "auto_number" and values.get(definition.name) is None:
                values[definition.name] = next_number(
                    f"field:{info.key}.{definition.name}", definition.options.get("format") or "{seq}"
                )
    ordered = formula_order(info)
    if not ordered:
        return values
    from metadata import formulas

    now = timezone.now()
    today = timezone.localdate(now)
    seen = record_values(info, record, values)
    for definition in ordered:
        formula = parsed(info, definition.name, definition.options["expression"])
        try:
            result = formulas.evaluate(formula, seen, today=today, now=now)
        except formulas.FormulaError:
            result = None  # a formula that fails on this record's data leaves the field empty
        stored = _stored(definition.options.get("result_type"), result)
        seen[definition.name] = to_python(_python_type(definition), stored)
        if stored is None:
            values.pop(definition.name, None)
        else:
            values[definition.name] = stored
    return values


def rule_errors(info: registry.ObjectInfo, record, values: dict) -> dict:
    """The messages of the validation rules this record breaks, keyed by the field they name."""
    rules = info.rules
    if not rules:
        return {}
    from metadata import formulas

    now = timezone.now()
    seen = record_values(info, record, values)
    errors: dict[str, list[str]] = {}
    chinese = translation.get_language() == "zh-hans"
    for rule in rules:
        formula = parsed(info, f"rule:{rule.name}", rule.condition)
        try:
            broken = formulas.rule_violated(formula, seen, today=timezone.localdate(now), now=now)
        except formulas.FormulaError:
            broken = False
        if broken:
            message = rule.message_zh if chinese and rule.message_zh else rule.message_en
            errors.setdefault(_rule_key(info, rule.field), []).append(message or _("Invalid record."))
    return errors


def _rule_key(info: registry.ObjectInfo, name: str) -> str:
    """Where a rule's message shows: its field ("custom.<name>" for a custom one), else the record."""
    field = info.field(name) if name else None
    if field is None:  # no field named, or one deleted since the rule was written
        return "__all__"
    return field.name if field.standard else field.path


def recompute_formulas(info: registry.ObjectInfo, batch: int = 1000) -> int:
    """Store every record's formula values afresh, by the save-time logic, after a formula's
    definition changed; returns how many records changed.

    Batches by primary key, each row locked while its values are rewritten, and only the formula
    keys are written, so a concurrent save of other values is not lost. It runs in the caller's
    transaction: a definition change on a very large object holds its lock for the whole pass.
    """
    names = [definition.name for definition in formula_order(info)]
    if not names:
        return 0
    table = connection.ops.quote_name(info.model._meta.db_table)
    changed, last = 0, 0
    while True:
        with transaction.atomic():
            rows = list(info.queryset().filter(pk__gt=last).order_by("pk").select_for_update()[:batch])
            if not rows:
                return changed
            ids, fresh_values = [], []
            for record in rows:
                stored = record.custom or {}
                fresh = fill(info, record, stored, creating=False)
                formula_values = {name: fresh[name] for name in names if name in fresh}
                if formula_values != {name: stored[name] for name in names if name in stored}:
                    ids.append(record.pk)
                    fresh_values.append(json.dumps(formula_values))
            if ids:
                # One statement per batch (executemany does not pass the audit context wrapper).
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} AS record"
                        " SET custom = (record.custom - %s::text[]) || fresh.formulas"
                        " FROM unnest(%s::bigint[], %s::jsonb[]) AS fresh(id, formulas)"
                        " WHERE record.id = fresh.id",
                        [names, ids, fresh_values],
                    )
            changed += len(ids)
            last = rows[-1].pk


def _python_type(definition) -> str:
    result_type = definition.options.get("result_type")
    return {"number": "decimal"}.get(result_type, result_type or "text")


def _stored(result_type: str | None, result):
    """A formula's result in its stored JSON form."""
    from datetime import UTC, date, datetime
    from decimal import Decimal

    if result is None:
        return None
    if isinstance(result, Decimal):
        try:
            result = result.quantize(Decimal("1e-8")).normalize() if result.is_finite() else None
        except InvalidOperation:  # too many digits to keep 8 places: not storable as a number
            result = None
        if result is None:
            return None
        return int(result) if result == result.to_integral_value() else float(result)
    if isinstance(result, datetime):
        return result.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(result, date):
        return result.isoformat()
    return result
