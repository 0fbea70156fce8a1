"""The filter language: one JSON form of criteria, one compiler to a Django Q.

Saved views, API filters, approval entry criteria, sharing and pool rules, exports and reports all
store and send filters in this form and compile them here.

A filter is a condition or a group::

    {"field": "value_class", "op": "in", "value": ["A", "B"]}
    {"and": [cond, ...]}   {"or": [cond, ...]}   {"not": cond}

Groups nest at most ``MAX_DEPTH`` (8) levels, with at most ``MAX_CONDITIONS`` (100) conditions.

Fields: a concrete field of the object by name (a relation compares by id: ``"owner"``), through
one or two relations (``"account.value_class"``), or a custom field (``"custom.tier"``,
``"account.custom.tier"``). The resolver decides which fields exist and may be read; hidden ones
read as unknown.

Operators, by field type:

- text: eq, ne, in, not_in, contains, icontains, starts_with, is_null
- choice, reference (an id): eq, ne, in, not_in, is_null
- boolean: eq, ne, is_null
- integer, decimal: eq, ne, in, not_in, lt, lte, gt, gte, between ``[low, high]`` (inclusive), is_null
- date, datetime: as numbers, plus ``in_last_days`` / ``in_next_days`` (value: a day count; whole
  days, today included) and the periods today, yesterday, this_week, last_week, this_month,
  last_month, this_quarter, this_year, last_year (no value), in the tenant's time zone
- multi (multi-choice custom field): contains (one option), in (any of), not_in (none of), is_null

``is_null`` takes true or false; for text, "" counts as empty. ``ne`` and ``not_in`` include
empty fields. Dates are ``"2026-03-31"``, date-times ISO 8601 (without an offset: tenant time).

Variables stand for a value: ``{"var": "me"}`` (the acting user, on user references),
``{"var": "my_org_unit"}`` (their unit), ``{"var": "today"}``, ``{"var": "now"}``. The principals
``{"var": "my_team"}`` and ``{"var": "my_subtree"}`` stand for a set (metadata/filters/principals.py):
on a user reference, the users of the acting user's unit (a dealer's: their node), or of it and
everything below; on a unit or node reference, the unit or node, or it and everything below. A
variable the context cannot answer (no acting user) makes its condition match nothing.

Errors: ``ValidationError`` whose ``message_dict`` maps locations such as
``"filter.and[1].field"`` to translated messages, all problems at once.

    from metadata.filters import FilterContext, compile_filter, validate_filter
    stored = validate_filter(spec, Account)  # normalised, to store
    Account.objects.filter(compile_filter(stored, Account, context=FilterContext(user=user)))

The JSON Schema of the shape is ``FILTER_SCHEMA``.
"""

from metadata.filters.compiler import compile_filter, validate_filter
from metadata.filters.context import FilterContext
from metadata.filters.fields import FieldError, FieldInfo, FieldResolver, ModelFieldResolver
from metadata.filters.schema import FILTER_SCHEMA, MAX_CONDITIONS, MAX_DEPTH, OPS

__all__ = [
    "FILTER_SCHEMA",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "OPS",
    "FieldError",
    "FieldInfo",
    "FieldResolver",
    "FilterContext",
    "ModelFieldResolver",
    "compile_filter",
    "validate_filter",
]
