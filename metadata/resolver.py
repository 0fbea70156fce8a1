"""The filter compiler's view of the registry: which fields of an object a filter may name.

Every caller that compiles a filter for an object (views, API filters, sharing and pool rules,
approval criteria, exports) builds its resolver here, so custom fields, field permissions and
custom objects are understood the same way everywhere.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q

from access.permissions import field_rules
from metadata import registry
from metadata.fieldtypes import kind_of
from metadata.filters import ModelFieldResolver


def custom_types(info: registry.ObjectInfo) -> dict:
    """{name: {"type": compiler type, "choices": [...]}} for the object's filterable custom fields."""
    types = {}
    for definition in info.custom_fields:
        kind = kind_of(definition.type)
        filter_type = kind.filter_type_of(definition.options)
        if filter_type is None:
            continue
        entry = {"type": filter_type}
        choices = kind.filter_choices(definition.options)
        if choices:
            entry["choices"] = choices
        types[definition.name] = entry
    return types


def resolver_for(object_key: str, user=None) -> ModelFieldResolver:
    """A resolver for filters on `object_key` as `user` may use them (None: the system, every
    field of every record): fields hidden from them read as unknown, on the object and on the
    objects a path reaches ("account.industry" needs "account" here and "industry" on accounts),
    and a path follows a relation only to records in their scope (compiler: `within`)."""
    root = registry.describe(object_key)
    snap = root.snapshot

    def types_of(model):
        if model is root.model:
            return custom_types(root)
        key = model._meta.label_lower
        if key not in registry.standard_models():
            return {}
        return custom_types(registry.describe(key, snap=snap))

    if user is None:
        return ModelFieldResolver(custom_fields=types_of)
    return ModelFieldResolver(
        custom_fields=types_of, readable=_readable_by(user, root), reachable=_reachable_by(user)
    )


def _readable_by(user, root: registry.ObjectInfo):
    def readable(path: str) -> bool:
        parts, model, key = path.split("."), root.model, root.key
        while True:
            name = ".".join(parts[:2]) if parts[0] == "custom" else parts[0]
            if key is not None and not field_rules(user, key).readable(name):
                return False
            related = _related_model(model, parts[0]) if len(parts) > 1 else None
            if related is None:
                return True  # the last step, or a path the resolver itself refuses
            parts, model = parts[1:], related
            label = model._meta.label_lower
            key = label if label in registry.standard_models() else None  # users, stages: no rules

    return readable


def _reachable_by(user):
    def reachable(model, lookup: str) -> Q | None:
        visible_to = getattr(model._default_manager, "visible_to", None)
        if visible_to is None:
            return None  # not a record (a user, a stage): nothing to scope
        visible = visible_to(user)
        if not visible.query.where:
            return None  # the reader sees every record of it: no condition to add
        return Q(**{f"{lookup}__in": visible.values("pk")})

    return reachable


def _related_model(model, name: str):
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field.related_model if field.concrete and (field.many_to_one or field.one_to_one) else None
