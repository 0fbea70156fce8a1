"""Shared saved views, keyed "<object>.<name>", created and changed through metadata.views.services.

Private views stay home: they are one user's, and that user is not in the other CRM. A view
shared with a role names it by code, with a team by its org unit's path of names, with dealers by
channel level. An imported view is owned by the importing admin; a changed one keeps its owner.
Filter, sort and columns travel as stored: a filter naming a record id (an owner, a lookup) means
another record in another CRM, so review such views.

Views have no unique name within an object. Two shared views of one object with the same name
could not be told apart by a package, so export (and the import's look at the target) refuses
them, naming both, rather than guessing which is which.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from metadata.packages.sections import Section, attribute_changes, refs
from metadata.views import services as view_services
from metadata.views.models import SavedView, Visibility
from metadata.views.schema import VIEW_SCHEMA

SHARED = [value for value in Visibility.values if value != Visibility.PRIVATE]
# Every attribute of a view's definition but its sharing target, as the views' own schema has it.
DEFINITION = [name for name in view_services.DEFINITION if name not in ("role", "org_unit", "channel_level")]

ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "object": {"type": "string", "maxLength": 100},
        **{name: VIEW_SCHEMA["properties"][name] for name in DEFINITION},
        "visibility": {"enum": SHARED},
        "role": {"type": "string", "maxLength": 50},
        "org_unit": {"type": "string", "maxLength": 2000},
        "channel_level": VIEW_SCHEMA["properties"]["channel_level"],
    },
    "required": ["object", "name", "label_en", "visibility"],
    "additionalProperties": False,
}
DEFAULTS = {
    "label_zh": "",
    "kind": "table",
    "columns": [],
    "filter": None,
    "sort": [],
    "group_by": "",
    "kanban_field": "",
    "calendar_field": "",
    "aggregates": [],
    "is_default": False,
}


def export() -> list[dict]:
    views = SavedView.objects.exclude(visibility=Visibility.PRIVATE).select_related("role")
    units = refs.unit_paths()
    items = [_item(view, units) for view in views.order_by("object_key", "name", "id")]
    _refuse_twins(items)
    return items


def key(item: dict) -> str:
    return f"{item['object']}.{item['name']}"


def compare(current: dict, item: dict) -> dict:
    # A sort entry without a direction is stored ascending: not a change.
    item = {**item, "sort": [{"direction": "asc", **entry} for entry in item["sort"]]}
    return attribute_changes(current, item)


def apply(actor, item: dict, changes: dict | None) -> None:
    definition = {name: item[name] for name in DEFINITION} | _target(item)
    if changes is None:
        view_services.create_view(actor=actor, object_key=item["object"], **definition)
    else:
        view_services.change_view(actor=actor, view=_stored(item), **definition)


def prune(actor, item: dict) -> None:
    view_services.delete_view(actor=actor, view=_stored(item))


def _item(view: SavedView, units: dict[int, str]) -> dict:
    item = {"object": view.object_key, **{name: getattr(view, name) for name in DEFINITION}}
    if view.visibility == Visibility.ROLE:
        item["role"] = view.role.code
    elif view.visibility == Visibility.TEAM:
        item["org_unit"] = units[view.org_unit_id]
    elif view.visibility == Visibility.DEALER_LEVEL:
        item["channel_level"] = view.channel_level
    return item


def _target(item: dict) -> dict:
    """The view's sharing target in this CRM; a missing one is a field error on the item."""
    visibility = item["visibility"]
    if visibility == Visibility.ROLE and "role" in item:
        return {"role": refs.role_named("role", item["role"])}
    if visibility == Visibility.TEAM and "org_unit" in item:
        return {"org_unit": refs.unit_at("org_unit", item["org_unit"])}
    # No target where one is needed: the views service says which is required.
    return {"role": None, "org_unit": None, "channel_level": item.get("channel_level", "")}


def _stored(item: dict) -> SavedView:
    return SavedView.objects.exclude(visibility=Visibility.PRIVATE).get(
        object_key=item["object"], name=item["name"]
    )


def _refuse_twins(items: list[dict]) -> None:
    labels: dict[tuple[str, str], list[str]] = {}
    for item in items:
        labels.setdefault((item["object"], item["name"]), []).append(f"“{item['label_en']}”")
    errors = [
        _("Shared views %(labels)s of %(object)s share the name %(name)s; rename all but one.")
        % {"labels": ", ".join(same), "object": object_key, "name": name}
        for (object_key, name), same in labels.items()
        if len(same) > 1
    ]
    if errors:
        raise ValidationError({"views": errors})


SECTION = Section("views", ITEM_SCHEMA, export, key, apply, prune, defaults=DEFAULTS, compare=compare)
