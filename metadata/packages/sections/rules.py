"""Validation rules, keyed "<object key>.<name>", added or changed through metadata.services."""

from metadata import services
from metadata.models import NAME_PATTERN, ValidationRule
from metadata.packages.sections import Section
from metadata.packages.sections.fields import OBJECT_KEY_PATTERN

CHANGEABLE = ("condition", "message_en", "message_zh", "field", "is_active")

ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "object": {"type": "string", "pattern": OBJECT_KEY_PATTERN, "maxLength": 100},
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "condition": {"type": "string", "minLength": 1, "maxLength": 10_000},
        "message_en": {"type": "string", "minLength": 1, "maxLength": 300},
        "message_zh": {"type": "string", "maxLength": 300},
        "field": {"type": "string", "maxLength": 63},
        "is_active": {"type": "boolean"},
    },
    "required": ["object", "name", "condition", "message_en"],
    "additionalProperties": False,
}


def export() -> list[dict]:
    """Rules of standard and active custom objects."""
    from metadata import registry

    custom = {key for key, definition in registry.snapshot().objects.items() if definition.is_active}
    objects = set(registry.standard_models()) | custom
    return [
        {"object": rule.object_key, "name": rule.name, **{name: getattr(rule, name) for name in CHANGEABLE}}
        for rule in ValidationRule.objects.order_by("object_key", "name")
        if rule.object_key in objects
    ]


def key(item: dict) -> str:
    return f"{item['object']}.{item['name']}"


def apply(actor, item: dict, changes: dict | None) -> None:
    if changes is None:
        services.add_rule(
            actor=actor,
            object_key=item["object"],
            name=item["name"],
            condition=item["condition"],
            message_en=item["message_en"],
            **{name: item[name] for name in CHANGEABLE[2:]},
        )
        return
    rule = ValidationRule.objects.get(object_key=item["object"], name=item["name"])
    services.change_rule(actor=actor, rule=rule, **{name: new for name, (_old, new) in changes.items()})


def prune(actor, item: dict) -> None:
    services.delete_rule(
        actor=actor, rule=ValidationRule.objects.get(object_key=item["object"], name=item["name"])
    )


SECTION = Section(
    "validation_rules",
    ITEM_SCHEMA,
    export,
    key,
    apply,
    prune,
    defaults={"message_zh": "", "field": "", "is_active": True},
)
