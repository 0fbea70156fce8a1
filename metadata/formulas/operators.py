"""Operators: their type rules (shared by the checker and the evaluator) and their arithmetic.

Blank semantics follow spreadsheets: arithmetic with a blank is blank, a comparison with a blank is
false, ``&`` reads a blank as "", dividing by zero is blank."""

import operator
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from metadata.formulas.errors import FormulaError
from metadata.formulas.functions import expects
from metadata.formulas.functions.dates import shift_days
from metadata.formulas.types import (
    BOOLEAN,
    BOOLEANS,
    DATE,
    DATETIME,
    NULL,
    NUMBER,
    NUMBERS,
    ORDERED,
    SCALARS,
    TEXT,
    Typed,
    label,
)
from metadata.formulas.values import capped

ARITHMETIC = ("+", "-", "*", "/")
COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
_MOMENTS = (DATE, DATETIME)
_OPERATIONS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def unary_type(op: str, operand: Typed) -> str:
    """The type of ``-x`` (a number) or ``NOT x`` (a boolean), or an error at the operand."""
    accepted, result = (NUMBERS, NUMBER) if op == "-" else (BOOLEANS, BOOLEAN)
    if operand.type not in accepted | {NULL}:
        raise expects("NOT" if op == "not" else "-", accepted, operand)
    return result


def binary_type(op: str, left: Typed, right: Typed, position: int) -> str:
    """The type of ``left op right``, or an error naming both types."""
    if op in ("and", "or"):
        for operand in (left, right):
            if operand.type not in (BOOLEAN, NULL):
                raise expects(op.upper(), BOOLEANS, operand)
        return BOOLEAN
    if op == "&":
        for operand in (left, right):
            if operand.type not in (TEXT, NULL):
                message = _("“&” joins text: turn %(type)s into text with TEXT().") % {
                    "type": label(operand.type)
                }
                raise FormulaError(message, operand.position)
        return TEXT
    if op in COMPARISONS:
        return _comparison_type(op, left, right, position)
    return _arithmetic_type(op, left.type, right.type, position)


def _comparison_type(op: str, left: Typed, right: Typed, position: int) -> str:
    allowed = SCALARS if op in ("=", "<>") else ORDERED
    types = {left.type, right.type} - {NULL}
    if len(types) > 1 or not types <= allowed:
        message = _("Cannot compare %(left)s with %(right)s.") % {
            "left": label(left.type),
            "right": label(right.type),
        }
        raise FormulaError(message, position)
    return BOOLEAN


def _arithmetic_type(op: str, left: str, right: str, position: int) -> str:
    pair = (left, right)
    if pair == (NUMBER, NUMBER) or (NULL in pair and set(pair) <= {NUMBER, NULL}):
        return NUMBER
    if op in "+-" and left in _MOMENTS and right in (NUMBER, NULL):
        return left
    if op == "+" and right in _MOMENTS and left in (NUMBER, NULL):
        return right
    if op == "-" and left == right and left in _MOMENTS:
        return NUMBER
    if op == "-" and NULL in pair and set(pair) - {NULL} <= set(_MOMENTS):
        return NULL  # date - blank: a date or a day count, blank either way
    message = _("“%(op)s” does not apply to %(left)s and %(right)s.") % {
        "op": op,
        "left": label(left),
        "right": label(right),
    }
    raise FormulaError(message, position)


def apply_unary(op: str, operand):
    """Evaluate ``-x`` or ``NOT x`` (a blank condition counts as false, so NOT blank is true)."""
    if op == "not":
        return operand is not True
    return None if operand is None else -operand


def apply_binary(op: str, left, right):
    """Evaluate an operator on values whose types binary_type() accepted."""
    if op == "and":
        return left is True and right is True
    if op == "or":
        return left is True or right is True
    if op == "&":
        return capped((left or "") + (right or ""))
    if op in COMPARISONS:
        return _compare(op, left, right)
    if left is None or right is None:
        return None
    return _arithmetic(op, left, right)


def _compare(op: str, left, right) -> bool:
    if left is None or right is None:
        return False
    try:
        return _OPERATIONS[op](left, right)
    except TypeError:  # a date and time with a time zone against one without: not comparable
        return False


def _arithmetic(op: str, left, right):
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        if op == "/" and not right:
            return None
        return _OPERATIONS[op](left, right)
    if isinstance(left, Decimal):  # number + date
        return shift_days(right, left, whole_days=False)
    if isinstance(right, Decimal):
        return shift_days(left, right if op == "+" else -right, whole_days=False)
    return _difference(left, right)


def _difference(left: date, right: date) -> Decimal | None:
    """date - date in days; date and time - date and time in days with a fraction."""
    if not isinstance(left, datetime):
        return Decimal((left - right).days)
    try:
        seconds = left - right
    except TypeError:  # with and without a time zone
        return None
    microseconds = seconds.seconds * 1_000_000 + seconds.microseconds
    return Decimal(seconds.days) + Decimal(microseconds) / 86_400_000_000
