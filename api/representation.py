"""Records as the REST API shows them: standard fields at the top (relations as ids), custom
fields under "custom", roll-ups computed for the whole page in one query per roll-up field.

    {"id": 7, "name": "华辰家电", "owner": 3, "custom": {"tier": "gold", "open_deals": 2}}

A record's ETag is a digest of its full representation as its reader sees it, so any change to a
field they can read makes their copy stale; an update sent with `If-Match` is refused if the
record moved on since.
"""

import hashlib
import json
from types import SimpleNamespace

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from rest_framework.utils.encoders import JSONEncoder

from crm_platform.errors import NotFound
from metadata import query
from metadata.rollups import rollup_values
from metadata.views.fields import ViewFields


def shaped(fields: ViewFields, columns: list, rows: list[dict]) -> list[dict]:
    """Rows of `query.page`/`query.selected` in the API's shape."""
    rollups = [f for f in columns if not f.standard and f.definition.type == "rollup"]
    computed = {}
    if rollups and rows:
        page = [SimpleNamespace(pk=row["id"]) for row in rows]
        computed = rollup_values(fields.object, page, user=fields.user)
    out = []
    for row in rows:
        record = {"id": row["id"]}
        custom = {}
        for field in columns:
            if field.standard:
                record[field.name] = row.get(field.name, row["id"] if field.name == "id" else None)
            elif field in rollups:
                custom[field.name] = computed.get(row["id"], {}).get(field.name)
            else:
                custom[field.name] = row.get(field.path)
        if custom or any(not f.standard for f in columns):
            record["custom"] = custom
        out.append(record)
    return out


def one(fields: ViewFields, queryset, pk) -> dict:
    """The full representation of record `pk` from `queryset` (already scoped); NotFound if absent."""
    columns = query.readable_columns(fields, None)
    rows = query.selected(columns, queryset.filter(pk=pk))[:1] if isinstance(pk, int) else []
    if not rows:
        raise NotFound(_("%(object)s not found.") % {"object": capfirst(fields.object.label())})
    return shaped(fields, columns, rows)[0]


def etag(representation: dict) -> str:
    text = json.dumps(representation, cls=JSONEncoder, sort_keys=True, ensure_ascii=False)
    return '"' + hashlib.blake2b(text.encode(), digest_size=12).hexdigest() + '"'


def jsonable(value):
    """`value` as JSON types: what REST would render (dates ISO, decimals as text)."""
    return json.loads(json.dumps(value, cls=JSONEncoder))
