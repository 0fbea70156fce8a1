"""A tenant's GraphQL schema, built from its metadata: for every object it may use, a query for
one record (`account(id:)`) and a Relay-style connection (`account_list(filter:, sort:, first:,
after:)`, the filter in the filter language), and mutations for the operations REST offers:
`create_account`, `update_account` (with `if_match`, and `override_lock` for an administrator
changing a record that waits for approval), `delete_account`, and each action (`claim_account`,
`confirm_order`...). The approval fields (approvals.py) are the same in every tenant's schema.

The schema is a graphql-core `GraphQLSchema` built directly (why not graphene: types.py).
Schemas are kept in a bounded LRU keyed by (tenant schema, metadata stamp): a definition change
draws a new stamp, so the next request builds the new schema, and memory stays bounded however
many tenants a process serves.
"""

from collections import OrderedDict
from pathlib import Path
from threading import Lock

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils.text import capfirst
from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    print_schema,
)
from rest_framework.exceptions import APIException

from api import operations, representation
from api.bulk import bulk_write
from api.graphql import approvals, loading
from api.graphql.naming import field_name
from api.graphql.payloads import ACTION_PAYLOAD, BULK_PAYLOAD, DELETE_PAYLOAD
from api.graphql.scalars import GENERIC
from api.graphql.types import RECORD_ID, ObjectTypes
from api.problems import problem_errors
from crm_platform.errors import ServiceError
from metadata import actions, registry
from metadata.writers import writer_for

CACHED_SCHEMAS = 32
CLIENT_ERRORS = (ValidationError, ServiceError, APIException, IntegrityError)

_cache: OrderedDict[tuple, GraphQLSchema] = OrderedDict()
_lock = Lock()
_building: dict[tuple, Lock] = {}  # one lock per schema being built: threads missing together wait


def tenant_schema() -> GraphQLSchema:
    """The schema of the connection's tenant at its current metadata version."""
    snap = registry.snapshot()
    key = (connection.schema_name, snap.stamp, snap.version)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
        building = _building.setdefault(key, Lock())
    with building:
        with _lock:
            found = _cache.get(key)
        if found is not None:
            return found
        built = build_schema([registry.describe(k, snap=snap) for k in _object_keys(snap)])
        with _lock:
            _cache[key] = built
            _building.pop(key, None)
            while len(_cache) > CACHED_SCHEMAS:
                _cache.popitem(last=False)
    return built


BASE_SCHEMA_FILE = Path(__file__).with_name("base.graphql")


def printed_base_schema() -> str:
    """The base schema in SDL, as committed in base.graphql for client generators and review."""
    return print_schema(base_schema()).rstrip() + "\n"


def base_schema() -> GraphQLSchema:
    """The schema of a tenant with no custom fields or objects (the committed base.graphql)."""
    empty = registry.Snapshot(version=0, objects={}, fields={}, rules={})
    return build_schema([registry.describe(key, snap=empty) for key in sorted(registry.standard_models())])


def build_schema(objects: list[registry.ObjectInfo]) -> GraphQLSchema:
    all_types: dict[str, ObjectTypes] = {}
    for info in objects:
        all_types[info.key] = None  # known first, so relations between objects resolve
    for info in objects:
        all_types[info.key] = ObjectTypes(info, all_types)
    query, mutation = {}, {}
    for types in all_types.values():
        query.update(_queries(types, all_types))
        mutation.update(_mutations(types, all_types))
    query.update(approvals.QUERIES)
    mutation.update(approvals.MUTATIONS)
    # Field names stay as given (no camelCase): the API names REST and the filter language use.
    return GraphQLSchema(
        query=GraphQLObjectType("Query", query), mutation=GraphQLObjectType("Mutation", mutation)
    )


def _object_keys(snap: registry.Snapshot) -> list[str]:
    return sorted(registry.standard_models()) + sorted(k for k, d in snap.objects.items() if d.is_active)


# --- queries ----------------------------------------------------------------------------------


def _queries(types: ObjectTypes, all_types) -> dict:
    name = field_name(types.info)
    return {
        name: GraphQLField(
            types.output,
            args={"id": GraphQLArgument(RECORD_ID)},
            resolve=_one_resolver(types, all_types),
            description=f"One {types.info.label_en} by id (null when you cannot see it).",
        ),
        f"{name}_list": GraphQLField(
            GraphQLNonNull(types.connection),
            args=LIST_ARGUMENTS,
            resolve=_list_resolver(types, all_types),
            description=capfirst(f"{types.info.label_en} records you can see, a page at a time."),
        ),
    }


LIST_ARGUMENTS = {
    "filter": GraphQLArgument(GENERIC, description="A condition in the filter language."),
    "sort": GraphQLArgument(
        GraphQLList(GraphQLNonNull(GraphQLString)), description='Fields; "-" for descending.'
    ),
    "first": GraphQLArgument(GraphQLInt, default_value=operations.DEFAULT_LIMIT),
    "after": GraphQLArgument(GraphQLString),
}


def _list_resolver(types: ObjectTypes, all_types):
    def resolve(root, info, filter=None, sort=None, first=operations.DEFAULT_LIMIT, after=None):
        if first is None:  # `first: null` given: the default page, as the cost limit counts it
            first = operations.DEFAULT_LIMIT
        try:
            fields = operations.fields_for(info.context.user, types.info.key)
            edges_node = loading.selected(info, info.field_nodes).get("edges")
            edge_selection = loading.selected(info, [edges_node]) if edges_node else {}
            node = edge_selection.get("node")
            selection = loading.selected(info, [node]) if node else {}
            listing = loading.page(
                fields,
                types,
                all_types,
                info,
                selection,
                filter=filter,
                sort=_sort(sort),
                after=after,
                limit=first,
            )
        except CLIENT_ERRORS as error:
            raise loading.as_graphql_error(error) from None
        if "cursor" in edge_selection:  # encoded only when asked for
            edges = [{"cursor": c, "node": row} for c, row in zip(listing.cursors, listing.rows, strict=True)]
        else:
            edges = [{"node": row} for row in listing.rows]
        more = listing.next_cursor is not None
        return {"edges": edges, "page_info": {"has_next_page": more, "end_cursor": listing.next_cursor}}

    return resolve


def _one_resolver(types: ObjectTypes, all_types):
    def resolve(root, info, id):
        try:
            fields = operations.fields_for(info.context.user, types.info.key)
            return loading.one(fields, types, all_types, info, loading.selected(info, info.field_nodes), id)
        except CLIENT_ERRORS as error:
            raise loading.as_graphql_error(error) from None

    return resolve


def _sort(items) -> list[dict]:
    return [{"field": i.lstrip("-"), "direction": "desc" if i[:1] == "-" else "asc"} for i in items or ()]


# --- mutations --------------------------------------------------------------------------------


def _mutations(types: ObjectTypes, all_types) -> dict:
    info, name = types.info, field_name(types.info)
    found = {}
    writer = writer_for(info)
    if writer.create is not None and types.input is not None:
        found[f"create_{name}"] = GraphQLField(
            GraphQLNonNull(types.payload),
            args={"input": GraphQLArgument(GraphQLNonNull(types.input))},
            resolve=_create_resolver(types, all_types),
        )
    if writer.update is not None and types.input is not None:
        found[f"update_{name}"] = GraphQLField(
            GraphQLNonNull(types.payload),
            args={
                "id": GraphQLArgument(RECORD_ID),
                "input": GraphQLArgument(GraphQLNonNull(types.input)),
                "if_match": GraphQLArgument(
                    GraphQLString, description="The ETag read; a stale one refuses the change."
                ),
                "override_lock": OVERRIDE_LOCK,
            },
            resolve=_update_resolver(types, all_types),
        )
    if writer.delete is not None:
        found[f"delete_{name}"] = GraphQLField(
            GraphQLNonNull(DELETE_PAYLOAD),
            args={
                "id": GraphQLArgument(RECORD_ID),
                "if_match": GraphQLArgument(GraphQLString),
                "override_lock": OVERRIDE_LOCK,
            },
            resolve=_delete_resolver(types),
        )
    if writer.create is not None or writer.update is not None:
        found[f"bulk_{name}"] = GraphQLField(
            GraphQLNonNull(BULK_PAYLOAD), args=BULK_ARGUMENTS, resolve=_bulk_resolver(types)
        )
    for action in actions.actions_of(info.key).values():
        found[f"{action.name}_{name}"] = GraphQLField(
            GraphQLNonNull(ACTION_PAYLOAD),
            args=ACTION_ARGUMENTS,
            resolve=_action_resolver(types, action.name),
            description=action.summary,
        )
    return found


