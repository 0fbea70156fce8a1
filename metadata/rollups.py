"""Roll-up fields: count, sum, average, minimum or maximum over a record's children, computed on read.

A roll-up's options name the child object, the child's field pointing at this object (a standard
foreign key such as "account", or a custom lookup), the function, the child field it aggregates
(none for count) and an optional filter on the children in the filter language.

Values are never stored: a stored total would go stale with every child saved elsewhere. They are
read for a whole page at once, one aggregate query per roll-up field grouped by the parent, and
only the children the reader may see count.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Max, Min, Sum
from django.utils.translation import gettext as _

from metadata import registry
from metadata.filters import FilterContext, compile_filter, validate_filter
from metadata.filters.custom import custom_expression
from metadata.filters.fields import DATE, DATETIME, DECIMAL, FieldInfo

FUNCTIONS = {"count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}
NUMBER_TYPES = frozenset({"number", "decimal", "currency", "percent"})
DATE_TYPES = frozenset({"date", "datetime"})
# Custom types as the filter compiler types them when aggregated in SQL.
SQL_TYPES = {**dict.fromkeys(NUMBER_TYPES, DECIMAL), "date": DATE, "datetime": DATETIME}


def definition_errors(options: dict, info: registry.ObjectInfo) -> dict[str, list[str]]:
    """Problems of a roll-up definition on `info`, keyed "options.<name>". The filter is stored
    normalised (values in their canonical form), as every stored filter is."""
    try:
        child = registry.describe(options.get("child") or "", snap=info.snapshot)
    except ValidationError:
        return {"options.child": [_("Name the object whose records are rolled up.")]}
    errors: dict[str, list[str]] = {}
    if _relation(child, options.get("relation"), info) is None:
        errors["options.relation"] = [
            _("Name the field of %(child)s that points to this object.") % {"child": child.label()}
        ]
    function = options.get("function")
    if function not in FUNCTIONS:
        errors["options.function"] = [_("Choose count, sum, avg, min or max.")]
    elif function == "count":
        if options.get("field"):
            errors["options.field"] = [_("A count takes no field.")]
    else:
        field_type = _aggregated_type(child, options.get("field"))
        allowed = NUMBER_TYPES if function in ("sum", "avg") else NUMBER_TYPES | DATE_TYPES
        if field_type not in allowed:
            message = (
                _("Name a number field of the child.")
                if function in ("sum", "avg")
                else _("Name a number or date field of the child.")
            )
            errors["options.field"] = [message]
    if options.get("filter") is not None:
        from metadata.resolver import resolver_for

        try:
            options["filter"] = validate_filter(
                options["filter"], child.model, resolver=resolver_for(child.key), root="options.filter"
            )
        except ValidationError as error:
            errors.update(error.message_dict)
    return errors


def rollup_values(info: registry.ObjectInfo, records, user=None) -> dict:
    """{record pk: {roll-up field name: value}} for a page of `info`'s records: one aggregate
    query per roll-up field. With `user`, only the children that user may see count. Counts are
    integers, sums and averages Decimals (0 and None over no children), min/max of dates dates."""
    pks = [record.pk for record in records if record.pk is not None]
    definitions = [d for d in info.custom_fields if d.type == "rollup"]
    values: dict = {pk: {} for pk in pks}
    if not pks or not definitions:
        return values
    for definition in definitions:
        found = _aggregate(info, definition.options, pks, user)
        empty = 0 if definition.options.get("function") == "count" else None
        if definition.options.get("function") == "sum":
            empty = Decimal(0)
        for pk in pks:
            values[pk][definition.name] = found.get(pk, empty)
    return values


def _aggregate(info: registry.ObjectInfo, options: dict, pks: list, user) -> dict:
    try:
        child = registry.describe(options["child"], snap=info.snapshot)
    except (KeyError, ValidationError):
        return {}  # the child object was deactivated since: nothing to roll up
    parent = _relation(child, options.get("relation"), info)
    if parent is None:
        return {}
    children = child.queryset()
    if user is not None:
        children = children.visible_to(user)
    if options.get("filter"):
        from metadata.resolver import resolver_for

        condition = compile_filter(
            options["filter"], child.model, context=FilterContext(user=user), resolver=resolver_for(child.key)
        )
        children = children.filter(condition)
    function = options["function"]
    measure = "pk" if function == "count" else _measure(child, options["field"])
    rows = (
        children.annotate(_parent=parent)
        .filter(_parent__in=pks)
        .order_by()
        .values("_parent")
        .annotate(_value=FUNCTIONS[function](measure))
        .values_list("_parent", "_value")
    )
    return {int(parent_pk): _result(function, value) for parent_pk, value in rows}


def _result(function: str, value):
    if function == "count" or value is None:
        return value
    if isinstance(value, int | float):  # integer columns sum to int, float columns to float
        return Decimal(str(value))
    return value


def _relation(child: registry.ObjectInfo, name, parent: registry.ObjectInfo):
    """The SQL value of the child's pointer to a `parent` record, or None if `name` is not one."""
    if not isinstance(name, str) or not name:
        return None
    field = child.field(name)
    if field is None or field.type != "lookup":
        return None
    if field.standard:
        if parent.custom or child.model._meta.get_field(name).related_model is not parent.model:
            return None
        return F(f"{name}_id")
    if field.target != parent.key:
        return None
    return custom_expression(FieldInfo(name, DECIMAL, "custom", custom_key=name))


def _aggregated_type(child: registry.ObjectInfo, name) -> str | None:
    """The field's type as a roll-up sees it (a formula counts as its result), None if unknown."""
    field = child.field(name) if isinstance(name, str) and name else None
    if field is None:
        return None
    if field.type == "formula":
        result = field.definition.options.get("result_type")
        return {"number": "decimal"}.get(result, result)
    return field.type


def _measure(child: registry.ObjectInfo, name: str):
    field = child.field(name)
    if field.standard:
        return F(name)
    sql_type = SQL_TYPES[_aggregated_type(child, name)]
    return custom_expression(FieldInfo(name, sql_type, "custom", custom_key=name))
