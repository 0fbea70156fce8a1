"""An object's fields as one user may use them in a view: known to the registry, readable under
their field permissions, and typed the way the filter compiler types them, so a view sorts and
groups by the very SQL expression the filter compiler (and the custom-field indexes) use."""

from django.db.models import F

from access.permissions import field_rules
from metadata import registry
from metadata.filters import FieldError, FieldInfo
from metadata.filters.custom import custom_expression
from metadata.resolver import resolver_for


class ViewFields:
    """The fields of `object_key` for `user` (None: the system, every field)."""

    def __init__(self, object_key: str, user):
        self.object = registry.describe(object_key)
        self.user = user
        self.model = self.object.model
        self.resolver = resolver_for(object_key, user)
        self.rules = field_rules(user, self.object.key)
        self._by_path = {field.path: field for field in self.object.fields}

    def field(self, path: str) -> registry.Field | None:
        """The registry's field at `path` ("industry", "custom.tier") if the user may read it."""
        found = self._by_path.get(path)
        return found if found is not None and self.rules.readable(found.path) else None

    def typed(self, path: str) -> FieldInfo | None:
        """The compiler's view of a readable field; None when it has no order (multi-select,
        roll-ups) or is hidden."""
        if self.field(path) is None:
            return None
        try:
            return self.resolver.resolve(self.model, path)
        except FieldError:
            return None


def expression(info: FieldInfo):
    """The SQL value to sort, group or aggregate by: the column, or the typed custom expression."""
    return F(info.lookup) if info.custom_key is None else custom_expression(info)
