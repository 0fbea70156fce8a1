"""One CSV cell per field value and back, by the registry's field type, so a custom field travels
like a standard one: select as its value, multi-select joined by ";", dates ISO, references as ids,
booleans "true"/"false" (imports also take 是/否, yes/no, 1/0).

Text that a spreadsheet would run as a formula (=, +, -, @ first) is written with a leading "'",
which imports strip again, so an export re-imports unchanged.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from metadata.fieldtypes import MAX_DIGITS
from metadata.registry import Field

TEXT_TYPES = frozenset({"text", "long_text", "email", "phone", "url", "select", "auto_number", "formula"})
NUMBER_TYPES = frozenset({"decimal", "currency", "percent"})
REFERENCE_TYPES = frozenset({"lookup", "user", "file"})
TRUE = frozenset({"true", "1", "yes", "y", "是"})
FALSE = frozenset({"false", "0", "no", "n", "否"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"


class BadCell(Exception):
    """A cell that does not read as its field's type; the message is translated."""


def render(value) -> str:
    """A stored value (a column's Python value or a custom field's JSON value) as cell text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(render(item) for item in value)
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        # Positional notation: str() would give "1e-08" for a small float.
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def parse(field: Field, text: str):
    """The value to hand the services for `text` in `field`'s column; None for an empty cell.
    Custom values are given in their JSON form, standard ones as the model field expects them."""
    text = text.strip()
    if text == "":
        return None
    kind = field.type
    if kind in TEXT_TYPES:
        return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text
    if kind == "number":
        return _whole(text)
    if kind in NUMBER_TYPES:
        return _decimal(text) if field.standard else _json_number(_decimal(text))
    if kind == "boolean":
        return _boolean(text)
    if kind == "multi_select":
        return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]
    if kind == "date":
        return _date(text).isoformat() if not field.standard else _date(text)
    if kind == "datetime":
        moment = _datetime(text)
        return moment if field.standard else moment.isoformat()
    if kind in REFERENCE_TYPES:
        number = _whole(text)
        if number < 1:
            raise BadCell(_("Expected a record id (a whole number)."))
        return number
    return text


def _decimal(text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise BadCell(_("Expected a number."))
    return number


def _json_number(number: Decimal) -> int | float:
    """A custom value as JSON stores it. Beyond 15 digits a float would round silently: refused."""
    if len(number.normalize().as_tuple().digits) > MAX_DIGITS:
        raise BadCell(_("At most %(digits)s significant digits.") % {"digits": MAX_DIGITS})
    return int(number) if number == number.to_integral_value() else float(number)


def _whole(text: str) -> int:
    try:
        number = _decimal(text)
    except BadCell:
        number = None
    if number is None or number != number.to_integral_value():
        raise BadCell(_("Expected a whole number."))
    return int(number)


def _boolean(text: str) -> bool:
    word = text.lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise BadCell(_("Expected true or false (是 or 否)."))


def _date(text: str) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise BadCell(_("Expected a date such as 2026-03-31."))


def _datetime(text: str) -> datetime:
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise BadCell(_("Expected a date and time such as 2026-03-31T09:30:00+08:00."))
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
