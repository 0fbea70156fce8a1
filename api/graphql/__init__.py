"""GraphQL: one endpoint per tenant serving that tenant's schema, generated from its metadata.

- naming.py: type and field names from object keys;
- scalars.py: the scalars (graphene's Date, DateTime, Decimal, GenericScalar) and each field type's;
- payloads.py: the field-error and payload types every schema shares;
- types.py: the output, input and connection types of one object, typed from the registry;
- loading.py: pages and related records, loaded per page (never per row) from the selection;
- schema.py: the query and mutation roots, built per tenant and kept in an LRU by metadata version;
- approvals.py: the approval queries and mutations (static types, shared by every schema);
- limits.py: depth and complexity limits, checked before anything runs;
- view.py: the endpoint (authentication, scopes, errors, GraphiQL).

Schemas are graphql-core types built directly, not graphene classes: graphene's class creation
made a large tenant's schema take over half a second to build (types.py).

Reading goes through metadata/query.py and writing through metadata/writers.py and
metadata/actions.py, exactly as REST does.
"""
