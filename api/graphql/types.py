"""The GraphQL types of one object, typed from the registry like the REST schema
(metadata/record_schema.py): standard fields at the top, custom fields in a nested `custom`
type, each lookup to another object also as `<name>_record`, and Relay-style connections.

Types are built with graphene from the tenant's metadata; they resolve from the dict rows of
metadata/query.py (see loading.py), so no resolver here touches the database.
"""

from datetime import date, datetime

import graphene
from graphene.types.generic import GenericScalar

from api.graphql.naming import type_name
from metadata import registry
from metadata.writers import writer_for

# Registry field types -> GraphQL scalars. Custom numbers travel as JSON numbers (Float); standard
# decimals are exact (Decimal, serialised as a string), like REST.
CUSTOM_SCALARS = {
    "number": graphene.Int,
    "decimal": graphene.Float,
    "currency": graphene.Float,
    "percent": graphene.Float,
    "rollup": graphene.Float,
    "boolean": graphene.Boolean,
    "date": graphene.Date,
    "datetime": graphene.DateTime,
    "lookup": graphene.Int,
    "user": graphene.Int,
    "file": graphene.Int,
    "formula": GenericScalar,
}
STANDARD_SCALARS = {
    "number": graphene.Int,
    "decimal": graphene.Decimal,
    "boolean": graphene.Boolean,
    "date": graphene.Date,
    "datetime": graphene.DateTime,
    "lookup": graphene.Int,
    "user": graphene.Int,
}
RELATION_SUFFIX = "_record"


class FieldError(graphene.ObjectType):
    """One problem with the input, as in REST's problem documents."""

    field = graphene.String(description="Where: 'name', 'custom.tier'; null for the whole request.")
    code = graphene.NonNull(graphene.String)
    message = graphene.NonNull(graphene.String)


class PageInfo(graphene.ObjectType):
    has_next_page = graphene.NonNull(graphene.Boolean)
    end_cursor = graphene.String()


class DeletePayload(graphene.ObjectType):
    id = graphene.Int()
    errors = graphene.NonNull(graphene.List(graphene.NonNull(FieldError)))


class BulkPayload(graphene.ObjectType):
    results = GenericScalar(description='Each record\'s outcome: {"index", "status", "id" | "errors"}.')
    errors = graphene.NonNull(graphene.List(graphene.NonNull(FieldError)))


class ActionPayload(graphene.ObjectType):
    object = graphene.String(description="The object of the record answered with.")
    record = GenericScalar(description="That record as REST shows it.")
    errors = graphene.NonNull(graphene.List(graphene.NonNull(FieldError)))


def scalar_of(field: registry.Field):
    if field.standard:
        return STANDARD_SCALARS.get(field.type, graphene.String)
    if field.type == "multi_select":
        return graphene.List(graphene.NonNull(graphene.String))
    return CUSTOM_SCALARS.get(field.type, graphene.String)


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
        self.output = self._output_type(all_types)
        self.edge = type(
            f"{self.name}Edge",
            (graphene.ObjectType,),
            {
                "cursor": graphene.NonNull(graphene.String),
                "node": graphene.NonNull(self.output),
            },
        )
        self.connection = type(
            f"{self.name}Connection",
            (graphene.ObjectType,),
            {
                "edges": graphene.NonNull(graphene.List(graphene.NonNull(self.edge))),
                "page_info": graphene.NonNull(PageInfo),
            },
        )
        self.input = self._input_type(custom)
        self.payload = type(
            f"{self.name}Payload",
            (graphene.ObjectType,),
            {
                "record": graphene.Field(self.output),
                "etag": graphene.String(),
                "errors": graphene.NonNull(graphene.List(graphene.NonNull(FieldError))),
            },
        )

    def _output_type(self, all_types):
        attrs = {"id": graphene.NonNull(graphene.Int)}
        for field in self.info.fields:
            if field.standard and field.name != "id":
                attrs[field.name] = graphene.Field(scalar_of(field), description=field.label_en)
        for name, target in self.relations.items():
            attrs[name + RELATION_SUFFIX] = graphene.Field(
                lambda target=target: all_types[target].output, resolver=_related(name)
            )
        if self.custom is not None:
            attrs["custom"] = graphene.Field(self.custom)
        return type(self.name, (graphene.ObjectType,), {"__doc__": self.info.label_en, **attrs})

    def _custom_type(self, fields):
        attrs = {
            field.name: graphene.Field(
                scalar_of(field), description=field.label_en, resolver=_custom_value(field.name, field.type)
            )
            for field in fields
        }
        return type(f"{self.name}Custom", (graphene.ObjectType,), attrs)

    def _input_type(self, custom):
        takes = writer_for(self.info).fields
        attrs = {
            f.name: graphene.InputField(scalar_of(f), description=f.label_en)
            for f in self.info.fields
            if f.standard and f.name in takes
        }
        writable = [f for f in custom if not f.read_only]
        if writable:
            custom_input = type(
                f"{self.name}CustomInput",
                (graphene.InputObjectType,),
                {f.name: graphene.InputField(scalar_of(f), description=f.label_en) for f in writable},
            )
            attrs["custom"] = graphene.InputField(custom_input)
        if not attrs:
            return None
        return type(f"{self.name}Input", (graphene.InputObjectType,), attrs)


def _related(name: str):
    def resolve(root, info):
        return root.get("_related", {}).get(name)

    return resolve


def _custom_value(name: str, kind: str):
    """Custom dates are stored as ISO text; GraphQL's Date and DateTime serialise objects."""

    def resolve(root, info):
        value = root.get(name)
        if value is None or not isinstance(value, str):
            return value
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "datetime":
            return datetime.fromisoformat(value)
        return value

    return resolve
