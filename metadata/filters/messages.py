"""Translated messages for shape errors: jsonschema's own wording never reaches a client."""

from django.utils.translation import gettext as _

TYPE_MESSAGES = {
    "string": lambda: _("Expected text."),
    "integer": lambda: _("Expected a whole number."),
    "number": lambda: _("Expected a number."),
    "boolean": lambda: _("Expected true or false."),
    "array": lambda: _("Expected a list."),
    # Only nodes (conditions and groups) must be objects outside an operand's anyOf.
    "object": lambda: _("Expected a condition or a group (and, or, not)."),
}


def too_deep(limit: int) -> str:
    return _("Groups are nested too deeply (at most %(limit)s levels).") % {"limit": limit}


def too_many(limit: int) -> str:
    return _("Too many conditions (at most %(limit)s).") % {"limit": limit}


def shape_message(error) -> list[tuple[tuple, str]]:
    """(path, message) pairs for one jsonschema error, the path relative to the filter's root."""
    path, kind, expected, schema = (
        tuple(error.absolute_path),
        error.validator,
        error.validator_value,
        error.schema,
    )
    instance = error.instance
    if kind == "required":
        return [((*path, key), _("This is required.")) for key in expected if key not in instance]
    if kind == "additionalProperties":
        known = schema.get("properties", {})
        return [((*path, key), _("Unknown key.")) for key in instance if key not in known]
    if kind == "not":
        return [((*path, "value"), _("This operator takes no value."))]
    return [(path, _message(kind, expected, schema, path, instance))]


def _message(kind, expected, schema, path, instance) -> str:
    if kind == "type":
        names = expected if isinstance(expected, list) else [expected]
        return TYPE_MESSAGES.get(names[0], TYPE_MESSAGES["object"])()
    if kind == "enum":
        if path and path[-1] == "op":
            return _("Unknown operator.")
        if path and path[-1] == "var":
            return _("Unknown variable.")
        return _("Not one of the allowed values.")
    if kind == "anyOf" and isinstance(instance, dict) and "var" in instance:
        return _("Unknown variable.")
    if kind == "anyOf":
        return _('Expected a value (text, number, true or false) or a variable such as {"var": "me"}.')
    if kind in ("minItems", "maxItems") and schema.get("minItems") == schema.get("maxItems"):
        return _("Give exactly %(count)s values.") % {"count": expected}
    if kind == "minItems" and expected == 1:
        return _("This list is empty.")
    if kind == "minItems":
        return _("Give at least %(count)s.") % {"count": expected}
    if kind == "maxItems":
        return _("Give at most %(count)s.") % {"count": expected}
    if kind == "minimum":
        return _("Must be at least %(limit)s.") % {"limit": expected}
    if kind == "maximum":
        return _("Must be at most %(limit)s.") % {"limit": expected}
    if kind == "maxLength":
        return _("Too long (at most %(limit)s characters).") % {"limit": expected}
    if kind == "pattern":
        return _("Not a field path: use name, relation.name or custom.key.")
    return _("Invalid value.")
