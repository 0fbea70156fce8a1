"""The per-tenant part: the generic record paths copied once per object of the tenant, each with
its own typed components, read from the registry as one caller may use it.

    /api/v1/records/{object_key}         ->  /api/v1/records/customers.account, .../custom.project
    Record, RecordInput, RecordPage...   ->  Account, AccountInput, AccountPage, AccountBulk...
    listRecords, createRecord...         ->  listCustomersAccount, createCustomProject...

Field types come from metadata/record_schema.py (the schema the API validates input with), turned
into OpenAPI 3.0 by convert.py. An operation the object's writer does not offer
(metadata/writers.py) or the caller's role does not allow is left out of its paths.
"""

import re
from copy import deepcopy
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst

from access.permissions import can
from api.openapi.components import GENERIC, SCHEMAS, ref
from api.openapi.convert import to_openapi
from metadata import registry, writers
from metadata.fieldtypes import kind_of
from metadata.record_schema import field_schema, input_schema, record_schema
from metadata.views.fields import ViewFields

RECORDS_PREFIX = "/api/v1/records/"
# operationId of a generic operation -> (the verb of each object's copy, what it needs)
GENERIC_OPERATIONS = {
    "listRecords": ("list", None),
    "getRecord": ("get", None),
    "createRecord": ("create", "create"),
    "updateRecord": ("update", "update"),
    "deleteRecord": ("delete", "delete"),
    "bulkRecords": ("bulk", "bulk"),
    "runRecordAction": ("action", "action"),
    "listRecordApprovals": ("listApprovals", None),
}
BULK_MODES = (("create", {"create"}), ("update", {"update"}), ("upsert", {"create", "update"}))


@dataclass(frozen=True)
class ObjectView:
    """One object as one caller may use it through the API."""

    info: registry.ObjectInfo
    readable: tuple[registry.Field, ...]
    sortable: tuple[str, ...]  # paths with an order
    writable: tuple[registry.Field, ...]  # what a create or update body may carry
    operations: frozenset[str]  # of create, update, delete
    actions: tuple  # metadata.actions.Action, if the API has named operations

    @property
    def key(self) -> str:
        return self.info.key

    def signature(self) -> tuple:
        """Everything of this view that differs between callers (labels and types are the
        snapshot's, which the cache key names already)."""
        return (
            self.key,
            tuple(field.path for field in self.readable),
            self.sortable,
            tuple(field.path for field in self.writable),
            tuple(sorted(self.operations)),
            tuple(action.name for action in self.actions),
        )


def object_views(user) -> list[ObjectView]:
    """Every object `user` may read (None: the system, every object and field), as they may use it."""
    views = []
    for info in registry.objects():
        if not can(user, info.key, "read"):
            continue
        fields = ViewFields(info.key, user)
        readable = tuple(field for field in info.fields if fields.field(field.path) is not None)
        writer = writers.writer_for(info)
        operations = frozenset(
            name
            for name in ("create", "update", "delete")
            if getattr(writer, name) and can(user, info.key, name)
        )
        writable = ()
        if operations & {"create", "update"}:
            writable = tuple(
                field
                for field in readable
                if not field.read_only
                and fields.rules.writable(field.path)
                and (not field.standard or field.name in writer.fields)
            )
        views.append(
            ObjectView(
                info=info,
                readable=readable,
                sortable=tuple(field.path for field in readable if fields.typed(field.path) is not None),
                writable=writable,
                operations=operations,
                actions=tuple(_actions_of(info.key)),
            )
        )
    return views


def expand(document: dict, views: list[ObjectView]) -> dict:
    """`document` (the static one, changed in place) with the generic record paths and shapes
    replaced by each object's own."""
    paths = document["paths"]
    generic = {path: paths.pop(path) for path in list(paths) if path.startswith(RECORDS_PREFIX + "{")}
    schemas = document["components"]["schemas"]
    for name in GENERIC:
        del schemas[name]
    tags = []
    used_ids = set()
    for view, name in zip(views, component_names(views, taken=set(schemas)), strict=True):
        schemas.update(object_schemas(view, name))
        tags.append({"name": view.key, "description": capfirst(view.info.label())})
        for path, item in generic.items():
            for method, operation in item.items():
                verb, needs = _generic(operation["operationId"])
                if verb == "action":
                    for action in view.actions:
                        target = path.replace("{object_key}", view.key).replace("{action}", action.name)
                        paths.setdefault(target, {})[method] = _action_operation(
                            operation, view, action, used_ids
                        )
                    continue
                if needs == "bulk" and not view.operations & {"create", "update"}:
                    continue
                if needs not in (None, "bulk") and needs not in view.operations:
                    continue
                target = path.replace("{object_key}", view.key)
                paths.setdefault(target, {})[method] = _object_operation(
                    operation, view, name, verb, used_ids
                )
    static_tags = document.get("tags", [])
    document["tags"] = [*static_tags, *tags]
    return document


