"""The per-tenant OpenAPI 3.0.3 document of the REST API, and its interactive docs.

    static.py       drf-spectacular over the REST views (annotations.py, components.py): the part
                    only the code decides, generated once per process
    objects.py      the generic record paths expanded per object of the tenant, typed from the
                    registry (convert.py: JSON Schema 2020-12 -> OpenAPI 3.0)
    tenant.py       the document of one tenant for one caller, cached by metadata stamp; and the
                    base document of a fresh tenant, committed as base.json
    views.py        GET /api/v1/openapi.json and /api/v1/docs

`python manage.py openapi_base` rewrites base.json; `--check` (run by `python3 dev.py lint`) fails
when the code describes the API differently from the committed file.
"""
