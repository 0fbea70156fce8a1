"""An approval process definition: JSON, checked by a JSON Schema, then against the tenant.

    {
      "entry": <filter>,                 # which records may enter (the filter language); optional
      "lock_record": true,               # no edits while pending (an admin may override, recorded)
      "allow_recall": true,
      "steps": [{
        "name": "Finance",
        "criteria": <filter>,            # the step applies only to matching records; else skipped
        "approvers": [                   # everyone any rule names, without duplicates
          {"type": "user", "user": 12},
          {"type": "role", "role": "finance"},
          {"type": "manager", "level": 1},           # the submitter's manager, N levels up
          {"type": "dealer_admin"},                  # admins of the record's dealer's parent
          {"type": "field", "field": "custom.reviewer"}   # a user field of the record
        ],
        "mode": "any" | "all" | "percent", "percent": 60,
        "when_no_approver": "approve" | "admin" | "reject",
        "sla_hours": 24, "remind_before_hours": 4,
        "on_overdue": "escalate" | "approve" | "reject" | "remind"
      }, ...],
      "on_approve": [<action>...], "on_reject": [...], "on_recall": [...]
    }

Actions: {"type": "set_field", "field": "custom.stage", "value": "signed"}, {"type": "follow_up",
"subject": "...", "assign_to": "submitter" | "owner", "due_in_days": 2}, {"type": "hook", "name":
"quote.price_approval"} (a domain outcome the object registers, workflows/outcomes.py).

Errors come back as one ValidationError mapping locations ("steps[2].approvers[0].role") to
messages, every problem at once.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from accounts.models import Role, User
from metadata import registry
from metadata.filters import validate_filter
from metadata.resolver import resolver_for
from workflows import outcomes

MAX_STEPS = 50  # Salesforce: 30
MAX_APPROVER_RULES = 50  # Salesforce: 25 approvers per step
MAX_ACTIONS = 40
MODES = ["any", "all", "percent"]
NO_APPROVER = ["approve", "admin", "reject"]
OVERDUE = ["escalate", "approve", "reject", "remind"]

FILTER = {"type": ["object", "null"]}  # its shape is the filter checker's to judge
APPROVER = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": ["user", "role", "manager", "dealer_admin", "field"]}},
    "allOf": [
        {
            "if": {"properties": {"type": {"const": kind}}},
            "then": {
                "required": list(extra),
                "properties": {"type": True, **extra},
                "additionalProperties": False,
            },
        }
        for kind, extra in {
            "user": {"user": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
            "role": {"role": {"type": "string", "minLength": 1, "maxLength": 50}},
            "manager": {"level": {"type": "integer", "minimum": 1, "maximum": 10}},
            "dealer_admin": {},
            "field": {"field": {"type": "string", "minLength": 1, "maxLength": 120}},
        }.items()
    ],
}
ACTION = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": ["set_field", "follow_up", "hook"]}},
    "allOf": [
        {
            "if": {"properties": {"type": {"const": kind}}},
            "then": {
                "required": required,
                "properties": {"type": True, **extra},
                "additionalProperties": False,
            },
        }
        for kind, required, extra in (
            ("set_field", ["field", "value"], {"field": {"type": "string", "minLength": 1}, "value": True}),
            (
                "follow_up",
                ["subject"],
                {
                    "subject": {"type": "string", "minLength": 1, "maxLength": 200},
                    "assign_to": {"enum": ["submitter", "owner"]},
                    "due_in_days": {"type": "integer", "minimum": 0, "maximum": 365},
                },
            ),
            ("hook", ["name"], {"name": {"type": "string", "minLength": 1}}),
        )
    ],
}
ACTIONS = {"type": "array", "maxItems": MAX_ACTIONS, "items": ACTION}
STEP = {
    "type": "object",
    "required": ["name", "approvers"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "criteria": FILTER,
        "approvers": {"type": "array", "minItems": 1, "maxItems": MAX_APPROVER_RULES, "items": APPROVER},
        "mode": {"enum": MODES},
        "percent": {"type": "integer", "minimum": 1, "maximum": 100},
        "when_no_approver": {"enum": NO_APPROVER},
        "sla_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 24 * 365},
        "remind_before_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 24 * 365},
        "on_overdue": {"enum": OVERDUE},
    },
    "if": {"properties": {"mode": {"const": "percent"}}, "required": ["mode"]},
    "then": {"required": ["percent"]},
}
SCHEMA = {
    "type": "object",
    "required": ["steps"],
    "additionalProperties": False,
    "properties": {
        "entry": FILTER,
        "lock_record": {"type": "boolean"},
        "allow_recall": {"type": "boolean"},
        "steps": {"type": "array", "minItems": 1, "maxItems": MAX_STEPS, "items": STEP},
        "on_approve": ACTIONS,
        "on_reject": ACTIONS,
        "on_recall": ACTIONS,
    },
}
VALIDATOR = Draft202012Validator(SCHEMA)
DEFAULTS = {"lock_record": True, "allow_recall": True}
STEP_DEFAULTS = {"mode": "any", "when_no_approver": "admin", "on_overdue": "remind"}


def checked(object_key: str, definition) -> dict:
    """`definition` for `object_key`, checked and completed with defaults; ValidationError listing
    every problem by location otherwise."""
    errors: dict[str, list[str]] = {}
    for error in VALIDATOR.iter_errors(definition):
        for path, message in _schema_messages(error):
            errors.setdefault(_location(path), []).append(message)
    for path in _null_characters(definition):  # PostgreSQL cannot store them
        errors.setdefault(_location(path), []).append(_("Remove the NUL character."))
    if errors:
        raise ValidationError(errors)
    try:
        info = registry.describe(object_key)
    except (KeyError, LookupError, ValidationError):
        raise ValidationError({"object": [_("No such object.")]}) from None
    definition = {**DEFAULTS, **definition}
    definition["steps"] = [{**STEP_DEFAULTS, **step} for step in definition["steps"]]
    _check_against_tenant(info, definition, errors)
    if errors:
        raise ValidationError(errors)
    return definition


def _check_against_tenant(info: registry.ObjectInfo, definition: dict, errors: dict) -> None:
    def criteria(location: str, spec):
        if spec is None:
            return None
        try:
            return validate_filter(spec, info.model, resolver=resolver_for(info.key), root=location)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
        return spec

    definition["entry"] = criteria("entry", definition.get("entry"))
    user_fields = {f.path for f in info.fields if f.type == "user"}
    users = {
        rule["user"] for step in definition["steps"] for rule in step["approvers"] if rule["type"] == "user"
    }
    active_users = set(User.objects.filter(pk__in=users, is_active=True).values_list("pk", flat=True))
    roles = set(Role.objects.values_list("code", flat=True))
    for s, step in enumerate(definition["steps"]):
        at = f"steps[{s}]"
        step["criteria"] = criteria(f"{at}.criteria", step.get("criteria"))
        for a, rule in enumerate(step["approvers"]):
            where = f"{at}.approvers[{a}]"
            if rule["type"] == "user" and rule["user"] not in active_users:
                errors.setdefault(f"{where}.user", []).append(_("No active user has this id."))
            if rule["type"] == "role" and rule["role"] not in roles:
                errors.setdefault(f"{where}.role", []).append(_("No role has this code."))
            if rule["type"] == "field" and rule["field"] not in user_fields:
                errors.setdefault(f"{where}.field", []).append(_("Not a user field of this object."))
        remind, sla = step.get("remind_before_hours"), step.get("sla_hours")
        if remind is not None and (sla is None or remind >= sla):
            errors.setdefault(f"{at}.remind_before_hours", []).append(
                _("Remind before the deadline: set sla_hours, larger than this.")
            )
        if step["on_overdue"] != "remind" and sla is None:
            errors.setdefault(f"{at}.on_overdue", []).append(_("An overdue action needs sla_hours."))
    field_paths = outcomes.settable_fields(info)
    for moment in ("on_approve", "on_reject", "on_recall"):
        for i, action in enumerate(definition.get(moment, [])):
            where = f"{moment}[{i}]"
            if action["type"] == "set_field" and action["field"] not in field_paths:
                errors.setdefault(f"{where}.field", []).append(_("Not a field this process may set."))
            if action["type"] == "hook" and action["name"] not in outcomes.hooks_of(info.key):
                errors.setdefault(f"{where}.name", []).append(_("Not an outcome of this object."))


def _schema_messages(error) -> list[tuple[tuple, str]]:
    path, kind, expected = tuple(error.absolute_path), error.validator, error.validator_value
    if kind == "required":
        return [((*path, key), _("This is required.")) for key in expected if key not in error.instance]
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        return [((*path, key), _("Unknown key.")) for key in error.instance if key not in known]
    if kind in ("enum", "const"):
        choices = expected if kind == "enum" else [expected]
        return [(path, _("Choose one of: %(choices)s.") % {"choices": ", ".join(map(str, choices))})]
    if kind == "type":
        return [
            (
                path,
                _("Expected %(type)s.")
                % {"type": expected if isinstance(expected, str) else " or ".join(expected)},
            )
        ]
    if kind in ("minItems", "minLength"):
        return [(path, _("This is required.") if expected == 1 else _("Too short."))]
    if kind in ("maxItems", "maxLength"):
        return [(path, _("At most %(limit)s.") % {"limit": expected})]
    if kind in ("minimum", "exclusiveMinimum"):
        return [
            (
                path,
                _("Must be at least %(limit)s.") % {"limit": expected}
                if kind == "minimum"
                else _("Must be more than %(limit)s.") % {"limit": expected},
            )
        ]
    if kind == "maximum":
        return [(path, _("Must be at most %(limit)s.") % {"limit": expected})]
    return [(path, error.message)]


def _null_characters(value, path=()):
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _null_characters(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _null_characters(item, (*path, index))


def _location(path: tuple) -> str:
    """("steps", 2, "approvers", 0, "role") -> "steps[2].approvers[0].role"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "definition"
