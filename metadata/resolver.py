"""The filter compiler's view of the registry: which fields of an object a filter may name.

Every caller that compiles a filter for an object (views, API filters, sharing and pool rules,
approval criteria, exports) builds its resolver here, so custom fields, field permissions and
custom objects are understood the same way everywhere.
"""

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
    """A resolver for filters on `object_key`, hiding the fields `user` may not read."""
    root = registry.describe(object_key)
    snap = root.snapshot

    def types_of(model):
        if model is root.model:
            return custom_types(root)
        key = model._meta.label_lower
        if key not in registry.standard_models():
            return {}
        return custom_types(registry.describe(key, snap=snap))

    readable = None
    if user is not None:
        rules = field_rules(user, object_key)
        if rules.allowed is not None:
            # A path is readable when its first step is: "account.name" needs "account".
            def readable(path: str) -> bool:
                first = path.split(".")[0]
                return rules.readable(".".join(path.split(".")[:2]) if first == "custom" else first)

    return ModelFieldResolver(custom_fields=types_of, readable=readable)