def component_names(views: list[ObjectView], *, taken: set[str]) -> list[str]:
    """Each object's component name: the model's ("Account") for a standard object, "Custom" and
    the name for a custom one ("CustomProject"); the key in full where that would clash with
    `taken` (the document's other components) or an earlier object's."""
    taken = set(taken)
    names = []
    for view in views:
        info = view.info
        name = camel(info.key) if info.custom else info.model.__name__
        while any(template.format(name) in taken for template in GENERIC.values()):
            name = camel(info.key) if name != camel(info.key) else name + "Object"
        taken.update(template.format(name) for template in GENERIC.values())
        names.append(name)
    return names


def _generic(operation_id: str) -> tuple[str, str | None]:
    try:
        return GENERIC_OPERATIONS[operation_id]
    except KeyError:
        raise KeyError(
            f"{operation_id}: a record operation api/openapi/objects.py does not know how to copy "
            "per object; add it to GENERIC_OPERATIONS"
        ) from None


def camel(text: str) -> str:
    """ "customers.account" -> "CustomersAccount", "custom.sales_target" -> "CustomSalesTarget"."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[._\-\s]+", text) if part)


def operation_id(verb: str, view: ObjectView, used: set) -> str:
    candidate = verb + camel(view.key)
    while candidate in used:  # an action named like a CRUD verb: "deleteCustomersAccountAction"
        candidate += "Action"
    used.add(candidate)
    return candidate


# --- components -------------------------------------------------------------------------------


def object_schemas(view: ObjectView, name: str) -> dict:
    label = capfirst(view.info.label())
    names = {generic: template.format(name) for generic, template in GENERIC.items()}
    schemas = {names["Record"]: _record(view, label), names["RecordPage"]: _page(name, label)}
    if "create" in view.operations:
        schemas[names["RecordInput"]] = _input(view, label, creating=True)
    if "update" in view.operations:
        schemas[names["PatchedRecordInput"]] = _input(view, label, creating=False)
    if view.operations & {"create", "update"}:
        schemas[names["RecordBulk"]] = _bulk(view, label)
    return schemas


def _record(view: ObjectView, label: str) -> dict:
    info = view.info
    schema = record_schema(info, list(view.readable))
    custom = schema["properties"]["custom"]["properties"]
    for field in view.readable:
        if field.standard:
            schema["properties"][field.name] = _read_standard(info, field, schema["properties"][field.name])
        else:
            # Read, every custom value may be null: a field added (or made required) after a
            # record was saved has no value on it until the record is saved again.
            custom[field.name] = _nullable(_read_schema(info, field))
    schema = to_openapi(schema)
    _annotate(schema, view.readable)
    if not custom:
        schema["properties"].pop("custom")
    else:
        schema["properties"]["custom"]["description"] = "Custom fields, by name."
    # No component carries a title: generators name their models by it (openapi-python-client),
    # and a label is in the caller's language, so a client's class names would follow it.
    return {"description": label, "required": ["id"], **schema}


def _page(name: str, label: str) -> dict:
    return {
        "type": "object",
        "description": f"{label}: a page of records.",
        "required": ["results", "next"],
        "properties": {
            "results": {"type": "array", "items": ref(name)},
            "next": {"type": "string", "nullable": True, "description": "The `after` of the next page."},
        },
    }


def _input(view: ObjectView, label: str, *, creating: bool) -> dict:
    schema = to_openapi(input_schema(view.info, list(view.writable)))
    _annotate(schema, view.writable)
    if creating:
        required = [f.name for f in view.writable if f.standard and f.required]
        custom = [f.name for f in view.writable if not f.standard and _required_on_create(f)]
        if custom:
            schema["properties"]["custom"]["required"] = custom
            required.append("custom")
        if required:
            schema["required"] = required
    what = "a new record" if creating else "the fields to change"
    return {"description": f"{label}: {what}.", **schema}


def _bulk(view: ObjectView, label: str) -> dict:
    record = to_openapi(input_schema(view.info, list(view.writable)))
    _annotate(record, view.writable)
    # The id an update or upsert matches on (with `key` "id"); ignored when creating.
    record["properties"] = {"id": {"type": "integer", "minimum": 1}, **record["properties"]}
    modes = [mode for mode, needs in BULK_MODES if needs <= view.operations]
    keys = ["id"] + [f.path for f in view.readable if not f.standard and f.unique]
    bulk = deepcopy(SCHEMAS["RecordBulk"])
    bulk.pop("title", None)
    bulk.setdefault("description", f"{label}: records to write in bulk.")
    bulk["properties"]["mode"] = {"type": "string", "enum": modes, "default": modes[0]}
    bulk["properties"]["key"] = {
        "type": "string",
        "enum": keys,
        "default": "id",
        "description": "What update and upsert match records on: the id or a unique custom field.",
    }
    bulk["properties"]["records"]["items"] = record
    return bulk


def _read_standard(info: registry.ObjectInfo, field: registry.Field, schema: dict) -> dict:
    """A standard value as read: a column that may be blank may hold "", which a choice or an
    e-mail format does not cover (writing "" is still refused, as record_schema says)."""
    try:
        model_field = info.model._meta.get_field(field.name)
    except FieldDoesNotExist:
        return schema
    kinds = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    if not getattr(model_field, "blank", False) or "string" not in kinds:
        return schema
    schema = dict(schema)
    if "enum" in schema and "" not in schema["enum"]:
        schema["enum"] = [*schema["enum"], ""]
    if schema.get("format") == "email":
        del schema["format"]
    return schema


def _read_schema(info: registry.ObjectInfo, field: registry.Field) -> dict:
    """The value's schema as read, sharper than the input schema for computed fields, whose
    value is whatever they compute (metadata/computed.py, metadata/rollups.py)."""
    definition = field.definition
    if definition.type == "formula":
        return FORMULA_RESULTS.get(definition.options.get("result_type"), {})
    if definition.type == "rollup":
        if definition.options.get("function") == "count":
            return {"type": "integer", "minimum": 0}
        # Sums and averages are decimals, sent as strings; min and max may also be dates.
        return {"type": ["string", "number"]}
    if definition.type == "auto_number":
        return {"type": "string"}
    return field_schema(info, field)


FORMULA_RESULTS = {
    "number": {"type": "number"},
    "text": {"type": "string"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "list": {"type": "array", "items": {}},
}


def _nullable(schema: dict) -> dict:
    kind = schema.get("type")
    if kind is None:
        return schema if not schema else {"anyOf": [schema, {"type": "null"}]}
    kinds = kind if isinstance(kind, list) else [kind]
    if "null" in kinds:
        return schema
    nullable = {**schema, "type": [*kinds, "null"]}
    if "enum" in schema and None not in schema["enum"]:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def _required_on_create(field: registry.Field) -> bool:
    definition = field.definition
    return definition.required and definition.default is None and not kind_of(definition.type).computed


def _annotate(schema: dict, fields) -> None:
    """Labels, help and lookup targets on the properties of `schema` (a record or input)."""
    by_name = {(field.standard, field.name): field for field in fields}
    for standard, properties in (
        (True, schema.get("properties", {})),
        (False, schema.get("properties", {}).get("custom", {}).get("properties", {})),
    ):
        for name, prop in properties.items():
            field = by_name.get((standard, name))
            if field is None:
                continue
            prop["title"] = capfirst(field.label())
            notes = []
            if field.definition is not None:
                help_text = field.definition.help_zh if _chinese() else field.definition.help_en
                if help_text or field.definition.help_en:
                    notes.append(help_text or field.definition.help_en)
            if field.target:
                notes.append(f"The id of a record of {field.target}.")
            elif field.type == "user":
                notes.append("The id of a user.")
            if notes:
                prop["description"] = " ".join(notes)


def _chinese() -> bool:
    from django.utils import translation

    return translation.get_language() == "zh-hans"


# --- operations -------------------------------------------------------------------------------


def _object_operation(generic: dict, view: ObjectView, name: str, verb: str, used: set) -> dict:
    operation = deepcopy(generic)
    operation["operationId"] = operation_id(verb, view, used)
    operation["tags"] = [view.key]
    operation["summary"] = f"{operation.get('summary', verb)} ({view.info.label()})"
    operation["parameters"] = [
        _object_parameter(parameter, view)
        for parameter in operation.get("parameters", [])
        if parameter.get("name") != "object_key"
    ]
    if not operation["parameters"]:
        del operation["parameters"]
    prefix = "#/components/schemas/"
    refs = {prefix + generic: prefix + template.format(name) for generic, template in GENERIC.items()}
    return _renamed(operation, refs)


def _object_parameter(parameter: dict, view: ObjectView) -> dict:
    if parameter.get("in") != "query" or parameter["name"] not in ("fields", "sort"):
        return parameter
    parameter = deepcopy(parameter)
    if parameter["name"] == "fields":
        values = [field.path for field in view.readable]
    else:
        values = [prefix + path for path in view.sortable for prefix in ("", "-")]
    parameter["schema"]["items"]["enum"] = values
    return parameter


def _action_operation(generic: dict, view: ObjectView, action, used: set) -> dict:
    operation = deepcopy(generic)
    operation["operationId"] = operation_id(
        camel(action.name)[:1].lower() + camel(action.name)[1:], view, used
    )
    operation["tags"] = [view.key]
    operation["summary"] = action.summary
    operation["parameters"] = [
        parameter
        for parameter in operation.get("parameters", [])
        if parameter.get("name") not in ("object_key", "action")
    ]
    body = to_openapi(action.schema())
    if not body.get("required"):
        body.pop("required", None)
    operation["requestBody"] = {
        "required": bool(action.required),
        "content": {"application/json": {"schema": body}},
    }
    return operation


def _actions_of(key: str) -> list:
    """The named operations of an object (metadata/actions.py), where the API has them."""
    try:
        from metadata.actions import actions_of
    except ImportError:
        return []
    return list(actions_of(key).values())


def _renamed(node, refs: dict):
    if isinstance(node, dict):
        return {k: refs.get(v, v) if k == "$ref" else _renamed(v, refs) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(item, refs) for item in node]
    return node
