"""Relative dates: the [start, end) day range an operator such as this_month means today."""

from datetime import date, datetime, time, timedelta


def day_range(op: str, today: date, days: int | None = None) -> tuple[date, date]:
    """First day included and first day excluded. Windows count whole days with today in them:
    in_last_days 7 is the seven days before today and today; in_next_days 7 today and the seven after."""
    if op == "in_last_days":
        return today - timedelta(days=days), today + timedelta(days=1)
    if op == "in_next_days":
        return today, today + timedelta(days=days + 1)
    if op == "today":
        return today, today + timedelta(days=1)
    if op == "yesterday":
        return today - timedelta(days=1), today
    if op in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        if op == "last_week":
            monday -= timedelta(days=7)
        return monday, monday + timedelta(days=7)
    if op == "this_month":
        return today.replace(day=1), _next_month(today.replace(day=1))
    if op == "last_month":
        first = today.replace(day=1)
        return _previous_month(first), first
    if op == "this_quarter":
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return first, _next_month(_next_month(_next_month(first)))
    if op == "this_year":
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    if op == "last_year":
        return date(today.year - 1, 1, 1), date(today.year, 1, 1)
    raise KeyError(op)


def midnight(day: date, tz) -> datetime:
    """The start of `day` in the tenant's time zone, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=tz)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
