"""The GraphQL types of one object, typed from the registry like the REST schema
(metadata/record_schema.py): standard fields at the top, custom fields in a nested `custom`
type, each lookup to another object also as `<name>_record`, and Relay-style connections.

Types are graphql-core types built straight from the tenant's metadata, not graphene classes:
graphene makes a class (a dataclass, with metaclasses) per type and converts each field again
into graphql-core's, which made a tenant with 30 objects x 100 custom fields take over half a
second to build. The names, descriptions and field order are the ones graphene gave, so the
printed schema (base.graphql) is unchanged. Types resolve from the dict rows of
metadata/query.py (see loading.py), so no resolver here touches the database.
"""

from datetime import date, datetime
from inspect import cleandoc

from graphql import (
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from api.graphql.naming import type_name
from api.graphql.payloads import FIELD_ERRORS, PAGE_INFO
from api.graphql.scalars import scalar_of
from metadata import registry
from metadata.writers import writer_for

RELATION_SUFFIX = "_record"
RECORD_ID = GraphQLNonNull(GraphQLInt)


class ObjectTypes:
    """Every type of one object; `all_types` resolves relations to other objects lazily."""

    def __init__(self, info: registry.ObjectInfo, all_types: dict[str, "ObjectTypes"]):
        self.info = info
        self.name = type_name(info)
        self.relations = {
            f.name: f.target
            for f in info.fields
            if f.standard and f.type == "lookup" and f.target in all_types
        }
        custom = [f for f in info.fields if not f.standard]
        self.custom = self._custom_type(custom) if custom else None
        # Custom dates are stored as ISO text, GraphQL's Date and DateTime serialise objects: the
        # loader parses them once per row (loading.py), so every custom field reads as stored.
        self.custom_dates = {f.name: STORED_ISO[f.type] for f in custom if f.type in STORED_ISO}
        # A thunk: the objects this one points to may not be built yet.
        self.output = GraphQLObjectType(
            self.name,
            lambda: self._output_fields(all_types),
            description=cleandoc(info.label_en) if info.label_en else None,  # as graphene reads __doc__
        )
        self.edge = GraphQLObjectType(
            f"{self.name}Edge",
            {
                "cursor": GraphQLField(GraphQLNonNull(GraphQLString)),
                "node": GraphQLField(GraphQLNonNull(self.output)),
            },
        )
        self.connection = GraphQLObjectType(
            f"{self.name}Connection",
            {
                "edges": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(self.edge)))),
                "page_info": GraphQLField(GraphQLNonNull(PAGE_INFO)),
            },
        )
        self.input = self._input_type(custom)
        self.payload = GraphQLObjectType(
            f"{self.name}Payload",
            {
                "record": GraphQLField(self.output),
                "etag": GraphQLField(GraphQLString),
                "errors": GraphQLField(FIELD_ERRORS),
            },
        )

    def _output_fields(self, all_types) -> dict[str, GraphQLField]:
        fields = {"id": GraphQLField(RECORD_ID)}
        for field in self.info.fields:
            if field.standard and field.name != "id":
                fields[field.name] = GraphQLField(scalar_of(field), description=field.label_en)
        for name, target in self.relations.items():
            fields[name + RELATION_SUFFIX] = GraphQLField(all_types[target].output, resolve=_related(name))
        if self.custom is not None:
            fields["custom"] = GraphQLField(self.custom)
        return fields

    def _custom_type(self, fields) -> GraphQLObjectType:
        return GraphQLObjectType(
            f"{self.name}Custom",
            {field.name: GraphQLField(scalar_of(field), description=field.label_en) for field in fields},
        )

    def _input_type(self, custom) -> GraphQLInputObjectType | None:
        takes = writer_for(self.info).fields
        fields = {
            f.name: GraphQLInputField(scalar_of(f), description=f.label_en)
            for f in self.info.fields
            if f.standard and f.name in takes
        }
        writable = [f for f in custom if not f.read_only]
        if writable:
            custom_input = GraphQLInputObjectType(
                f"{self.name}CustomInput",
                {f.name: GraphQLInputField(scalar_of(f), description=f.label_en) for f in writable},
            )
            fields["custom"] = GraphQLInputField(custom_input)
        if not fields:
            return None
        return GraphQLInputObjectType(f"{self.name}Input", fields)


def _related(name: str):
    def resolve(root, info):
        return root.get("_related", {}).get(name)

    return resolve


# How a custom field type's stored ISO text becomes the object its scalar serialises.
STORED_ISO = {"date": date.fromisoformat, "datetime": datetime.fromisoformat}
