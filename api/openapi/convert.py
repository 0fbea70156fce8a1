"""JSON Schema 2020-12 (what metadata/record_schema.py speaks) rewritten as OpenAPI 3.0.3 schema
objects.

Why 3.0.3 and not 3.1 (which takes 2020-12 verbatim): 3.0 is what client generators, Schemathesis
and drf-spectacular itself support best, and the handful of 2020-12 forms the registry produces
translate without loss:

    {"type": ["string", "null"]}                 -> {"type": "string", "nullable": true}
    {"type": ["string", "number"], "pattern": p} -> {"anyOf": [{"type": "string", "pattern": p},
                                                              {"type": "number"}]}
    {"anyOf": [S, {"type": "null"}]}             -> S with "nullable": true
    {"const": c}                                 -> {"enum": [c]}
    {"exclusiveMinimum": 3}                      -> {"minimum": 3, "exclusiveMinimum": true}

A nullable enum keeps `null` among its values, as OpenAPI 3.0.3 asks.
"""

from copy import deepcopy

# Keywords that only constrain one JSON type: a multi-type schema is split by them.
TYPE_KEYWORDS = {
    "string": {"maxLength", "minLength", "pattern", "format"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "format"},
    "array": {"items", "maxItems", "minItems", "uniqueItems"},
    "object": {"properties", "required", "additionalProperties", "maxProperties", "minProperties"},
}
TYPE_KEYWORDS["integer"] = TYPE_KEYWORDS["number"]
# Words that describe the value as a whole: they stay on the outer schema of a split.
ANNOTATIONS = ("title", "description", "readOnly", "writeOnly", "default", "example", "deprecated")
DROPPED = ("$schema", "$id", "$comment")


def to_openapi(schema: dict) -> dict:
    """An OpenAPI 3.0.3 schema object equivalent to the JSON Schema `schema` (not modified)."""
    return _convert(deepcopy(schema))


def _convert(schema: dict) -> dict:
    for word in DROPPED:
        schema.pop(word, None)
    for word in ("properties", "patternProperties"):
        if isinstance(schema.get(word), dict):
            schema[word] = {name: _convert(value) for name, value in schema[word].items()}
    for word in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(word), dict):
            schema[word] = _convert(schema[word])
    for word in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(word), list):
            schema[word] = [_convert(branch) for branch in schema[word]]
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    if "examples" in schema:
        examples = schema.pop("examples")
        if examples:
            schema.setdefault("example", examples[0])
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(exclusive)
        if isinstance(value, int | float) and not isinstance(value, bool):
            schema[bound] = value
            schema[exclusive] = True
    schema = _null_branch(schema)
    schema = _type_list(schema)
    if "enum" in schema and "type" not in schema and "anyOf" not in schema:
        kinds = {_json_type(value) for value in schema["enum"] if value is not None}
        if len(kinds) == 1:
            schema["type"] = kinds.pop()
    return schema


def _null_branch(schema: dict) -> dict:
    """{"anyOf": [S, {"type": "null"}]} -> S, nullable."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list):
        return schema
    rest = [branch for branch in branches if branch != {"type": "null"}]
    if len(rest) == len(branches):
        return schema
    outer = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(rest) == 1:
        merged = {**rest[0], **outer}
        return _nullable(merged)
    return {**outer, "anyOf": [_nullable(branch) for branch in rest]}


def _type_list(schema: dict) -> dict:
    kinds = schema.get("type")
    if not isinstance(kinds, list):
        return schema
    nullable = "null" in kinds
    kinds = [kind for kind in kinds if kind != "null"]
    if len(kinds) <= 1:
        schema = dict(schema)
        if kinds:
            schema["type"] = kinds[0]
        else:
            del schema["type"]
        return _nullable(schema) if nullable else schema
    outer = {key: schema[key] for key in ANNOTATIONS if key in schema}
    branches = []
    for kind in kinds:
        branch = {"type": kind}
        for key in TYPE_KEYWORDS.get(kind, ()):
            if key in schema:
                branch[key] = schema[key]
        if "enum" in schema:
            branch["enum"] = [v for v in schema["enum"] if _json_type(v) in (kind, _widened(kind))]
        branches.append(_nullable(branch) if nullable else branch)
    return {**outer, "anyOf": branches}


def _nullable(schema: dict) -> dict:
    # 3.0.3: `nullable` only means something beside a `type`, so a split schema carries it on
    # each branch; a schema with neither already allows null.
    if "type" in schema:
        schema["nullable"] = True
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
    elif isinstance(schema.get("anyOf"), list):
        schema["anyOf"] = [_nullable(branch) for branch in schema["anyOf"]]
    return schema


def _widened(kind: str) -> str:
    return "integer" if kind == "number" else kind


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"
