"""Which fields of an object one user may export or import, as registry fields.

A column is named by its API path ("name", "custom.tier"), the header an export writes. Hidden
fields (field permissions) are unknown here, so a header naming one reads like a typo and reveals
nothing. Roll-ups are computed on read, not stored: they are neither exported nor imported.
"""

from access.permissions import FieldRules, field_rules
from metadata import registry
from metadata.fieldtypes import kind_of

ID_FIELD = registry.ID_FIELD


def readable_fields(info: registry.ObjectInfo, user) -> dict[str, registry.Field]:
    """{path: field} of every stored field of `info` that `user` may read, in the registry's order."""
    rules = field_rules(user, info.key)
    fields = ([ID_FIELD] if info.custom else []) + info.fields
    return {field.path: field for field in fields if _stored(field) and rules.readable(field.path)}


def writable(rules: FieldRules, field: registry.Field) -> bool:
    """Whether the services would let the user change `field`."""
    return rules.writable(field.path)


def _stored(field: registry.Field) -> bool:
    return field.standard or kind_of(field.type).stored
