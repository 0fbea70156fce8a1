"""The JSON Schema of a view definition and its shape check, errors located per field
(`columns[2]`, `sort[0].field`) and translated. The filter's inside is checked by the filter
language's own schema (metadata/filters)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from channels.models import ChannelNode
from metadata.models import NAME_PATTERN
from metadata.values import value_message
from metadata.views.models import ViewKind, Visibility

MAX_COLUMNS = 100
MAX_SORT = 5
MAX_AGGREGATES = 20
FUNCTIONS = ("count", "sum", "avg")
_FIELD = {"type": "string", "minLength": 1, "maxLength": 200}
_OPTIONAL_FIELD = {"type": "string", "maxLength": 200}

VIEW_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://crm.example/schemas/view.json",
    "title": "Saved view",
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "label_en": {"type": "string", "minLength": 1, "maxLength": 100},
        "label_zh": {"type": "string", "maxLength": 100},
        "kind": {"enum": list(ViewKind.values)},
        "columns": {"type": "array", "maxItems": MAX_COLUMNS, "uniqueItems": True, "items": _FIELD},
        "filter": {"type": ["object", "null"]},
        "sort": {
            "type": "array",
            "maxItems": MAX_SORT,
            "items": {
                "type": "object",
                "properties": {"field": _FIELD, "direction": {"enum": ["asc", "desc"]}},
                "required": ["field"],
                "additionalProperties": False,
            },
        },
        "group_by": _OPTIONAL_FIELD,
        "kanban_field": _OPTIONAL_FIELD,
        "calendar_field": _OPTIONAL_FIELD,
        "aggregates": {
            "type": "array",
            "maxItems": MAX_AGGREGATES,
            "items": {
                "type": "object",
                "properties": {"function": {"enum": list(FUNCTIONS)}, "field": _FIELD},
                "required": ["function"],
                "additionalProperties": False,
            },
        },
        "visibility": {"enum": list(Visibility.values)},
        "channel_level": {"enum": ["", *ChannelNode.Level.values]},
        "is_default": {"type": "boolean"},
        # Keys of rows, checked by the services: an id or null.
        "role": {"type": ["integer", "null"]},
        "org_unit": {"type": ["integer", "null"]},
    },
    "required": ["name", "label_en"],
    "additionalProperties": False,
}
_VALIDATOR = Draft202012Validator(VIEW_SCHEMA)


def location(path) -> str:
    """("sort", 0, "field") -> "sort[0].field"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "view"


def check_shape(definition: dict) -> None:
    """Raise one ValidationError with every shape problem of `definition`, per location."""
    errors: dict[str, list[str]] = {}
    for error in _VALIDATOR.iter_errors(definition):
        for path, message in _messages(error):
            messages = errors.setdefault(location(path), [])
            if message not in messages:
                messages.append(message)
    if errors:
        raise ValidationError(errors)


def _messages(error) -> list[tuple[tuple, str]]:
    path, kind, instance = tuple(error.absolute_path), error.validator, error.instance
    if kind == "required":
        return [
            ((*path, key), _("This is required.")) for key in error.validator_value if key not in instance
        ]
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        return [((*path, key), _("Unknown key.")) for key in instance if key not in known]
    if kind == "enum":
        return [(path, _("Not one of the allowed values."))]
    if kind == "uniqueItems":
        return [(path, _("Each field may be listed once."))]
    if kind == "type" and "object" in error.validator_value:
        return [(path, _("Expected an object."))]
    if kind == "minLength" and error.validator_value == 1:
        return [(path, _("This is required."))]
    return [(path, value_message(error))]
