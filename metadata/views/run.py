"""Running a view: its records through the one scope filter (`visible_to`) and the one filter
compiler, ordered by its sort with `id` last, a page at a time (keyset), only its columns.

Custom fields sort by the filter compiler's typed expression, so a sortable custom field's index
serves the ORDER BY. Fields the viewer may not read are left out of the columns and the sort; a
filter naming one is refused, since matching on it would reveal its values.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_platform.errors import NotFound
from metadata import query
from metadata.filters import FilterContext
from metadata.filters.dates import midnight
from metadata.filters.fields import DATE, DATETIME
from metadata.query import Page
from metadata.views.fields import ViewFields, expression
from metadata.views.visibility import may_see

MAX_LIMIT = 200
MAX_CALENDAR_ENTRIES = 1000


def records_of(user, view) -> tuple[ViewFields, object]:
    """(the viewer's fields, the queryset of the view's records for `user`): scope and filter."""
    if not may_see(user, view):
        raise NotFound(_("View not found."))
    return query.scoped(user, view.object_key, view.filter)


def sort_keys(fields: ViewFields, view) -> list[query.SortKey]:
    """The view's sort as the viewer may use it: hidden or deleted fields dropped."""
    return query.sort_keys(fields, view.sort)


def run_view(user, view, *, after: str | None = None, limit: int = 50) -> Page:
    """One page of the view's records as `user` sees them; `after` is the previous page's cursor."""
    fields, queryset = records_of(user, view)
    limit = max(1, min(int(limit), MAX_LIMIT))
    return query.page(
        fields, queryset, sort_keys(fields, view), columns_of(fields, view), after=after, limit=limit
    )


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


def columns_of(fields: ViewFields, view) -> list:
    """The view's columns the viewer may read (hidden or deleted ones dropped)."""
    return query.readable_columns(fields, view.columns)


def selected(fields: ViewFields, view, queryset, *, extra=()):
    return query.selected(columns_of(fields, view), queryset, extra=extra)


def _bound(value, kind: str):
    if kind == DATE:
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, datetime):
        return value
    return midnight(value, FilterContext().zone())
