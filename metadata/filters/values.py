"""Values checked and converted to a field's type, variables, and their JSON form for storage."""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from metadata.filters.fields import (
    BOOLEAN,
    CHOICE,
    DATE,
    DATETIME,
    DECIMAL,
    INTEGER,
    MULTI,
    REFERENCE,
    TEXT,
    FieldInfo,
    is_user_model,
)
from metadata.filters.principals import SET_VARIABLES, fits_set


class BadValue(Exception):
    """A value that does not fit the field; the message is translated."""


@dataclass(frozen=True)
class Var:
    """A variable such as {"var": "me"}, resolved from the context when the filter is compiled."""

    name: str


def fits(variable: str, info: FieldInfo) -> bool:
    """Whether a variable's value has the field's type."""
    if variable == "me":
        return info.type == REFERENCE and is_user_model(info.target)
    if variable == "my_org_unit":
        return (
            info.type == REFERENCE
            and info.target is not None
            and info.target._meta.label == "accounts.OrgUnit"
        )
    if variable in SET_VARIABLES:
        return info.type == REFERENCE and fits_set(info.target)
    if variable == "today":
        return info.type in (DATE, DATETIME)
    return info.type == DATETIME  # now


def coerce(info: FieldInfo, value, tz):
    """The Python value of `value` for the field, a `Var`, or BadValue."""
    if isinstance(value, dict):
        if not fits(value["var"], info):
            raise BadValue(_("This variable does not fit this field."))
        return Var(value["var"])
    if value is None:
        raise BadValue(_("Give a value; to find empty fields use is_null."))
    return COERCERS[info.type](info, value, tz)


def _text(info, value, tz):
    if not isinstance(value, str):
        raise BadValue(_("Expected text."))
    return value


def _choice(info, value, tz):
    if info.choices is not None and value not in info.choices:
        raise BadValue(_("Not one of this field's choices."))
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadValue(_("Expected text."))
    return value


def _integer(info, value, tz):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadValue(_("Expected a whole number."))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadValue(_("Expected a whole number.")) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise BadValue(_("Expected a whole number."))
    return int(number)


def _decimal(info, value, tz):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadValue(_("Expected a number."))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadValue(_("Expected a number.")) from None
    if not number.is_finite():
        raise BadValue(_("Expected a number."))
    return number


def _date(info, value, tz):
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadValue(_("Expected a date such as 2026-03-31."))
    return parsed


def _datetime(info, value, tz):
    """ISO date-time; without an offset it is the tenant's local time, a bare date its midnight."""
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
            if parsed is None and (day := parse_date(value)) is not None:
                parsed = datetime.combine(day, time.min)
        except ValueError:
            parsed = None
    if parsed is None:
        raise BadValue(_("Expected a date and time such as 2026-03-31T09:30:00+08:00."))
    return timezone.make_aware(parsed, tz) if timezone.is_naive(parsed) else parsed


def _boolean(info, value, tz):
    if not isinstance(value, bool):
        raise BadValue(_("Expected true or false."))
    return value


def _reference(info, value, tz):
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadValue(_("Expected the id of a record."))
    try:
        return info.target._meta.pk.to_python(value)
    except DjangoValidationError:
        raise BadValue(_("Expected the id of a record.")) from None


COERCERS = {
    TEXT: _text,
    CHOICE: _choice,
    MULTI: _choice,
    INTEGER: _integer,
    DECIMAL: _decimal,
    DATE: _date,
    DATETIME: _datetime,
    BOOLEAN: _boolean,
    REFERENCE: _reference,
}


def to_json(value):
    """The stored form of a coerced value: what validate_filter returns."""
    if isinstance(value, Var):
        return {"var": value.name}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # A JSON number when it round-trips exactly, else the decimal's text.
        if value == value.to_integral_value():
            return int(value)
        return float(value) if Decimal(repr(float(value))) == value else str(value)
    return value
