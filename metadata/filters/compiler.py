"""The one compiler from the filter language to a Django Q: every value a query parameter."""

from functools import reduce
from operator import and_, or_

from django.db.models import JSONField, Q, Value
from django.db.models.fields.json import DataContains
from django.db.models.lookups import (
    Contains,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    StartsWith,
)

from metadata.filters.check import Checker, Condition
from metadata.filters.context import FilterContext
from metadata.filters.custom import JSONLength, JSONType, custom_expression, json_value
from metadata.filters.dates import day_range, midnight
from metadata.filters.fields import CHOICE, DATETIME, MULTI, TEXT, FieldInfo, ModelFieldResolver
from metadata.filters.principals import SET_VARIABLES, members
from metadata.filters.schema import DAY_WINDOWS, PERIODS
from metadata.filters.values import Var

LOOKUPS = {
    "exact": Exact,
    "in": In,
    "lt": LessThan,
    "lte": LessThanOrEqual,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "contains": Contains,
    "icontains": IContains,
    "startswith": StartsWith,
}
PLAIN = {"eq": "exact", "in": "in", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte"}
PLAIN |= {"contains": "contains", "icontains": "icontains", "starts_with": "startswith"}
NOTHING = Q(pk__in=[])


def validate_filter(
    spec, model, *, resolver=None, context: FilterContext | None = None, root: str = "filter"
):
    """Check `spec` against `model`; return it normalised (values in their field's canonical JSON
    form) or raise one ValidationError mapping each problem's location to its messages."""
    context = context or FilterContext()
    return Checker(model, resolver or ModelFieldResolver(), root, context.zone()).run(spec)[1]


def compile_filter(
    spec, model, context: FilterContext | None = None, resolver=None, root: str = "filter"
) -> Q:
    """The Q selecting the rows of `model` that `spec` describes; ValidationError if it is invalid.

    A variable the context cannot answer (no acting user, a user without a unit) makes its
    condition match nothing.
    """
    context = context or FilterContext()
    plan, _normal = Checker(model, resolver or ModelFieldResolver(), root, context.zone()).run(spec)
    return _build(plan, context)


def _build(plan, context: FilterContext) -> Q:
    if isinstance(plan, Condition):
        return _condition(plan, context)
    kind, inner = plan
    if kind == "not":
        return ~_build(inner, context)
    return reduce(and_ if kind == "and" else or_, (_build(child, context) for child in inner))


def _condition(condition: Condition, context: FilterContext) -> Q:
    compiled = _compiled(condition, context)
    within = condition.info.within
    # Through a relation, a condition holds only where the reader may see the related record: on
    # one they may not, it is false whatever that record holds, so no filter can read its fields.
    return compiled if within is None else compiled & within


def _compiled(condition: Condition, context: FilterContext) -> Q:
    info, op, value = condition.info, condition.op, condition.value
    if op in DAY_WINDOWS or op in PERIODS:
        start, end = day_range(op, context.today(), value)
        if info.type == DATETIME:
            start, end = midnight(start, context.zone()), midnight(end, context.zone())
        return _compare(info, "gte", start) & _compare(info, "lt", end)
    if op == "is_null":
        return _empty(info) if value else ~_empty(info)
    if _names_a_set(value):
        return _in_sets(info, op, value, context)
    value = _resolved(info, value, context)
    if value is None or (isinstance(value, list) and None in value):
        return NOTHING
    if info.type == MULTI:
        return _multi(info, op, value)
    if op == "ne":
        return ~_compare(info, "exact", value)
    if op == "not_in":
        return ~_compare(info, "in", value)
    if op == "between":
        return _compare(info, "gte", value[0]) & _compare(info, "lte", value[1])
    return _compare(info, PLAIN[op], value)


def _names_a_set(value) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(item, Var) and item.name in SET_VARIABLES for item in values)


def _in_sets(info: FieldInfo, op: str, value, context: FilterContext) -> Q:
    """eq/in with "my_team" or "my_subtree": the reference is one of the set's ids (ne/not_in: none).
    A set the context cannot answer contributes nothing."""
    parts = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, Var) and item.name in SET_VARIABLES:
            ids = members(item.name, context.user, info.target)
        else:
            ids = _resolved(info, item, context)
            ids = None if ids is None else [ids]
        if ids is not None:
            parts.append(_compare(info, "in", ids))
    matched = reduce(or_, parts) if parts else NOTHING
    return ~matched if op in ("ne", "not_in") else matched


def _resolved(info: FieldInfo, value, context: FilterContext):
    if isinstance(value, list):
        return [_resolved(info, item, context) for item in value]
    if not isinstance(value, Var):
        return value
    resolved = context.variable(value.name)
    if value.name == "today" and info.type == DATETIME:
        return midnight(resolved, context.zone())
    return resolved


def _compare(info: FieldInfo, lookup: str, value) -> Q:
    if info.custom_key is None:
        return Q(**{f"{info.lookup}__{lookup}": value})
    expression = custom_expression(info)
    # A missing key makes the comparison false, not unknown, so `not` and `ne` include it, as they
    # include NULL columns of standard fields.
    return Q(LOOKUPS[lookup](expression, value)) & Q(IsNull(expression, False))


def _empty(info: FieldInfo) -> Q:
    if info.type == MULTI:
        return ~_has_items(info)
    if info.custom_key is None:
        empty = Q(**{f"{info.lookup}__isnull": True})
        if info.type == TEXT or (info.type == CHOICE and all(isinstance(c, str) for c in info.choices or ())):
            empty |= Q(**{info.lookup: ""})
        return empty
    expression = custom_expression(info)
    empty = Q(IsNull(expression, True))
    if info.type in (TEXT, CHOICE):
        empty |= Q(Exact(expression, ""))
    return empty


def _has_items(info: FieldInfo) -> Q:
    if info.custom_key is None:
        return ~Q(**{f"{info.lookup}__isnull": True}) & ~Q(**{info.lookup: []})
    return Q(GreaterThan(JSONLength(json_value(info)), 0)) & Q(IsNull(JSONLength(json_value(info)), False))


def _multi(info: FieldInfo, op: str, value) -> Q:
    """Multi-choice lists: contains one option, `in` any of the options, `not_in` none of them."""
    options = [value] if op == "contains" else value
    if info.custom_key is None:
        has_any = reduce(or_, (Q(**{f"{info.lookup}__contains": [option]}) for option in options))
    else:
        raw = json_value(info)
        is_list = Q(Exact(JSONType(raw), "array"))
        has_any = reduce(
            or_,
            (Q(DataContains(raw, Value([option], output_field=JSONField()))) & is_list for option in options),
        )
    return ~has_any if op == "not_in" else has_any
