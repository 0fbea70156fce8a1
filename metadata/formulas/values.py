"""Runtime values: field values coerced into the language, their types, numbers and text limits."""

from collections.abc import Collection
from datetime import date, datetime
from decimal import ROUND_DOWN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from django.utils.translation import gettext as _

from metadata.formulas.errors import FormulaError
from metadata.formulas.types import BOOLEAN, DATE, DATETIME, LIST, NULL, NUMBER, TEXT

# Every evaluation runs in this context: 28 significant digits, and a bound on exponents so that a
# chain of multiplications fails cleanly instead of growing numbers without limit.
DECIMALS = Context(prec=28, Emax=999_999, Emin=-999_999, traps=[InvalidOperation, DivisionByZero, Overflow])
MAX_TEXT = 10_000


def from_python(value: object, field: str) -> object:
    """A field's Python value as a language value; blank text and empty lists become null."""
    if value is None or isinstance(value, bool | date):  # datetime is a date
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        return number if number.is_finite() else None
    if isinstance(value, str):
        return value or None
    if isinstance(value, Collection) and all(isinstance(item, str) for item in value):
        return list(value) or None
    raise FormulaError(_("The field “%(name)s” holds a value a formula cannot read.") % {"name": field})


def type_of(value: object) -> str:
    """The language type of a runtime value."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, Decimal):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    return LIST


def to_text(value: object) -> str:
    """TEXT(): numbers as written (no exponent for everyday sizes), ISO dates, lists joined by ";"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return format(value, "f") if abs(value.adjusted()) < 60 else str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return capped(";".join(value))
    return value


def capped(text: str) -> str:
    """The text itself, or an error when it is longer than a formula may produce."""
    if len(text) > MAX_TEXT:
        raise too_long()
    return text


def too_long() -> FormulaError:
    return FormulaError(_("A text result is longer than %(limit)s characters.") % {"limit": MAX_TEXT})


def whole(number: Decimal, limit: int) -> int | None:
    """The number truncated toward zero, or None beyond ±limit (so int() never builds a huge integer)."""
    if abs(number) > limit:
        return None
    return int(number.to_integral_value(rounding=ROUND_DOWN))
