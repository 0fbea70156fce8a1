"""Numbers: exact decimals, rounded half away from zero like a spreadsheet."""

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from metadata.formulas.functions.registry import common_type, function
from metadata.formulas.types import MEASURES, NUMBER, NUMBERS


@function("ROUND", NUMBERS, NUMBERS, returns=NUMBER)
def round_(number: Decimal, places: Decimal) -> Decimal:
    # Beyond ±100 places the answer is the number itself or zero; the clamp keeps quantize small.
    digits = int(max(min(places, Decimal(100)), Decimal(-100)).to_integral_value(rounding=ROUND_DOWN))
    try:
        rounded = number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        return rounded.quantize(Decimal(1)) if digits < 0 else rounded
    except InvalidOperation:  # more digits than 28 significant ones: already as exact as it gets
        return number if digits >= 0 else Decimal(0)


@function("FLOOR", NUMBERS, returns=NUMBER)
def floor(number: Decimal) -> Decimal:
    return number.to_integral_value(rounding=ROUND_FLOOR)


@function("CEILING", NUMBERS, returns=NUMBER)
def ceiling(number: Decimal) -> Decimal:
    return number.to_integral_value(rounding=ROUND_CEILING)


@function("ABS", NUMBERS, returns=NUMBER)
def abs_(number: Decimal) -> Decimal:
    return abs(number)


@function("MOD", NUMBERS, NUMBERS, returns=NUMBER)
def mod(dividend: Decimal, divisor: Decimal) -> Decimal | None:
    """The remainder with the divisor's sign, like a spreadsheet's MOD; null when dividing by zero."""
    if not divisor:
        return None
    try:
        remainder = dividend % divisor
    except InvalidOperation:  # the quotient has more than 28 digits
        return None
    if remainder and (remainder < 0) != (divisor < 0):
        remainder += divisor
    return remainder


@function("MIN", MEASURES, returns=common_type, variadic=True, blanks=True)
def min_(*values):
    """The least of the values, skipping blanks like a spreadsheet; null when all are blank."""
    present = [value for value in values if value is not None]
    return min(present) if present else None


@function("MAX", MEASURES, returns=common_type, variadic=True, blanks=True)
def max_(*values):
    """The greatest of the values, skipping blanks; null when all are blank."""
    present = [value for value in values if value is not None]
    return max(present) if present else None
