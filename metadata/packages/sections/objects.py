"""Custom object definitions: created or relabelled through metadata.services."""

from metadata import services
from metadata.models import NAME_PATTERN, ObjectDefinition
from metadata.packages.sections import Section

ATTRIBUTES = ("label_en", "label_zh", "plural_en", "plural_zh", "description")
TEXT = {"type": "string", "maxLength": 100}

ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "label_en": {"type": "string", "minLength": 1, "maxLength": 100},
        "label_zh": TEXT,
        "plural_en": TEXT,
        "plural_zh": TEXT,
        "description": {"type": "string", "maxLength": 10_000},
    },
    "required": ["name", "label_en"],
    "additionalProperties": False,
}


def export() -> list[dict]:
    """Active custom objects; a deactivated one is configuration the source no longer uses."""
    return [
        {"name": definition.name, **{name: getattr(definition, name) for name in ATTRIBUTES}}
        for definition in ObjectDefinition.objects.filter(is_active=True).order_by("name")
    ]


def key(item: dict) -> str:
    return f"custom.{item['name']}"


def apply(actor, item: dict, changes: dict | None) -> None:
    values = {name: item[name] for name in ATTRIBUTES}
    if changes is not None:
        services.update_object(actor=actor, object_key=key(item), **_new(changes))
    elif ObjectDefinition.objects.filter(name=item["name"], is_active=False).exists():
        # The name is taken by a deactivated object: bring it back rather than clash.
        services.update_object(actor=actor, object_key=key(item), is_active=True, **values)
    else:
        services.create_object(actor=actor, name=item["name"], **values)


def prune(actor, item: dict) -> None:
    services.update_object(actor=actor, object_key=key(item), is_active=False)


def _new(changes: dict) -> dict:
    return {name: new for name, (_old, new) in changes.items()}


SECTION = Section(
    "objects", ITEM_SCHEMA, export, key, apply, prune, defaults=dict.fromkeys(ATTRIBUTES[1:], "")
)
