"""Custom field values checked against their definitions: one JSON Schema per object (compiled
once per metadata version), then the checks a schema cannot express, then defaults, read-only
fields, auto-numbers, formulas, uniqueness and validation rules.

Errors come back as one ValidationError keyed "custom.<name>", in the user's language; nothing is
written when there is one. Services reach this through `crm.records.services.validated`.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from access.permissions import field_rules
from crm.records.audit import current_actor
from metadata import registry
from metadata.fieldtypes import BadValue, kind_of
from metadata.filters.messages import TYPE_MESSAGES
from metadata.records import lookup_errors

MAX_KEYS = 2000


def object_schema(info: registry.ObjectInfo) -> dict:
    """The JSON Schema of an object's `custom` values (what clients may send)."""
    properties, required = {}, []
    for definition in info.custom_fields:
        kind = kind_of(definition.type)
        if not kind.stored:
            continue
        value_schema = kind.schema(definition.options)
        properties[definition.name] = {
            "anyOf": [value_schema, {"type": "null"}] if value_schema else [{}],
            "title": definition.label_en,
            **({"description": definition.help_en} if definition.help_en else {}),
        }
        if definition.required and not kind.computed:
            required.append(definition.name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": info.label_en,
        "type": "object",
        "properties": properties,
        "required": required,
        "maxProperties": MAX_KEYS,
    }


def _validator(info: registry.ObjectInfo) -> Draft202012Validator:
    compiled = info.snapshot.compiled
    key = ("validator", info.key)
    if key not in compiled:
        schema = object_schema(info)
        # Each value is checked against its own branch, so errors name one field each.
        compiled[key] = {
            name: Draft202012Validator(prop["anyOf"][0]) for name, prop in schema["properties"].items()
        }
    return compiled[key]


def clean_values(info: registry.ObjectInfo, values, *, previous=None, creating: bool) -> dict:
    """The values to store for a record of `info` given what a client sent (`values`, the
    `custom` dict) and what is stored (`previous`). On an update, a key not sent keeps its stored
    value and null clears it. Raises one ValidationError, field by field."""
    previous = previous or {}
    if not isinstance(values, dict):
        raise ValidationError({"custom": [_("Expected an object of custom field values.")]})
    errors: dict[str, list[str]] = {}
    live = {definition.name: definition for definition in info.custom_fields}
    cleaned = {}
    # Values of deleted fields stay with the record until the field is purged.
    for definition in info.deleted_fields:
        if definition.name in previous:
            cleaned[definition.name] = previous[definition.name]
    for name, value in values.items():
        # A deleted field's stored value comes back with a record saved whole: it is not a change.
        kept = name in cleaned and value == previous.get(name)
        if name not in live and not kept:
            errors.setdefault(_key(name), []).append(_("Unknown field."))
    validators = _validator(info)
    for name, definition in live.items():
        kind = kind_of(definition.type)
        if kind.computed:
            if name in values and values[name] != previous.get(name):
                errors.setdefault(_key(name), []).append(_("This field is computed and cannot be set."))
            if name in previous and kind.stored:
                cleaned[name] = previous[name]
            continue
        unchanged = name not in values or (name in previous and values[name] == previous[name])
        if unchanged and not creating:
            # Kept as stored: a save that does not touch a field (a job, a status change) must
            # not fail on it, e.g. on a required field added after the record was made.
            if name in previous:
                cleaned[name] = previous[name]
            continue
        value = values.get(name)
        if name not in values and definition.default is not None:
            value = definition.default
        value = _blank_to_none(value)
        if value is None:
            if definition.required:
                errors.setdefault(_key(name), []).append(_("This field is required."))
            continue
        problem = _first_problem(validators[name], value)
        if problem is None:
            try:
                value = kind.clean(value, definition.options)
            except BadValue as error:
                problem = str(error)
        if problem is not None:
            errors.setdefault(_key(name), []).append(problem)
            continue
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _blank_to_none(value):
    if value == "" or value == []:
        return None
    return value


def _key(name: str) -> str:
    return f"custom.{name}"


def _first_problem(validator: Draft202012Validator, value) -> str | None:
    error = next(iter(validator.iter_errors(value)), None)
    return None if error is None else value_message(error)


def value_message(error) -> str:
    """A jsonschema error about one value, in the user's words and language."""
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        names = expected if isinstance(expected, list) else [expected]
        return TYPE_MESSAGES.get(names[0], lambda: _("Invalid value."))()
    if kind == "enum":
        return _("Not one of this field's choices.")
    if kind == "maxLength":
        return _("Too long (at most %(limit)s characters).") % {"limit": expected}
    if kind == "minLength":
        return _("Too short (at least %(limit)s characters).") % {"limit": expected}
    if kind == "pattern":
        return _("Does not match the required format.")
    if kind in ("minimum", "exclusiveMinimum"):
        return _("Must be at least %(limit)s.") % {"limit": expected}
    if kind in ("maximum", "exclusiveMaximum"):
        return _("Must be at most %(limit)s.") % {"limit": expected}
    if kind == "uniqueItems":
        return _("Each choice may be given once.")
    if kind == "maxItems":
        return _("Give at most %(count)s.") % {"count": expected}
    return _("Invalid value.")


def clean_record(record, *, actor=None) -> None:
    """Check and normalise `record.custom` in place before a service saves it. Lookups are checked
    against what `actor` (default: the user of the enclosing `acting_as`) may see."""
    actor = actor or current_actor()
    info = registry.describe(registry.object_key_of(record))
    creating = record._state.adding or record.pk is None
    previous = {}
    if not creating:
        stored = type(record).objects.filter(pk=record.pk).values_list("custom", flat=True).first()
        previous = stored or {}
    refused = _not_writable(info, record.custom or {}, previous, actor)
    if refused:
        raise ValidationError(refused)
    cleaned = clean_values(info, record.custom or {}, previous=previous, creating=creating)
    refused = lookup_errors(info, cleaned, previous=previous, actor=actor)
    if refused:
        raise ValidationError(refused)
    cleaned = complete(info, record, cleaned, creating=creating)
    record.custom = cleaned


def _not_writable(info: registry.ObjectInfo, sent, previous: dict, actor) -> dict:
    """Changed custom fields the actor's field permissions do not let them edit (the one check of
    custom field permissions: every service saves custom values through here)."""
    if actor is None or not isinstance(sent, dict):
        return {}
    rules = field_rules(actor, info.key)
    if rules.allowed is None:
        return {}
    live = {definition.name for definition in info.custom_fields}
    return {
        _key(name): [_("You may not change this field.")]
        for name, value in sent.items()
        if name in live and previous.get(name) != value and not rules.writable(_key(name))
    }


def complete(info: registry.ObjectInfo, record, values: dict, *, creating: bool) -> dict:
    """Computed values (auto-numbers on creation, formulas), then uniqueness and validation rules."""
    from metadata import computed

    values = computed.fill(info, record, values, creating=creating)
    errors = computed.rule_errors(info, record, values)
    errors.update(_duplicates(info, record, values))
    if errors:
        raise ValidationError(errors)
    return values


def _duplicates(info: registry.ObjectInfo, record, values: dict) -> dict:
    from django.db.models.fields.json import KeyTextTransform

    errors = {}
    for definition in info.custom_fields:
        if not definition.unique or values.get(definition.name) is None:
            continue
        text = str(values[definition.name])
        clash = (
            info.queryset()
            .annotate(_value=KeyTextTransform(definition.name, "custom"))
            .filter(_value=text)
            .exclude(pk=record.pk)
        )
        if clash.exists():
            errors[_key(definition.name)] = [_("Another record already has this value.")]
    return errors
