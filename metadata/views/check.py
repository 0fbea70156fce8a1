"""The registry checks of a view definition that passed its schema: every field known and
readable by the author and fit for its use, the filter valid. All problems at once, per field."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from metadata.filters import validate_filter
from metadata.filters.fields import BOOLEAN, CHOICE, DATE, DATETIME, DECIMAL, INTEGER, REFERENCE, TEXT
from metadata.views.fields import ViewFields
from metadata.views.models import ViewKind

SORTABLE = (TEXT, CHOICE, REFERENCE, BOOLEAN, INTEGER, DECIMAL, DATE, DATETIME)
GROUPABLE = (TEXT, CHOICE, REFERENCE, BOOLEAN, INTEGER, DECIMAL, DATE)
NUMERIC = (INTEGER, DECIMAL)


def check_definition(view, fields: ViewFields) -> None:
    """Raise one ValidationError naming every registry problem of `view`; normalises its filter."""
    errors: dict[str, list[str]] = {}

    def fail(where: str, message: str) -> None:
        errors.setdefault(where, []).append(message)

    for i, path in enumerate(view.columns):
        if fields.field(path) is None:
            fail(f"columns[{i}]", _("Unknown field."))
    for i, item in enumerate(view.sort):
        _typed(fields, item["field"], SORTABLE, f"sort[{i}].field", _("This field cannot be sorted."), fail)
    if view.group_by:
        _typed(fields, view.group_by, GROUPABLE, "group_by", _("This field cannot be grouped by."), fail)
    _check_kanban(view, fields, fail)
    _check_calendar(view, fields, fail)
    for i, aggregate in enumerate(view.aggregates):
        where = f"aggregates[{i}].field"
        if aggregate["function"] == "count":
            if "field" in aggregate:
                fail(where, _("A count takes no field."))
        elif "field" not in aggregate:
            fail(where, _("This is required."))
        else:
            _typed(fields, aggregate["field"], NUMERIC, where, _("Choose a number field."), fail)
    if view.filter is not None:
        try:
            view.filter = validate_filter(view.filter, fields.model, resolver=fields.resolver, root="filter")
        except ValidationError as error:
            for where, messages in error.message_dict.items():
                errors.setdefault(where, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _typed(fields: ViewFields, path: str, types, where: str, unfit: str, fail):
    if fields.field(path) is None:
        fail(where, _("Unknown field."))
        return None
    info = fields.typed(path)
    if info is None or info.type not in types:
        fail(where, unfit)
        return None
    return info


def _check_kanban(view, fields: ViewFields, fail) -> None:
    if view.kind != ViewKind.KANBAN:
        if view.kanban_field:
            fail("kanban_field", _("Only a kanban view uses this."))
        return
    if not view.kanban_field:
        fail("kanban_field", _("This is required."))
        return
    info = _typed(
        fields, view.kanban_field, (CHOICE,), "kanban_field", _("Choose a single-select field."), fail
    )
    if info is not None and not info.choices:
        fail("kanban_field", _("Choose a single-select field."))


def _check_calendar(view, fields: ViewFields, fail) -> None:
    if view.kind != ViewKind.CALENDAR:
        if view.calendar_field:
            fail("calendar_field", _("Only a calendar view uses this."))
        return
    if not view.calendar_field:
        fail("calendar_field", _("This is required."))
        return
    unfit = _("Choose a date or date-and-time field.")
    _typed(fields, view.calendar_field, (DATE, DATETIME), "calendar_field", unfit, fail)
