"""Dates and times. Invalid or out-of-range dates are null, never an error."""

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal

from metadata.formulas.functions.registry import function
from metadata.formulas.types import DATE, DATES, DATETIME, NUMBER, NUMBERS, Typed
from metadata.formulas.values import whole

MAX_DAYS = 4_000_000  # wider than any date's range: larger counts are simply out of range
MAX_MONTHS = 120_000


@function("TODAY", returns=DATE, clock=True)
def today(today: date, now: datetime) -> date:
    return today


@function("NOW", returns=DATETIME, clock=True)
def now(today: date, now: datetime) -> datetime:
    return now


@function("DATE", NUMBERS, NUMBERS, NUMBERS, returns=DATE)
def date_(year: Decimal, month: Decimal, day: Decimal) -> date | None:
    """The date, or null for a day that does not exist (DATE(2023, 2, 29)) or fractional parts."""
    parts = [whole(part, 10_000) for part in (year, month, day)]
    if None in parts or any(part != number for part, number in zip(parts, (year, month, day), strict=True)):
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


@function("YEAR", DATES, returns=NUMBER)
def year(moment: date) -> Decimal:
    return Decimal(moment.year)


@function("MONTH", DATES, returns=NUMBER)
def month(moment: date) -> Decimal:
    return Decimal(moment.month)


@function("DAY", DATES, returns=NUMBER)
def day(moment: date) -> Decimal:
    return Decimal(moment.day)


def _same_as_first(name: str, args: list[Typed]) -> str:
    return args[0].type


@function("ADDDAYS", DATES, NUMBERS, returns=_same_as_first)
def add_days(moment: date, days: Decimal) -> date | None:
    return shift_days(moment, days)


def shift_days(moment: date, days: Decimal, *, whole_days: bool = True) -> date | None:
    """The date (or date and time) moved by a number of days, truncated to whole days unless a
    date and time may take a fraction; null out of range."""
    if abs(days) > MAX_DAYS:
        return None
    if whole_days or not isinstance(moment, datetime):
        delta = timedelta(days=whole(days, MAX_DAYS))
    else:
        delta = timedelta(microseconds=int(days * 86_400_000_000))
    try:
        return moment + delta
    except OverflowError:
        return None


@function("ADDMONTHS", DATES, NUMBERS, returns=_same_as_first)
def add_months(moment: date, months: Decimal) -> date | None:
    """The same day so many months later, clamped to the month's end (Jan 31 + 1 -> Feb 28/29)."""
    count = whole(months, MAX_MONTHS)
    if count is None:
        return None
    year, month = divmod(moment.year * 12 + moment.month - 1 + count, 12)
    if not 1 <= year <= 9999:
        return None
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


@function("DAYS_BETWEEN", DATES, DATES, returns=NUMBER)
def days_between(start: date, end: date) -> Decimal:
    """end - start in whole days; a date and time counts by its date."""
    return Decimal((_day_of(end) - _day_of(start)).days)


def _day_of(moment: date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment
