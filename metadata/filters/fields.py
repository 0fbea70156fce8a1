"""Which fields a filter may name, and their types: the interface the metadata registry plugs into.

A resolver turns a field path ("owner", "account.value_class", "custom.tier") into a `FieldInfo`
or raises `FieldError`. The compiler knows nothing else about models, so the registry can replace
`ModelFieldResolver` with one that reads field definitions without touching the compiler.
"""

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

TEXT, INTEGER, DECIMAL, DATE, DATETIME = "text", "integer", "decimal", "date", "datetime"
BOOLEAN, CHOICE, MULTI, REFERENCE = "boolean", "choice", "multi", "reference"
# Custom field types as the registry names them, mapped to the compiler's types.
CUSTOM_TYPES = {
    "text": TEXT,
    "number": DECIMAL,
    "decimal": DECIMAL,
    "date": DATE,
    "datetime": DATETIME,
    "boolean": BOOLEAN,
    "choice": CHOICE,
    "multi": MULTI,
    "integer": INTEGER,
    "reference": REFERENCE,
}
CUSTOM_COLUMN = "custom"
MAX_HOPS = 2
SENSITIVE = ("password", "secret", "token")


class FieldError(Exception):
    """The path names no field this caller may filter on; the message is translated."""


@dataclass(frozen=True)
class FieldInfo:
    """A filterable field. `lookup` is the ORM path ("account__value_class"); for a custom key it
    is the path of the JSONB column ("account__custom") and `custom_key` names the key."""

    path: str
    type: str
    lookup: str
    custom_key: str | None = None
    choices: tuple | None = None
    target: type[models.Model] | None = None  # what a reference points to
    # For a path through relations: the condition on the filtered rows under which the related
    # records it passes through may be followed (the reader's scope); the compiler ANDs it in.
    within: models.Q | None = dataclasses.field(default=None, compare=False)


class FieldResolver(Protocol):
    def resolve(self, model: type[models.Model], path: str) -> FieldInfo: ...


CustomTypes = Mapping[str, str | Mapping] | Callable[[type[models.Model]], Mapping[str, str | Mapping]]


class ModelFieldResolver:
    """Concrete model fields by name, one or two hops through foreign keys, and `custom.<key>`.

    `custom_fields` gives the custom keys' types, {key: "number"} or {key: {"type": "choice",
    "choices": [...]}}, for the filtered model (or a callable `model -> mapping` for every model a
    path reaches). `readable(path) -> bool` receives the whole dotted path; a path it refuses is
    reported as unknown, so hidden fields do not reveal that they exist. `reachable(model, lookup)`
    gives the condition under which a related record of `model`, reached through `lookup`
    ("account"), may be followed (None: always); a path's conditions become its `within`.
    """

    def __init__(
        self,
        custom_fields: CustomTypes | None = None,
        readable: Callable[[str], bool] | None = None,
        reachable: Callable[[type[models.Model], str], models.Q | None] | None = None,
    ):
        self.custom_fields = custom_fields
        self.readable = readable
        self.reachable = reachable

    def resolve(self, model, path: str) -> FieldInfo:
        if self.readable is not None and not self.readable(path):
            raise FieldError(_("Unknown field."))
        hops: list[tuple[type[models.Model], str]] = []
        info = self._walk(model, path, hops)
        conditions = [self.reachable(*hop) for hop in hops] if self.reachable is not None else []
        conditions = [condition for condition in conditions if condition is not None]
        if not conditions:
            return info
        within = conditions[0]
        for condition in conditions[1:]:
            within &= condition
        return dataclasses.replace(info, within=within)

    def _walk(self, model, path: str, hops: list) -> FieldInfo:
        """The field at `path`, appending each relation it follows to `hops` as (model, lookup)."""
        parts, current, lookups = path.split("."), model, []
        for index, name in enumerate(parts):
            last = index == len(parts) - 1
            if name == CUSTOM_COLUMN and index == len(parts) - 2 and _has_custom(current):
                column = "__".join([*lookups, CUSTOM_COLUMN])
                return self._custom(model, current, path, column, parts[-1])
            field = _concrete_field(current, name)
            if last:
                return _standard(field, path, "__".join([*lookups, name]))
            if not (field.many_to_one or field.one_to_one):
                raise FieldError(_("Only a relation can be followed with a dot."))
            if len(lookups) == MAX_HOPS:
                raise FieldError(_("Follow at most %(hops)s relations.") % {"hops": MAX_HOPS})
            lookups.append(name)
            current = field.related_model
            hops.append((current, "__".join(lookups)))
        raise FieldError(_("Unknown field."))  # pragma: no cover - the loop always returns

    def _custom(self, model, current, path, column, key) -> FieldInfo:
        types = self.custom_fields
        if callable(types):
            types = types(current)
        elif current is not model:
            types = None
        definition = (types or {}).get(key)
        if definition is None:
            raise FieldError(_("Unknown custom field."))
        if isinstance(definition, str):
            definition = {"type": definition}
        kind = CUSTOM_TYPES.get(definition.get("type"))
        if kind is None:
            raise FieldError(_("This custom field cannot be filtered."))
        choices = definition.get("choices")
        return FieldInfo(path, kind, column, custom_key=key, choices=tuple(choices) if choices else None)


def _has_custom(model) -> bool:
    try:
        return isinstance(model._meta.get_field(CUSTOM_COLUMN), models.JSONField)
    except FieldDoesNotExist:
        return False


def _concrete_field(model, name: str) -> models.Field:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise FieldError(_("Unknown field.")) from None
    if not getattr(field, "concrete", False) or field.many_to_many or field.one_to_many:
        raise FieldError(_("Unknown field."))
    if any(word in name.lower() for word in SENSITIVE):
        raise FieldError(_("Unknown field."))
    return field


def _standard(field: models.Field, path: str, lookup: str) -> FieldInfo:
    if field.many_to_one or field.one_to_one:
        return FieldInfo(path, REFERENCE, lookup, target=field.related_model)
    if field.choices:
        return FieldInfo(path, CHOICE, lookup, choices=tuple(value for value, _label in field.flatchoices))
    kind = _type_of(field)
    if kind is None:
        raise FieldError(_("This field cannot be filtered."))
    return FieldInfo(path, kind, lookup)


def _type_of(field: models.Field) -> str | None:
    # Order matters: DateTimeField subclasses DateField, BooleanField is no integer here.
    if isinstance(field, models.BooleanField):
        return BOOLEAN
    if isinstance(field, models.DateTimeField):
        return DATETIME
    if isinstance(field, models.DateField):
        return DATE
    if isinstance(field, models.DecimalField | models.FloatField):
        return DECIMAL
    if isinstance(field, models.IntegerField | models.AutoField):
        return INTEGER
    if isinstance(field, models.CharField | models.TextField):
        return TEXT
    return None


def is_user_model(model) -> bool:
    return model is not None and model._meta.label == settings.AUTH_USER_MODEL
