"""Reading a list request's query string into the one query the records are read with:

    ?filter={"field": "custom.tier", "op": "eq", "value": "gold"}   the filter language, as JSON
    &sort=-custom.score,name                                         "-" for descending
    &fields=name,custom.tier                                         default: every readable field
    &limit=50&after=<cursor>                                         keyset pagination

Every problem is a field error on the parameter it is in; the ranges (limit, the filter's
shape) are checked by api/operations.py, for GraphQL alike.
"""

import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from api.operations import DEFAULT_LIMIT


@dataclass(frozen=True)
class ListParams:
    filter: dict | None
    sort: list[dict]
    fields: list[str] | None
    limit: int
    after: str | None


def list_params(query) -> ListParams:
    errors = {}
    filter = None
    if query.get("filter"):
        try:
            filter = json.loads(query["filter"])
        except ValueError:
            errors["filter"] = [_("Send the filter as JSON in the filter language.")]
    sort = [
        {"field": item.lstrip("-"), "direction": "desc" if item.startswith("-") else "asc"}
        for item in _names(query, "sort")
    ]
    fields = _names(query, "fields") or None
    limit = DEFAULT_LIMIT
    if query.get("limit"):
        try:
            limit = int(query["limit"])
        except ValueError:
            limit = 0  # out of range: api/operations.py answers with the limit's field error
    if errors:
        raise ValidationError(errors)
    return ListParams(filter, sort, fields, limit, query.get("after") or None)


def _names(query, parameter: str) -> list[str]:
    """Comma-separated names, also sent as the parameter repeated (`sort=a&sort=b`, as clients
    generated from the OpenAPI document send lists)."""
    return [name.strip() for text in query.getlist(parameter) for name in text.split(",") if name.strip()]
