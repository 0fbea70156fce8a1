"""Object and field permissions: may this user create, read, update, delete or export records of
this object, and which of its fields may they see or change.

Field permissions are an allow-list once configured: a role's ObjectPermission with `fields` set
names every field the role may see ("read") or change ("edit"); any other field is hidden. With no
`fields` the role uses every field. The system (user None) may do everything.

Rights are per object key. A custom object's records share one model (CustomRecord), so a record
of one answers with its object's key ("custom.project"), and callers that hold only the model
name the key itself: every function here takes a model, a record or a key.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.principal import principal_of
from crm_platform.errors import PermissionDenied

# Always readable, never writable: identity and bookkeeping every client needs.
SYSTEM_FIELDS = frozenset({"id", "created_at", "updated_at"})


ACTION_VERBS = {
    "create": gettext_lazy("create"),
    "read": gettext_lazy("read"),
    "update": gettext_lazy("change"),
    "delete": gettext_lazy("delete"),
    "export": gettext_lazy("export"),
}


CUSTOM_RECORD = "metadata.customrecord"

Target = type[models.Model] | models.Model | str


def object_key(target: Target) -> str:
    """The key roles and sharing rules name an object by: "customers.account", "custom.project"
    for a custom record (its model alone is just "metadata.customrecord"), or a key as given."""
    if isinstance(target, str):
        return target
    if isinstance(target, models.Model) and target._meta.label_lower == CUSTOM_RECORD:
        from metadata.registry import object_key_of

        return object_key_of(target)
    return target._meta.label_lower


def is_custom_record(model) -> bool:
    return model._meta.label_lower == CUSTOM_RECORD


def can(user, target: Target, action: str) -> bool:
    principal = principal_of(user)
    return principal is None or (principal.active and principal.allows(object_key(target), action))


def require(user, target: Target, action: str) -> None:
    if not can(user, target, action):
        raise PermissionDenied(
            _("You may not %(action)s %(objects)s.")
            % {"action": ACTION_VERBS[action], "objects": _plural_label(target)}
        )


def _plural_label(target: Target) -> str:
    key = object_key(target)
    if key.startswith("custom."):
        return _custom_plural(key)
    model = apps.get_model(key) if isinstance(target, str) else target
    return str(model._meta.verbose_name_plural)


def _custom_plural(key: str) -> str:
    from metadata.registry import snapshot

    definition = snapshot().objects.get(key)
    if definition is None:
        return key
    if translation.get_language() == "zh-hans" and (definition.plural_zh or definition.label_zh):
        return definition.plural_zh or definition.label_zh
    return definition.plural_en or definition.label_en


@dataclass(frozen=True)
class FieldRules:
    """What one user may do with each field of one object.

    Fields are named as the registry's paths: a column ("industry") or a custom field
    ("custom.tier"); an entry for "custom" covers every custom field the list does not name."""

    allowed: dict[str, str] | None  # None: every field, editable

    def _entry(self, name: str) -> str | None:
        if name in self.allowed:
            return self.allowed[name]
        return self.allowed.get("custom") if name.startswith("custom.") else None

    def readable(self, name: str) -> bool:
        return self.allowed is None or name in SYSTEM_FIELDS or self._entry(name) is not None

    def writable(self, name: str) -> bool:
        if name in SYSTEM_FIELDS:
            return False
        return self.allowed is None or self._entry(name) == "edit"


EVERY_FIELD = FieldRules(None)


def field_rules(user, target: Target) -> FieldRules:
    principal = principal_of(user)
    if principal is None:
        return EVERY_FIELD
    row = principal.permission(object_key(target))
    return EVERY_FIELD if row is None or row.fields is None else FieldRules(dict(row.fields))


def check_writable(user, target: Target, names: Iterable[str]) -> None:
    """Refuse, field by field, a change to fields the user may not edit (hidden ones included:
    the message does not say which are hidden and which read-only)."""
    rules = field_rules(user, target)
    # Custom values are checked one by one when they are validated (metadata/values.py).
    refused = {
        name: [_("You may not change this field.")]
        for name in names
        if name != "custom" and not rules.writable(name)
    }
    if refused:
        raise ValidationError(refused)


def readable_values(user, instance: models.Model, names: Iterable[str]) -> dict:
    """The values of `names` the user may see; hidden fields are left out, not blanked."""
    rules = field_rules(user, instance)
    return {name: getattr(instance, name) for name in names if rules.readable(name)}


def is_access_admin(user) -> bool:
    """Who may change roles, permissions, sharing rules, the trees and scope settings: the system
    and users with the shipped administrator role."""
    principal = principal_of(user)
    return principal is None or (principal.active and principal.role_code == "admin")


def require_access_admin(user) -> None:
    if not is_access_admin(user):
        raise PermissionDenied(_("Only administrators may change access, roles or the trees."))
