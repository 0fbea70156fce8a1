"""Values the engine computes at save time: auto-numbers on creation and formulas on every save,
then the validation rules over the result. Both speak the formula language (metadata/formulas)."""

from graphlib import CycleError, TopologicalSorter

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
            field = rule.field
            if field and info.field(field) is not None and not info.field(field).standard:
                field = f"custom.{field}"
            errors.setdefault(field or "__all__", []).append(message or _("Invalid record."))
    return errors


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
        result = result.quantize(Decimal("1e-8")).normalize() if result.is_finite() else None
        if result is None:
            return None
        return int(result) if result == result.to_integral_value() else float(result)
    if isinstance(result, datetime):
        return result.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(result, date):
        return result.isoformat()
    return result
