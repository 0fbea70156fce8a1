"""Approvals (workflows/) as both APIs offer them, written once: operations.py checks the input
and calls the engine and services, shapes.py turns rows into the JSON REST answers and GraphQL
resolves from, a whole page at a time. The REST views (api/rest/approvals.py) and the GraphQL
fields (api/graphql/approvals.py) only translate their protocol into these calls."""
