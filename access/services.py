"""Administering access: roles, their object and field permissions, users' roles and places, the
tenant's scope settings. Administrators only; every change lands in the audit trail."""

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
