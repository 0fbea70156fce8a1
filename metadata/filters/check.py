"""The semantic check: every field resolved, every operator fitting its field's type, every value
converted. Produces the plan the compiler turns into a Q, and the normalised spec to store."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
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
    FieldError,
    FieldInfo,
)
from metadata.filters.schema import COMPARISONS, DAY_WINDOWS, LISTS, PERIODS, check_shape, location
from metadata.filters.values import BadValue, Var, coerce, to_json

_EQUALITY = ("eq", "ne", "in", "not_in", "is_null")
_ORDERED = (*_EQUALITY, "lt", "lte", "gt", "gte", "between")
OPS_BY_TYPE = {
    TEXT: (*_EQUALITY, "contains", "icontains", "starts_with"),
    CHOICE: _EQUALITY,
    REFERENCE: _EQUALITY,
    BOOLEAN: ("eq", "ne", "is_null"),
    INTEGER: _ORDERED,
    DECIMAL: _ORDERED,
    DATE: (*_ORDERED, *DAY_WINDOWS, *PERIODS),
    DATETIME: (*_ORDERED, *DAY_WINDOWS, *PERIODS),
    MULTI: ("contains", "in", "not_in", "is_null"),
}


@dataclass(frozen=True)
class Condition:
    info: FieldInfo
    op: str
    value: object = None  # coerced: a value, a Var, a list of them, a day count, a flag


class Checker:
    def __init__(self, model, resolver, root: str, tz):
        self.model, self.resolver, self.root, self.tz = model, resolver, root, tz
        self.errors: dict[str, list[str]] = {}

    def run(self, spec):
        """(plan, normalised spec), or one ValidationError with every problem located."""
        check_shape(spec, self.root)
        result = self.node(spec, ())
        if self.errors:
            raise ValidationError(self.errors)
        return result

    def fail(self, path, message: str) -> None:
        self.errors.setdefault(location(self.root, path), []).append(message)

    def node(self, node: dict, path: tuple):
        for group in ("and", "or"):
            if group in node:
                pairs = [self.node(child, (*path, group, i)) for i, child in enumerate(node[group])]
                return (group, [plan for plan, _ in pairs]), {group: [normal for _, normal in pairs]}
        if "not" in node:
            plan, normal = self.node(node["not"], (*path, "not"))
            return ("not", plan), {"not": normal}
        return self.condition(node, path)

    def condition(self, node: dict, path: tuple):
        op = node["op"]
        try:
            info = self.resolver.resolve(self.model, node["field"])
        except FieldError as error:
            self.fail((*path, "field"), str(error))
            return None, node
        if op not in OPS_BY_TYPE[info.type]:
            self.fail((*path, "op"), _("This operator does not apply to a field of this type."))
            return None, node
        value = self.value(info, op, node.get("value"), (*path, "value"))
        normal = {"field": node["field"], "op": op}
        if "value" in node:
            normal["value"] = to_json(value)
        return Condition(info, op, value), normal

    def value(self, info: FieldInfo, op: str, raw, path: tuple):
        if op in COMPARISONS:
            return self.coerced(info, raw, path)
        if op in LISTS:
            return [self.coerced(info, item, (*path, i)) for i, item in enumerate(raw)]
        if op == "between":
            low, high = (self.coerced(info, item, (*path, i)) for i, item in enumerate(raw))
            plain = not isinstance(low, Var | None) and not isinstance(high, Var | None)
            if plain and low > high:
                self.fail(path, _("The low end is above the high end."))
            return [low, high]
        return raw  # is_null's flag, a window's day count, nothing for a period

    def coerced(self, info: FieldInfo, raw, path: tuple):
        try:
            return coerce(info, raw, self.tz)
        except BadValue as error:
            self.fail(path, str(error))
            return None
