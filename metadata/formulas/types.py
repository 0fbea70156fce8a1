"""The language's types, how the CRM's field types map onto them, and their names in messages.

Types: ``number`` (Decimal), ``text``, ``boolean``, ``date``, ``datetime``, ``list`` (the values of a
multi-select, as text) and ``null`` (the literal NULL; it fits wherever any type does).

CRM field type -> language type:

- text, long_text, email, phone, url, select, auto_number -> text
- number, decimal, currency, percent -> number
- lookup, user, file -> number (the id)
- date -> date; datetime -> datetime; boolean -> boolean; multi_select -> list

The language's own names are accepted as field types too, so a formula field passes its result type.
"""

from typing import NamedTuple

from django.utils.translation import gettext as _

NUMBER, TEXT, BOOLEAN, DATE, DATETIME, LIST = "number", "text", "boolean", "date", "datetime", "list"
NULL = "null"

FIELD_TYPES = {
    **{name: TEXT for name in ("text", "long_text", "email", "phone", "url", "select", "auto_number")},
    **{name: NUMBER for name in ("number", "decimal", "currency", "percent", "lookup", "user", "file")},
    "multi_select": LIST,
    **{name: name for name in (NUMBER, TEXT, BOOLEAN, DATE, DATETIME, LIST)},
}

# Groups of types a parameter or operator accepts (a null argument always fits).
NUMBERS = frozenset({NUMBER})
TEXTS = frozenset({TEXT})
BOOLEANS = frozenset({BOOLEAN})
LISTS = frozenset({LIST})
DATES = frozenset({DATE, DATETIME})
MEASURES = frozenset({NUMBER, DATE, DATETIME})
ORDERED = frozenset({NUMBER, TEXT, DATE, DATETIME})
SCALARS = frozenset({NUMBER, TEXT, BOOLEAN, DATE, DATETIME})
ANY = frozenset({NUMBER, TEXT, BOOLEAN, DATE, DATETIME, LIST})


class Typed(NamedTuple):
    """An operand's type and where it starts in the source, for located messages."""

    type: str
    position: int | None


def label(types: str | frozenset) -> str:
    """A type or group as words for a message: "a number", "a date or a date and time"."""
    labels = {
        NUMBER: lambda: _("a number"),
        TEXT: lambda: _("text"),
        BOOLEAN: lambda: _("true or false"),
        DATE: lambda: _("a date"),
        DATETIME: lambda: _("a date and time"),
        LIST: lambda: _("a list"),
        NULL: lambda: _("blank"),
        DATES: lambda: _("a date or a date and time"),
        MEASURES: lambda: _("a number or a date"),
        ORDERED: lambda: _("a number, text or a date"),
    }
    if isinstance(types, frozenset) and len(types) == 1:
        types = next(iter(types))
    return labels.get(types, lambda: _("a value"))()
