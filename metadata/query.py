"""Reading records a page at a time, the one way saved views, the REST API and GraphQL all read
them: the one scope filter (`visible_to`), the one filter compiler, a sort with `id` last,
keyset pagination (no offset, so no ceiling), and only the columns asked for.

Custom fields sort by the filter compiler's typed expression, so a sortable custom field's index
serves the ORDER BY. `strict` callers (the APIs) get a field error for a column or sort naming a
field the user may not read; saved views drop such fields silently, since a view outlives the
fields and permissions it was made with.
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext as _

from metadata.filters import FieldInfo, FilterContext, compile_filter
from metadata.views import cursor
from metadata.views.fields import ViewFields, expression

DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class Page:
    rows: list[dict]  # {"id": ..., column path: value, ...}
    next_cursor: str | None  # None on the last page
    cursors: Sequence[str] = dataclasses.field(default_factory=list)  # each row's own cursor (Relay edges)


@dataclass(frozen=True)
class SortKey:
    alias: str  # the annotation holding the value
    path: str
    direction: str
    info: FieldInfo


def scoped(user, object_key: str, filter: dict | None) -> tuple[ViewFields, object]:
    """(the user's fields of `object_key`, the queryset of its records `user` may see, narrowed
    by `filter` in the filter language)."""
    fields = ViewFields(object_key, user)
    return fields, filtered(fields, filter)


def filtered(fields: ViewFields, filter: dict | None):
    """The records of `fields`' object its user may see, narrowed by `filter`."""
    queryset = fields.object.queryset().visible_to(fields.user)
    if filter:
        context = FilterContext(user=fields.user)
        queryset = queryset.filter(compile_filter(filter, fields.model, context, fields.resolver))
    return queryset


def sort_keys(fields: ViewFields, sort, *, strict: bool = False) -> list[SortKey]:
    """`sort` ([{"field", "direction"}]) as the user may use it. Not strict: hidden, deleted and
    unordered fields are dropped."""
    keys, errors = [], {}
    for n, item in enumerate(sort):
        info = fields.typed(item["field"])
        direction = item.get("direction", "asc")
        if info is None or direction not in DIRECTIONS:
            errors[f"sort[{n}]"] = [_("Sort by a field you can read and that has an order.")]
            continue
        keys.append(SortKey(f"query_sort_{len(keys)}", item["field"], direction, info))
    if strict and errors:
        raise ValidationError(errors)
    return keys


def readable_columns(fields: ViewFields, columns, *, strict: bool = False) -> list:
    """The registry fields of `columns` (paths) the user may read; None: every readable field.
    Strict: a column naming no readable field is a field error."""
    if columns is None:
        return [field for field in fields.object.fields if fields.field(field.path) is not None]
    found, errors = [], {}
    for n, path in enumerate(columns):
        if path == "id":
            continue  # always selected
        field = fields.field(path)
        if field is None:
            errors[f"fields[{n}]"] = [_("Unknown field.")]
        else:
            found.append(field)
    if strict and errors:
        raise ValidationError(errors)
    return found


def page(fields: ViewFields, queryset, keys: list[SortKey], columns: list, *, after, limit: int) -> Page:
    """One page of `queryset` ordered by `keys` then id, starting after the cursor `after`."""
    signature = [[key.path, key.direction] for key in keys]
    queryset = queryset.annotate(**{key.alias: expression(key.info) for key in keys})
    if after:
        values, last_id = cursor.decode(after, signature, [key.info.type for key in keys])
        queryset = queryset.filter(cursor.rows_after([(k.alias, k.direction) for k in keys], values, last_id))
    ordering = [getattr(F(key.alias), key.direction)(nulls_last=True) for key in keys]
    queryset = queryset.order_by(*ordering, "pk")
    aliases = [key.alias for key in keys]
    rows = selected(columns, queryset, extra=aliases)[: limit + 1]
    more = len(rows) > limit
    rows = rows[:limit]

    def cursor_of(row) -> str:
        return cursor.encode(signature, [row[alias] for alias in aliases], row["id"])

    next_cursor = cursor_of(rows[-1]) if more else None
    cursors = _Cursors(lambda: [cursor_of(row) for row in rows])
    return Page([{k: v for k, v in row.items() if k not in aliases} for row in rows], next_cursor, cursors)


class _Cursors(Sequence):
    """Each row's cursor, encoded when first read: only Relay edges that ask for them read them."""

    def __init__(self, encode):
        self._encode, self._items = encode, None

    def _all(self) -> list[str]:
        if self._items is None:
            self._items = self._encode()
        return self._items

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


def selected(columns: list, queryset, *, extra=()):
    """`queryset` as dicts of id, the `columns` (registry fields; custom ones read from `custom`,
    typed as stored) and the `extra` annotations. Computed-on-read fields (roll-ups) are left to
    the caller, which loads them for the whole page."""
    standard, custom = [], {}
    for field in columns:
        if field.standard:
            if field.name != "id":
                standard.append(field.name)
        elif field.definition is None or field.definition.type != "rollup":
            custom[field.path] = KeyTransform(field.name, "custom")
    aliases = {f"query_col_{i}": value for i, value in enumerate(custom.values())}
    names = dict(zip(aliases, custom, strict=True))
    queryset = queryset.annotate(**aliases).values("id", *standard, *aliases, *extra)
    return _Renamed(queryset, names)


class _Renamed:
    """A sliceable wrapper giving custom columns back their paths ("custom.tier")."""

    def __init__(self, queryset, names: dict):
        self.queryset, self.names = queryset, names

    def __getitem__(self, index):
        return [
            {self.names.get(key, key): value for key, value in row.items()} for row in self.queryset[index]
        ]
