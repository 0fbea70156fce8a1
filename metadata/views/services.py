"""What users do with saved views: create, change and delete them, list the ones they may see,
and find the view a list opens with.

Anyone who may read an object may keep private views of it and share them with their own role or
their own unit (or a unit below it). Sharing with everyone or a dealer level, and making a view
a role's default, is for administrators. Only the owner or an administrator changes a view.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access.permissions import can, is_access_admin, require
from access.principal import ancestors, principal_of
from accounts.models import OrgUnit, Role
from crm.records.audit import acting_as
from crm.records.inputs import pk_of
from crm_platform.errors import NotFound, PermissionDenied
from metadata import registry
from metadata.limits import require_room_for_view
from metadata.views.check import check_definition
from metadata.views.fields import ViewFields
from metadata.views.models import SavedView, ViewKind, Visibility
from metadata.views.schema import check_shape
from metadata.views.visibility import visible_views
from tenants import services as tenant_services

DEFINITION = (
    "name",
    "label_en",
    "label_zh",
    "kind",
    "columns",
    "filter",
    "sort",
    "group_by",
    "kanban_field",
    "calendar_field",
    "aggregates",
    "visibility",
    "role",
    "org_unit",
    "channel_level",
    "is_default",
)
# Which target each visibility needs; the others are cleared.
TARGETS = {Visibility.ROLE: "role", Visibility.TEAM: "org_unit", Visibility.DEALER_LEVEL: "channel_level"}
BUILT_IN_COLUMNS = 8


def create_view(*, actor, object_key: str, **data) -> SavedView:
    """A new view of `object_key` owned by `actor`; ValidationError per field, LimitReached."""
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        info = registry.describe(object_key)
        require(actor, info.key, "read")
        require_room_for_view(info)
        view = SavedView(object_key=object_key, owner_id=getattr(actor, "pk", None))
        _apply(view, data, actor)
        _take_default(view)
        view.save()
        return view


def change_view(*, actor, view, **data) -> SavedView:
    """Change any part of a view's definition (not its object or owner)."""
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        found = _owned(actor, view, lock=True)
        _apply(found, data, actor)
        _take_default(found)
        found.save()
        return found


def delete_view(*, actor, view) -> None:
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        _owned(actor, view, lock=True).delete()


def get_view_for(user, view) -> SavedView:
    """The view if `user` may see it; NotFound whether it is missing or not theirs."""
    try:
        return SavedView.objects.filter(visible_views(user)).get(pk=pk_of(view))
    except (SavedView.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("View not found.")) from None


def views_for(user, object_key: str) -> list[SavedView]:
    """The views of `object_key` that `user` may see: none if they may not read the object."""
    info = registry.describe(object_key)
    if not can(user, info.key, "read"):
        return []
    return list(SavedView.objects.filter(visible_views(user), object_key=object_key))


def default_view_for(user, object_key: str) -> SavedView:
    """The default view of the user's role for the object, else the built-in one (unsaved)."""
    principal = principal_of(user)
    if principal is not None and principal.role_id:
        found = SavedView.objects.filter(object_key=object_key, role_id=principal.role_id, is_default=True)
        if (view := found.first()) is not None:
            return view
    return built_in_view(user, object_key)


def built_in_view(user, object_key: str) -> SavedView:
    """Every record the user may see, newest first, with the first fields they may read."""
    fields = ViewFields(object_key, user)
    names = [f.path for f in fields.object.fields if f.name != "id" and fields.field(f.path)]
    names.sort(key=lambda path: path != "name")  # the record's name first, when it has one
    return SavedView(
        object_key=object_key,
        name="all",
        label_en="All records",
        label_zh="全部记录",
        kind=ViewKind.TABLE,
        columns=names[:BUILT_IN_COLUMNS],
        sort=[{"field": "created_at", "direction": "desc"}] if fields.field("created_at") else [],
        visibility=Visibility.EVERYONE,
    )


# --- checks -----------------------------------------------------------------------------------


def _apply(view: SavedView, data: dict, actor) -> None:
    unknown = set(data) - set(DEFINITION)
    if unknown:
        raise ValidationError({key: [_("Unknown key.")] for key in sorted(unknown)})
    definition = {key: getattr(view, key) for key in DEFINITION if key not in ("role", "org_unit")}
    definition |= {"role": view.role_id, "org_unit": view.org_unit_id}
    definition |= {key: pk_of(value) if key in ("role", "org_unit") else value for key, value in data.items()}
    if definition["filter"] is None:
        del definition["filter"]  # absent and null both mean "no filter"
    check_shape(definition)
    for key, value in definition.items():
        setattr(view, f"{key}_id" if key in ("role", "org_unit") else key, value)
    view.filter = definition.get("filter")
    view.sort = [{"field": item["field"], "direction": item.get("direction", "asc")} for item in view.sort]
    _check_sharing(view, actor)
    check_definition(view, ViewFields(view.object_key, actor))


def _check_sharing(view: SavedView, actor) -> None:
    """Targets present where the visibility needs them, and within the actor's right to share."""
    if view.visibility != Visibility.ROLE:
        view.role_id = None
    if view.visibility != Visibility.TEAM:
        view.org_unit_id = None
    if view.visibility != Visibility.DEALER_LEVEL:
        view.channel_level = ""
    errors: dict[str, list[str]] = {}
    target = TARGETS.get(view.visibility)
    if target == "role" and not Role.objects.filter(pk=view.role_id).exists():
        errors["role"] = [_("Choose a role.")]
    if target == "org_unit" and not OrgUnit.objects.filter(pk=view.org_unit_id).exists():
        errors["org_unit"] = [_("Choose an org unit.")]
    if target == "channel_level" and not view.channel_level:
        errors["channel_level"] = [_("This is required.")]
    if view.is_default and view.visibility != Visibility.ROLE:
        errors["is_default"] = [_("Only a view shared with a role can be its default.")]
    if not errors and not is_access_admin(actor):
        errors = _sharing_limits(view, actor)
    if errors:
        raise ValidationError(errors)


def _sharing_limits(view: SavedView, actor) -> dict:
    principal = principal_of(actor)
    if view.visibility in (Visibility.EVERYONE, Visibility.DEALER_LEVEL):
        return {"visibility": [_("Only an administrator may share a view this widely.")]}
    if view.is_default:
        return {"is_default": [_("Only an administrator may choose a role's default view.")]}
    if view.visibility == Visibility.ROLE and view.role_id != principal.role_id:
        return {"role": [_("You may share a view only with your own role.")]}
    if view.visibility == Visibility.TEAM:
        unit_path = OrgUnit.objects.filter(pk=view.org_unit_id).values_list("path", flat=True).first() or ""
        if principal.org_unit_id not in ancestors(unit_path):
            return {"org_unit": [_("You may share a view only with your own unit or a unit below it.")]}
    return {}


def _take_default(view: SavedView) -> None:
    """A new default replaces the role's previous one rather than being refused."""
    if view.is_default:
        others = SavedView.objects.filter(object_key=view.object_key, role_id=view.role_id, is_default=True)
        others.exclude(pk=view.pk).update(is_default=False)


def _owned(actor, view, *, lock: bool) -> SavedView:
    found = get_view_for(actor, view)
    if lock:
        found = SavedView.objects.select_for_update().get(pk=found.pk)
    if not is_access_admin(actor) and found.owner_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the view's owner or an administrator may change it."))
    return found
