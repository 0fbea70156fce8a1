"""A create or update body read into the keyword values the object's writer takes.

Standard fields are named at the top, custom ones under "custom" (the representation's shape).
A field the user cannot read is unknown, one the services do not take is read-only, and a
standard value of the wrong JSON type is refused here, before any service runs; custom values
are checked by the services (metadata/values.py), like every write. All problems at once.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from metadata import writers
from metadata.record_schema import field_schema
from metadata.values import value_message
from metadata.views.fields import ViewFields

IDENTITY = frozenset({"id"})


def writer_values(fields: ViewFields, body, *, ignore=frozenset()) -> dict:
    """The writer's keyword values for `body`; `ignore` names top-level keys read elsewhere (the
    id an upsert matches on)."""
    if not isinstance(body, dict):
        raise ValidationError({"": [_("Send a JSON object.")]})
    writer = writers.writer_for(fields.object)
    values, errors = {}, {}
    for name, value in body.items():
        if name in ignore:
            continue
        if name == "custom":
            if not isinstance(value, dict):
                errors["custom"] = [_("Expected an object of custom field values.")]
            else:
                _custom_values(fields, value, errors)
                values["custom"] = value
            continue
        field = fields.field(name)
        if field is None or not field.standard:
            errors[name] = [_("Unknown field.")]
        elif name not in writer.fields:
            errors[name] = [_("This field cannot be set.")]
        else:
            problem = _type_problem(fields, field, value)
            if problem:
                errors[name] = [problem]
            values[name] = value
    if errors:
        raise ValidationError(errors)
    return values


def _custom_values(fields: ViewFields, values: dict, errors: dict) -> None:
    for name in values:
        field = fields.field(f"custom.{name}")
        if field is None:
            errors[f"custom.{name}"] = [_("Unknown field.")]
        elif field.read_only:
            errors[f"custom.{name}"] = [_("This field is computed and cannot be set.")]


def _type_problem(fields: ViewFields, field, value) -> str | None:
    validator = Draft202012Validator(field_schema(fields.object, field), format_checker=FormatChecker())
    error = next(iter(validator.iter_errors(value)), None)
    return None if error is None else value_message(error)
