"""Custom field definitions, keyed "<object key>.<name>": added, changed (checked against the
tenant's stored values by the service) or restored through metadata.services."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from metadata import registry, services
from metadata.models import NAME_PATTERN, FieldDefinition, FieldType
from metadata.packages.sections import Section

OBJECT_KEY_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
ATTRIBUTES = services.FIELD_ATTRIBUTES
# Computed fields read the others, so they are added after them, formulas before roll-ups.
LATE_TYPES = {"auto_number": 1, "formula": 2, "rollup": 3}

ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "object": {"type": "string", "pattern": OBJECT_KEY_PATTERN, "maxLength": 100},
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "type": {"enum": FieldType.values},
        "label_en": {"type": "string", "minLength": 1, "maxLength": 100},
        "label_zh": {"type": "string", "maxLength": 100},
        "help_en": {"type": "string", "maxLength": 500},
        "help_zh": {"type": "string", "maxLength": 500},
        "required": {"type": "boolean"},
        "unique": {"type": "boolean"},
        "filterable": {"type": "boolean"},
        "sortable": {"type": "boolean"},
        "default": {},
        "options": {"type": "object"},
        "position": {"type": "integer", "minimum": 0},
    },
    "required": ["object", "name", "type", "label_en"],
    "additionalProperties": False,
}
DEFAULTS = {
    "label_zh": "",
    "help_en": "",
    "help_zh": "",
    "required": False,
    "unique": False,
    "filterable": False,
    "sortable": False,
    "default": None,
    "options": {},
}


def export() -> list[dict]:
    """Live fields of standard and active custom objects; ids and index status stay behind."""
    active = set(registry.snapshot().objects) | set(registry.standard_models())
    live = FieldDefinition.objects.filter(deleted_at=None).order_by("object_key", "position", "id")
    return [_item(definition) for definition in live if _is_active(definition.object_key, active)]


def key(item: dict) -> str:
    return f"{item['object']}.{item['name']}"


def order(indexed: list) -> list:
    return sorted(indexed, key=lambda pair: LATE_TYPES.get(pair[1]["type"], 0))


def apply(actor, item: dict, changes: dict | None) -> None:
    _require_lookup_target(item)
    if changes is not None:
        new = {name: value for name, (_old, value) in changes.items()}
        services.change_field(actor=actor, field=_live(item), **new)
        return
    deleted = FieldDefinition.objects.filter(object_key=item["object"], name=item["name"]).first()
    values = {name: item[name] for name in ATTRIBUTES if name in item}
    if deleted is not None:
        # Deleted here, values kept: restoring it keeps them, the change then checks them.
        services.restore_field(actor=actor, field=deleted)
        services.change_field(
            actor=actor, field=deleted, type=item["type"], label_en=item["label_en"], **values
        )
        return
    services.add_field(
        actor=actor,
        object_key=item["object"],
        name=item["name"],
        type=item["type"],
        **values,
    )


def prune(actor, item: dict) -> None:
    services.delete_field(actor=actor, field=_live(item))


def _item(definition: FieldDefinition) -> dict:
    return {
        "object": definition.object_key,
        "name": definition.name,
        "type": definition.type,
        **{name: getattr(definition, name) for name in ATTRIBUTES},
    }


def _is_active(object_key: str, active: set) -> bool:
    return object_key in active and (
        not object_key.startswith(registry.CUSTOM_PREFIX) or registry.snapshot().objects[object_key].is_active
    )


def _live(item: dict) -> FieldDefinition:
    return FieldDefinition.objects.get(object_key=item["object"], name=item["name"], deleted_at=None)


def _require_lookup_target(item: dict) -> None:
    """Objects are applied first, so a target missing now is in neither the tenant nor the package."""
    target = (item.get("options") or {}).get("target")
    if item["type"] != "lookup" or not isinstance(target, str):
        return
    try:
        registry.describe(target)
    except ValidationError:
        raise ValidationError(
            {
                "options.target": [
                    _("%(target)s exists neither in this CRM nor in the package.") % {"target": target}
                ]
            }
        ) from None


SECTION = Section("fields", ITEM_SCHEMA, export, key, apply, prune, defaults=DEFAULTS, order=order)
