"""The filter language's JSON Schema, published for API docs, and its shape check.

Nesting and size bounds are checked by a bounded walk before jsonschema runs, so a pathological
filter (a thousand levels deep, a million conditions) is refused without recursing into it.
"""

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator

from crm_platform.lru import BoundedCache
from metadata.filters.messages import shape_message

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_LIST = 500
MAX_DAYS = 36500

COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte", "contains", "icontains", "starts_with")
LISTS = ("in", "not_in")
PERIODS = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "this_year",
    "last_year",
)
DAY_WINDOWS = ("in_last_days", "in_next_days")
OPS = (*COMPARISONS, *LISTS, "between", "is_null", *DAY_WINDOWS, *PERIODS)
VARIABLES = ("me", "my_org_unit", "my_team", "my_subtree", "today", "now")
GROUPS = ("and", "or", "not")

_OPERAND = {
    "anyOf": [
        {"type": ["string", "number", "boolean"], "maxLength": 1000},
        {"$ref": "#/$defs/variable"},
    ]
}


def _when(ops, then):
    return {"if": {"properties": {"op": {"enum": list(ops)}}, "required": ["op"]}, "then": then}


FILTER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://crm.example/schemas/filter.json",
    "title": "Filter",
    "description": (
        f"A condition or a group of them. At most {MAX_DEPTH} levels deep and {MAX_CONDITIONS} "
        "conditions in all."
    ),
    "$ref": "#/$defs/node",
    "$defs": {
        "node": {
            "type": "object",
            "if": {"required": ["and"]},
            "then": {"$ref": "#/$defs/and"},
            "else": {
                "if": {"required": ["or"]},
                "then": {"$ref": "#/$defs/or"},
                "else": {
                    "if": {"required": ["not"]},
                    "then": {"$ref": "#/$defs/not"},
                    "else": {"$ref": "#/$defs/condition"},
                },
            },
        },
        "and": {
            "type": "object",
            "properties": {"and": {"$ref": "#/$defs/children"}},
            "required": ["and"],
            "additionalProperties": False,
        },
        "or": {
            "type": "object",
            "properties": {"or": {"$ref": "#/$defs/children"}},
            "required": ["or"],
            "additionalProperties": False,
        },
        "not": {
            "type": "object",
            "properties": {"not": {"$ref": "#/$defs/node"}},
            "required": ["not"],
            "additionalProperties": False,
        },
        "children": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_CONDITIONS,
            "items": {"$ref": "#/$defs/node"},
        },
        "variable": {
            "type": "object",
            "properties": {"var": {"enum": list(VARIABLES)}},
            "required": ["var"],
            "additionalProperties": False,
        },
        "condition": {
            "type": "object",
            "properties": {
                "field": {
                    "type": "string",
                    "maxLength": 200,
                    "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+){0,3}$",
                },
                "op": {"enum": list(OPS)},
                "value": True,
            },
            "required": ["field", "op"],
            "additionalProperties": False,
            "allOf": [
                _when(COMPARISONS, {"properties": {"value": _OPERAND}, "required": ["value"]}),
                _when(
                    LISTS,
                    {
                        "properties": {
                            "value": {"type": "array", "minItems": 1, "maxItems": MAX_LIST, "items": _OPERAND}
                        },
                        "required": ["value"],
                    },
                ),
                _when(
                    ["between"],
                    {
                        "properties": {
                            "value": {"type": "array", "minItems": 2, "maxItems": 2, "items": _OPERAND}
                        },
                        "required": ["value"],
                    },
                ),
                _when(["is_null"], {"properties": {"value": {"type": "boolean"}}, "required": ["value"]}),
                _when(
                    DAY_WINDOWS,
                    {
                        "properties": {"value": {"type": "integer", "minimum": 0, "maximum": MAX_DAYS}},
                        "required": ["value"],
                    },
                ),
                _when(PERIODS, {"not": {"required": ["value"]}}),
            ],
        },
    },
}

_VALIDATOR = Draft202012Validator(FILTER_SCHEMA)


def location(root: str, path) -> str:
    """A readable location: ("and", 1, "field") under "filter" is "filter.and[1].field"."""
    text = root
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def check_shape(spec, root: str = "filter") -> None:
    """Raise one ValidationError naming every shape problem of `spec`, located and translated."""
    errors: dict[str, list[str]] = {}
    for path, message in _bounds(spec):
        errors.setdefault(location(root, path), []).append(message)
    key = None if errors else _valid_key(spec)
    if key is not None and _VALID.get(key):
        return
    if not errors:
        for error in _VALIDATOR.iter_errors(spec):
            for path, message in shape_message(error):
                messages = errors.setdefault(location(root, path), [])
                if message not in messages:
                    messages.append(message)
    if errors:
        raise ValidationError(errors)
    if key is not None:
        _VALID.put(key, True)


# Filters found valid, by repr (which tells 1 from True from "1"): the same few filters come back
# again and again (API clients, saved views, sharing rules) and jsonschema takes a third of a
# millisecond for even one condition. Only successes are kept, so errors are always fresh and
# in the caller's language.
_VALID = BoundedCache(1024)
MAX_KEY = 2000


def _valid_key(spec) -> str | None:
    try:
        key = repr(spec)
    except RecursionError:  # a value nested past the interpreter's limit: just not kept
        return None
    return key if len(key) <= MAX_KEY else None


def _bounds(spec):
    """Depth and size problems, found by an iterative walk that stops at the first excess."""
    from metadata.filters.messages import too_deep, too_many

    stack, count = [(spec, (), 1)], 0
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        if depth > MAX_DEPTH:
            return [(path, too_deep(MAX_DEPTH))]
        for group in ("and", "or"):
            children = node.get(group)
            if isinstance(children, list):
                if len(children) > MAX_CONDITIONS:
                    return [((), too_many(MAX_CONDITIONS))]
                stack.extend((child, (*path, group, i), depth + 1) for i, child in enumerate(children))
        if "not" in node:
            stack.append((node["not"], (*path, "not"), depth + 1))
        if not any(group in node for group in GROUPS):
            count += 1
            if count > MAX_CONDITIONS:
                return [((), too_many(MAX_CONDITIONS))]
    return []