OVERRIDE_LOCK = GraphQLArgument(
    GraphQLBoolean,
    default_value=False,
    description="Administrators: change it though it waits for an approval that locks it.",
)
BULK_ARGUMENTS = {
    "records": GraphQLArgument(
        GraphQLNonNull(GENERIC), description="Up to 1,000 records, as REST takes them."
    ),
    "mode": GraphQLArgument(GraphQLString, default_value="create", description="create, update or upsert"),
    "key": GraphQLArgument(GraphQLString, default_value="id", description='"id" or a unique custom field'),
    "atomic": GraphQLArgument(GraphQLBoolean, default_value=True, description="all or nothing"),
}
ACTION_ARGUMENTS = {
    "id": GraphQLArgument(RECORD_ID),
    "arguments": GraphQLArgument(GENERIC, description="The action's arguments, as in REST."),
}


def _payload(types, all_types, info, fields, record: dict) -> dict:
    """A mutation's answer: the record with what the payload's `record` selects."""
    selection = loading.selected(info, info.field_nodes)
    record_node = selection.get("record")
    row = record
    if record_node is not None:
        row = loading.one(fields, types, all_types, info, loading.selected(info, [record_node]), record["id"])
    return {"record": row, "etag": representation.etag(record), "errors": []}


def _failed(error) -> dict:
    found = problem_errors(error)
    if found is None:
        raise error
    return {"record": None, "etag": None, "errors": found[1]}


def _create_resolver(types, all_types):
    def resolve(root, info, input):
        try:
            fields = operations.fields_for(info.context.user, types.info.key, "create")
            record = operations.create(fields, _plain(input))
            return _payload(types, all_types, info, fields, record)
        except CLIENT_ERRORS as error:
            return _failed(error)

    return resolve


def _update_resolver(types, all_types):
    def resolve(root, info, id, input, if_match=None, override_lock=False):
        try:
            fields = operations.fields_for(info.context.user, types.info.key)
            record = operations.update(
                fields, id, _plain(input), if_match=if_match, override_lock=bool(override_lock)
            )
            return _payload(types, all_types, info, fields, record)
        except CLIENT_ERRORS as error:
            return _failed(error)

    return resolve


def _delete_resolver(types):
    def resolve(root, info, id, if_match=None, override_lock=False):
        try:
            fields = operations.fields_for(info.context.user, types.info.key)
            operations.delete(fields, id, if_match=if_match, override_lock=bool(override_lock))
            return {"id": id, "errors": []}
        except CLIENT_ERRORS as error:
            return {"id": None, "errors": _failed(error)["errors"]}

    return resolve


def _bulk_resolver(types):
    def resolve(root, info, records, mode="create", key="id", atomic=True):
        try:
            fields = operations.fields_for(info.context.user, types.info.key)
            body = {"mode": mode, "key": key, "atomic": atomic, "records": records}
            return {"results": bulk_write(fields, body), "errors": []}
        except CLIENT_ERRORS as error:
            return {"results": None, "errors": _failed(error)["errors"]}

    return resolve


def _action_resolver(types, action: str):
    def resolve(root, info, id, arguments=None):
        try:
            fields = operations.fields_for(info.context.user, types.info.key)
            key, record = operations.run_action(fields, id, action, arguments)
            return {"object": key, "record": representation.jsonable(record), "errors": []}
        except CLIENT_ERRORS as error:
            return {"object": None, "record": None, "errors": _failed(error)["errors"]}

    return resolve


def _plain(value):
    """GraphQL input as the JSON the writers read (dates ISO, decimals as text)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return representation.jsonable(value)
