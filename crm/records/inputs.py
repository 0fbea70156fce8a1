"""Small helpers for reading service input: records or keys, numbers that may arrive as text."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _


def pk_of(record_or_pk):
    """Services take a record or its primary key; lookups always go through `get_for`."""
    return getattr(record_or_pk, "pk", record_or_pk)


def decimal_or_error(value, field: str, errors: dict) -> Decimal | None:
    """`value` as a Decimal, or None with "Enter a number." recorded under `field` in `errors`."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite():
        errors[field] = _("Enter a number.")
        return None
    return number
