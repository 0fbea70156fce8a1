"""Running a view: its records through the one scope filter (`visible_to`) and the one filter
compiler, ordered by its sort with `id` last, a page at a time (keyset), only its columns.

Custom fields sort by the filter compiler's typed expression, so a sortable custom field's index
serves the ORDER BY. Fields the viewer may not read are left out of the columns and the sort; a
filter naming one is refused, since matching on it would reveal its values.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext as _

from crm_platform.errors import NotFound
from metadata.filters import FilterContext, compile_filter
from metadata.filters.dates import midnight
from metadata.filters.fields import DATE, DATETIME, FieldInfo
from metadata.views import cursor
from metadata.views.fields import ViewFields, expression
from metadata.views.visibility import may_see

MAX_LIMIT = 200
MAX_CALENDAR_ENTRIES = 1000


@dataclass(frozen=True)
class Page:
    rows: list[dict]  # {"id": ..., column path: value, ...}
    next_cursor: str | None  # None on the last page


def records_of(user, view) -> tuple[ViewFields, object]:
    """(the viewer's fields, the queryset of the view's records for `user`): scope and filter."""
    if not may_see(user, view):
        raise NotFound(_("View not found."))
    fields = ViewFields(view.object_key, user)
    queryset = fields.object.queryset().visible_to(user)
    if view.filter:
        context = FilterContext(user=user)
        queryset = queryset.filter(compile_filter(view.filter, fields.model, context, fields.resolver))
    return fields, queryset


@dataclass(frozen=True)
class SortKey:
    alias: str  # the annotation holding the value
    path: str
    direction: str
    info: FieldInfo


def sort_keys(fields: ViewFields, view) -> list[SortKey]:
    """The view's sort as the viewer may use it: hidden or deleted fields dropped."""
    keys = []
    for item in view.sort:
        info = fields.typed(item["field"])
        if info is not None:
            direction = item.get("direction", "asc")
            keys.append(SortKey(f"view_sort_{len(keys)}", item["field"], direction, info))
    return keys


def run_view(user, view, *, after: str | None = None, limit: int = 50) -> Page:
    """One page of the view's records as `user` sees them; `after` is the previous page's cursor."""
    fields, queryset = records_of(user, view)
    limit = max(1, min(int(limit), MAX_LIMIT))
    keys = sort_keys(fields, view)
    signature = [[key.path, key.direction] for key in keys]
    queryset = queryset.annotate(**{key.alias: expression(key.info) for key in keys})
    if after:
        values, last_id = cursor.decode(after, signature, [key.info.type for key in keys])
        queryset = queryset.filter(cursor.rows_after([(k.alias, k.direction) for k in keys], values, last_id))
    ordering = [getattr(F(key.alias), key.direction)(nulls_last=True) for key in keys]
    queryset = queryset.order_by(*ordering, "pk")
    aliases = [key.alias for key in keys]
    rows = selected(fields, view, queryset, extra=aliases)[: limit + 1]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursor.encode(signature, [rows[-1][alias] for alias in aliases], rows[-1]["id"])
    return Page([{k: v for k, v in row.items() if k not in aliases} for row in rows], next_cursor)


def calendar_entries(
    user, view, start: date | datetime, end: date | datetime, *, limit: int = 500
) -> list[dict]:
    """The view's records whose calendar field falls in [start, end), by that date then id; each
    row carries the date under "calendar_date". Dates bound a date-time field at the tenant's
    midnight."""
    fields, queryset = records_of(user, view)
    info = fields.typed(view.calendar_field) if view.calendar_field else None
    if info is None or info.type not in (DATE, DATETIME):
        raise ValidationError({"calendar_field": [_("Choose a date or date-and-time field.")]})
    start, end = (_bound(value, info.type) for value in (start, end))
    when = expression(info)
    queryset = queryset.annotate(calendar_date=when).filter(calendar_date__gte=start, calendar_date__lt=end)
    queryset = queryset.order_by("calendar_date", "pk")
    limit = max(1, min(int(limit), MAX_CALENDAR_ENTRIES))
    return list(selected(fields, view, queryset, extra=["calendar_date"])[:limit])


def selected(fields: ViewFields, view, queryset, *, extra=()):
    """`queryset` as dicts of id, the view's readable columns (custom ones read from `custom`,
    typed as stored), and the `extra` annotations."""
    standard, custom = [], {}
    for path in view.columns:
        field = fields.field(path)
        if field is None:
            continue  # hidden from this viewer, or deleted since the view was saved
        if field.standard:
            if field.name != "id":
                standard.append(field.name)
        else:
            custom[path] = KeyTransform(field.name, "custom")
    aliases = {f"view_col_{i}": value for i, value in enumerate(custom.values())}
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


def _bound(value, kind: str):
    if kind == DATE:
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, datetime):
        return value
    return midnight(value, FilterContext().zone())
