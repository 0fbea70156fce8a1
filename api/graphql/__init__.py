"""GraphQL: one endpoint per tenant serving that tenant's schema, generated from its metadata.

- naming.py: type and field names from object keys;
- types.py: the output, input and connection types of one object, typed from the registry;
- loading.py: pages and related records, loaded per page (never per row) from the selection;
- schema.py: the query and mutation roots, built per tenant and kept in an LRU by metadata version;
- limits.py: depth and complexity limits, checked before anything runs;
- view.py: the endpoint (authentication, scopes, errors, GraphiQL).

Reading goes through metadata/query.py and writing through metadata/writers.py and
metadata/actions.py, exactly as REST does.
"""
