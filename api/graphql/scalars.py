"""The scalars of a tenant's schema, and which one each registry field type travels as.

String, Int, Float and Boolean are graphql-core's own. Date, DateTime, Decimal and GenericScalar
are graphene's, taken as graphql-core types with their names, descriptions and (de)serialisers,
so the wire format and the printed schema are graphene's while no graphene class is built per
tenant (see types.py).
"""

import graphene
from graphene.types.generic import GenericScalar
from graphql import (
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLString,
)

from metadata import registry


def _graphene_scalar(scalar: type[graphene.Scalar]) -> GraphQLScalarType:
    """`scalar` as graphene's own schema would present it."""
    return GraphQLScalarType(
        scalar._meta.name,
        serialize=scalar.serialize,
        parse_value=scalar.parse_value,
        parse_literal=scalar.parse_literal,
        description=scalar._meta.description,
    )


DATE = _graphene_scalar(graphene.Date)
DATETIME = _graphene_scalar(graphene.DateTime)
DECIMAL = _graphene_scalar(graphene.Decimal)
GENERIC = _graphene_scalar(GenericScalar)

# Custom numbers travel as JSON numbers (Float); standard decimals are exact (Decimal, serialised
# as a string), like REST.
CUSTOM_SCALARS = {
    "number": GraphQLInt,
    "decimal": GraphQLFloat,
    "currency": GraphQLFloat,
    "percent": GraphQLFloat,
    "rollup": GraphQLFloat,
    "boolean": GraphQLBoolean,
    "date": DATE,
    "datetime": DATETIME,
    "lookup": GraphQLInt,
    "user": GraphQLInt,
    "file": GraphQLInt,
    "formula": GENERIC,
    "multi_select": GraphQLList(GraphQLNonNull(GraphQLString)),
}
STANDARD_SCALARS = {
    "number": GraphQLInt,
    "decimal": DECIMAL,
    "boolean": GraphQLBoolean,
    "date": DATE,
    "datetime": DATETIME,
    "lookup": GraphQLInt,
    "user": GraphQLInt,
}


def scalar_of(field: registry.Field):
    """The GraphQL type of `field`'s values."""
    return (STANDARD_SCALARS if field.standard else CUSTOM_SCALARS).get(field.type, GraphQLString)
