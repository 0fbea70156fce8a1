"""The JSON Schema of a record as the APIs show and take it: standard fields typed from the
registry, custom fields from their field type's own schema, under "custom". Input is checked
against it before any service runs, and the per-tenant OpenAPI and GraphQL types are read from
it, so the three never disagree about a field's type."""

from django.core.exceptions import FieldDoesNotExist

from metadata import registry
from metadata.fieldtypes import kind_of

STANDARD_TYPES = {
    "number": {"type": "integer"},
    # Decimals travel as strings ("1234.50") so no client rounds money through a float.
    "decimal": {"type": ["string", "number"], "pattern": r"^-?\d+(\.\d+)?$"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "lookup": {"type": "integer", "minimum": 1},
    "user": {"type": "integer", "minimum": 1},
    "email": {"type": "string", "format": "email"},
}


def field_schema(info: registry.ObjectInfo, field: registry.Field) -> dict:
    """The JSON Schema of one field's value (null included where the field may be empty)."""
    if not field.standard:
        definition = field.definition
        schema = dict(kind_of(definition.type).schema(definition.options))
        return _nullable(schema, not field.required or field.read_only)
    schema = dict(STANDARD_TYPES.get(field.type, {"type": "string"}))
    if field.name == "id":
        schema = {"type": "integer"}
    if field.choices:
        schema = {"type": "string", "enum": list(field.choices)}
    model_field = _model_field(info, field)
    if model_field is not None and model_field.blank and schema.get("type") == "string":
        # A field that may be blank takes "" (clearing it): in its choices, and past its format,
        # which the model's own validation still checks for any other text.
        schema.pop("format", None)
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], ""]
    max_length = getattr(model_field, "max_length", None)
    if max_length and schema.get("type") == "string":
        schema["maxLength"] = max_length
    if field.read_only:
        schema["readOnly"] = True
    return _nullable(schema, model_field is None or model_field.null)


def record_schema(info: registry.ObjectInfo, fields: list[registry.Field]) -> dict:
    """The schema of a record made of `fields`: standard ones at the top, custom ones in "custom"."""
    standard = {"id": {"type": "integer", "readOnly": True}}
    custom = {}
    for field in fields:
        (standard if field.standard else custom)[field.name] = field_schema(info, field)
    return {
        "type": "object",
        "properties": {**standard, "custom": {"type": "object", "properties": custom}},
    }


def input_schema(info: registry.ObjectInfo, fields: list[registry.Field]) -> dict:
    """The schema a create or update body must match: the writable `fields`, nothing else."""
    standard = {f.name: field_schema(info, f) for f in fields if f.standard and not f.read_only}
    custom = {f.name: field_schema(info, f) for f in fields if not f.standard and not f.read_only}
    properties = dict(standard)
    if custom:
        properties["custom"] = {"type": "object", "properties": custom, "additionalProperties": False}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _model_field(info: registry.ObjectInfo, field: registry.Field):
    try:
        return info.model._meta.get_field(field.name)
    except FieldDoesNotExist:
        return None


def _nullable(schema: dict, nullable: bool) -> dict:
    if not nullable:
        return schema
    kind = schema.get("type")
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None], "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**schema, "type": [*kind, "null"]}
    if kind:
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}
