"""The types every object's mutations share: field errors and the delete, bulk and action
payloads. Built once per process (graphql-core types are immutable) and shared by every schema."""

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from api.graphql.scalars import GENERIC

FIELD_ERROR = GraphQLObjectType(
    "FieldError",
    {
        "field": GraphQLField(
            GraphQLString, description="Where: 'name', 'custom.tier'; null for the whole request."
        ),
        "code": GraphQLField(GraphQLNonNull(GraphQLString)),
        "message": GraphQLField(GraphQLNonNull(GraphQLString)),
    },
    description="One problem with the input, as in REST's problem documents.",
)
FIELD_ERRORS = GraphQLNonNull(GraphQLList(GraphQLNonNull(FIELD_ERROR)))

PAGE_INFO = GraphQLObjectType(
    "PageInfo",
    {
        "has_next_page": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
        "end_cursor": GraphQLField(GraphQLString),
    },
)

DELETE_PAYLOAD = GraphQLObjectType(
    "DeletePayload", {"id": GraphQLField(GraphQLInt), "errors": GraphQLField(FIELD_ERRORS)}
)

BULK_PAYLOAD = GraphQLObjectType(
    "BulkPayload",
    {
        "results": GraphQLField(
            GENERIC, description='Each record\'s outcome: {"index", "status", "id" | "errors"}.'
        ),
        "errors": GraphQLField(FIELD_ERRORS),
    },
)

ACTION_PAYLOAD = GraphQLObjectType(
    "ActionPayload",
    {
        "object": GraphQLField(GraphQLString, description="The object of the record answered with."),
        "record": GraphQLField(GENERIC, description="That record as REST shows it."),
        "errors": GraphQLField(FIELD_ERRORS),
    },
)
