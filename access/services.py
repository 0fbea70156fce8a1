"""Administering access: roles, their object and field permissions, users' roles and places, the
tenant's scope settings. Administrators only; every change lands in the audit trail."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access import rescope
from access.models import Action, ObjectPermission, ScopeSettings
from access.permissions import SYSTEM_FIELDS, require_access_admin
from access.principal import forget
from access.sharing import record_model
from accounts.models import OrgUnit, Role, User
from channels.models import ChannelMember, ChannelNode
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import validated

FIELD_ACCESS = ("read", "edit")
# What an admin may set on a role. Its code is not among them: packages, approval steps and the
# shipped defaults name a role by code, so a renamed code would silently point elsewhere.
ROLE_SETTINGS = ("labels", "data_level", "is_portal", "max_discount_percent")
MAX_LABEL = 200


def create_role(
    *, actor, code: str, labels: dict, data_level: str = Role.DataLevel.OWN, is_portal: bool = False,
    max_discount_percent=0,
) -> Role:  # fmt: skip
    """A role of the tenant's own: `labels` per language ({"en": ..., "zh-hans": ...}), the data
    level its users see, whether it logs into the dealer portal, the highest discount (percent) it
    may give without approval. It starts with no object permissions (no shipped defaults apply);
    grant them with `set_object_permission`. ValidationError per field."""
    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        role = Role(code=code, is_system=False)
        _set_role(role, {
            "labels": labels, "data_level": data_level, "is_portal": is_portal,
            "max_discount_percent": max_discount_percent,
        })  # fmt: skip
        role.save()
        publish("role.created", role, code=role.code)
        return role


def change_role(*, actor, role, **changes) -> Role:
    """Change any of a role's ROLE_SETTINGS; the users holding it get the new rights from their
    next request. A shipped role keeps its portal flag (its default permissions assume it)."""
    require_access_admin(actor)
    unknown = sorted(set(changes) - set(ROLE_SETTINGS))
    if unknown:
        raise ValidationError({name: [_("Unknown setting.")] for name in unknown})
    with transaction.atomic(), acting_as(actor):
        role = Role.objects.select_for_update().get(pk=pk_of(role))
        if role.is_system and "is_portal" in changes and changes["is_portal"] != role.is_portal:
            raise ValidationError({"is_portal": [_("A shipped role cannot move into or out of the portal.")]})
        _set_role(role, changes)
        role.save()
        publish("role.changed", role, settings=sorted(changes))
        return role


def _set_role(role: Role, values: dict) -> None:
    """Set `values` on `role` and check the whole role, every problem at once."""
    for name, value in values.items():
        setattr(role, name, value)
    errors: dict[str, list] = {}
    try:
        validated(role)  # field types, choices, decimal places; cleaned values are set back
    except ValidationError as error:
        errors = error.message_dict
    if Role.objects.filter(code=role.code).exclude(pk=role.pk).exists():
        errors["code"] = [_("This CRM already has a role %(code)s.") % {"code": role.code}]
    if "labels" not in errors and not _labels_ok(role.labels):
        errors["labels"] = [
            _("Name the role in at least one of %(languages)s (at most %(limit)s characters each).")
            % {"languages": ", ".join(code for code, _name in settings.LANGUAGES), "limit": MAX_LABEL}
        ]
    if "max_discount_percent" not in errors and not 0 <= _decimal(role.max_discount_percent) <= 100:
        errors["max_discount_percent"] = [_("A discount limit is between 0 and 100 percent.")]
    if errors:
        raise ValidationError(errors)


def _labels_ok(labels) -> bool:
    languages = {code for code, _name in settings.LANGUAGES}
    return (
        isinstance(labels, dict)
        and set(labels) <= languages
        and all(isinstance(text, str) and len(text) <= MAX_LABEL for text in labels.values())
        and any(text.strip() for text in labels.values())
    )


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(-1)


def set_object_permission(*, actor, role, object: str, actions: list[str], fields: dict | None = None):
    """What `role` may do with `object`: the listed actions, and with `fields` an allow-list of the
    fields it may see ("read") or change ("edit"); None lifts field restrictions."""
    require_access_admin(actor)
    model = record_model(object)
    errors = {}
    unknown = sorted(set(actions) - set(Action.values))
    if unknown:
        errors["actions"] = [_("Unknown actions: %(names)s.") % {"names": ", ".join(unknown)}]
    if fields is not None:
        names = {field.name for field in model._meta.concrete_fields} - SYSTEM_FIELDS
        from metadata.registry import describe

        names |= {field.path for field in describe(object).fields}  # custom fields: "custom.tier"
        bad = sorted(name for name in fields if name not in names)
        if bad:
            errors["fields"] = [_("Unknown fields: %(names)s.") % {"names": ", ".join(bad)}]
        if any(value not in FIELD_ACCESS for value in fields.values()):
            errors.setdefault("fields", []).append(_('Each field is "read" or "edit".'))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor):
        role = Role.objects.get(pk=pk_of(role))
        permission, _created = ObjectPermission.objects.update_or_create(
            role=role,
            object=object,
            defaults={f"can_{action}": action in actions for action in Action.values} | {"fields": fields},
        )
        publish("role.permission_changed", role, object=object, actions=sorted(actions))
        return permission


def assign_role(*, actor, user, role) -> User:
    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        user = User.objects.select_for_update().get(pk=pk_of(user))
        user.role = Role.objects.get(pk=pk_of(role))
        user.save(update_fields=["role"])
        forget(user)
        publish("user.role_changed", user, role=user.role.code)
        return user


def move_user(*, actor, user, org_unit) -> User:
    """Move a user to another team; the records they own move with them (their new manager sees
    them, their old one no longer does)."""
    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        user = User.objects.select_for_update().get(pk=pk_of(user))
        unit = OrgUnit.objects.filter(pk=pk_of(org_unit)).first()
        if unit is None:
            raise ValidationError({"org_unit": [_("Choose an existing org unit.")]})
        user.org_unit = unit
        user.save(update_fields=["org_unit"])
        moved = sum(
            model.objects.filter(owner=user).update(org_unit=unit, org_path=unit.path)
            for model in rescope.record_models()
        )
        forget(user)
        publish("user.moved", user, org_unit=unit.pk, records=moved)
        return user


def place_dealer_user(*, actor, user, node) -> ChannelMember:
    """Make `user` work for dealer `node` (they see its subtree at most from then on)."""
    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        user = User.objects.get(pk=pk_of(user))
        node = ChannelNode.objects.filter(pk=pk_of(node)).first()
        if node is None:
            raise ValidationError({"node": [_("Choose an existing channel node.")]})
        member, _created = ChannelMember.objects.update_or_create(user=user, defaults={"node": node})
        forget(user)
        publish("user.placed_on_node", user, node=node.pk)
        return member


def update_scope_settings(*, actor, **changes) -> ScopeSettings:
    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        settings = ScopeSettings.objects.select_for_update().order_by("pk").first() or ScopeSettings()
        unknown = sorted(set(changes) - {"dealers_see_children", "brand_sees_channel"})
        if unknown:
            raise ValidationError({name: [_("Unknown setting.")] for name in unknown})
        for name, value in changes.items():
            setattr(settings, name, bool(value))
        validated(settings)
        settings.save()
        publish("scope_settings.changed", settings, **{k: bool(v) for k, v in changes.items()})
        return settings
