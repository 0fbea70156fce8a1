"""Roles by code: their labels, data level, portal flag and discount limit, and their object
permissions with field allow-lists, created and changed through access.services.

A permission equal to the role's shipped default (access/defaults.py) with no field list is left
out of the export: it grants exactly what no row grants, so tenants compare equal either way.
"""

from decimal import Decimal

from access import services as access_services
from access.defaults import default_allows
from access.models import Action, ObjectPermission
from accounts.models import Role
from metadata.packages.sections import Section

SETTINGS = ("labels", "data_level", "is_portal", "max_discount_percent")

PERMISSION_SCHEMA = {
    "type": "object",
    "properties": {
        "object": {"type": "string", "maxLength": 100},
        "actions": {"type": "array", "items": {"enum": Action.values}, "uniqueItems": True},
        "fields": {
            "type": ["object", "null"],
            "additionalProperties": {"enum": list(access_services.FIELD_ACCESS)},
        },
    },
    "required": ["object", "actions"],
    "additionalProperties": False,
}
ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": r"^[-a-zA-Z0-9_]{1,50}$"},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 200}},
        "data_level": {"enum": Role.DataLevel.values},
        "is_portal": {"type": "boolean"},
        "max_discount_percent": {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$"},
        "permissions": {"type": "array", "items": PERMISSION_SCHEMA},
    },
    "required": ["code"],
    "additionalProperties": False,
}


def export() -> list[dict]:
    rows: dict[int, list[ObjectPermission]] = {}
    for row in ObjectPermission.objects.order_by("object"):
        rows.setdefault(row.role_id, []).append(row)
    return [_item(role, rows.get(role.pk, [])) for role in Role.objects.order_by("code")]


def key(item: dict) -> str:
    return item["code"]


def compare(current: dict, item: dict) -> dict:
    """Settings that differ, and per object "permissions[<object>]": [old, new] (both as granted
    in effect, a missing row being the role's default)."""
    changes = {
        name: [current.get(name), item[name]]
        for name in SETTINGS
        if name in item and _comparable(name, current.get(name)) != _comparable(name, item[name])
    }
    if "permissions" in item:
        code = item["code"]
        old, new = _by_object(current.get("permissions", [])), _by_object(item["permissions"])
        for name in sorted(set(old) | set(new)):
            before, after = old.get(name, _default(code, name)), new.get(name, _default(code, name))
            if before != after:
                changes[f"permissions[{name}]"] = [before, after]
    return changes


def apply(actor, item: dict, changes: dict | None) -> None:
    """Create the role (with every permission the package grants it) or change what differs."""
    settings = {name: item[name] for name in SETTINGS if name in item}
    if changes is None:
        # Without labels the service refuses the item, located at its "labels".
        role = access_services.create_role(actor=actor, code=item["code"], **{"labels": None, **settings})
        permissions = _by_object(item.get("permissions", []))
    else:
        role = Role.objects.get(code=item["code"])
        changed = {name: new for name, (_old, new) in changes.items() if name in SETTINGS}
        if changed:
            access_services.change_role(actor=actor, role=role, **changed)
        permissions = {
            name.removeprefix("permissions[").removesuffix("]"): new
            for name, (_old, new) in changes.items()
            if name.startswith("permissions[")
        }
    for object_key, granted in permissions.items():
        access_services.set_object_permission(
            actor=actor, role=role, object=object_key, actions=granted["actions"], fields=granted["fields"]
        )


def _comparable(name: str, value):
    # "5" and "5.00" are the same discount limit.
    return Decimal(value) if name == "max_discount_percent" and value is not None else value


def _item(role: Role, rows: list[ObjectPermission]) -> dict:
    permissions = [_permission(row) for row in rows]
    return {
        "code": role.code,
        "labels": role.labels,
        "data_level": role.data_level,
        "is_portal": role.is_portal,
        "max_discount_percent": str(role.max_discount_percent),
        "permissions": [
            {"object": row.object, **granted}
            for row, granted in zip(rows, permissions, strict=True)
            if granted != _default(role.code, row.object)
        ],
    }


def _permission(row: ObjectPermission) -> dict:
    return {"actions": [a for a in Action.values if getattr(row, f"can_{a}")], "fields": row.fields}


def _default(code: str, object_key: str) -> dict:
    return {"actions": [a for a in Action.values if default_allows(code, object_key, a)], "fields": None}


def _by_object(permissions: list[dict]) -> dict:
    return {
        p["object"]: {"actions": [a for a in Action.values if a in p["actions"]], "fields": p.get("fields")}
        for p in permissions
    }


SECTION = Section("roles", ITEM_SCHEMA, export, key, apply, compare=compare)
