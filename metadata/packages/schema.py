"""The JSON Schema of a metadata package (Draft 2020-12), and the check every import runs first.

Errors are located in the package ("fields[3].type") and translated; jsonschema's own wording
never reaches an admin.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from metadata.packages.sections import registered
from metadata.values import value_message

FORMAT = "crm-metadata"
VERSION = 1


def _build() -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://crm.dev/schemas/{FORMAT}/v{VERSION}.json",
        "title": "CRM metadata package",
        "type": "object",
        "properties": {
            "format": {"const": FORMAT},
            "version": {"const": VERSION},
            "exported_at": {"type": "string", "maxLength": 40},
            "source": {
                "type": "object",
                "properties": {
                    "tenant": {"type": "string", "maxLength": 63},
                    "metadata_version": {"type": "integer", "minimum": 0},
                },
            },
            **{
                section.name: {"type": "array", "maxItems": 10_000, "items": section.item_schema}
                for section in registered()
            },
        },
        "required": ["format", "version"],
        "additionalProperties": False,
    }


PACKAGE_SCHEMA = _build()
_VALIDATOR = Draft202012Validator(PACKAGE_SCHEMA)


def validate_package(package) -> None:
    """Refuse a package that does not match the schema or names an item twice, with every
    problem at once as {location: [messages]}."""
    errors: dict[str, list[str]] = {}
    for error in _VALIDATOR.iter_errors(package):
        for path, message in _messages(error):
            errors.setdefault(location(path), []).append(message)
    if not errors:
        errors = _duplicates(package)
    if errors:
        raise ValidationError(errors)


def location(path) -> str:
    """("fields", 3, "type") -> "fields[3].type"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "package"


def _messages(error) -> list[tuple[tuple, str]]:
    path, kind, expected = tuple(error.absolute_path), error.validator, error.validator_value
    if kind == "required":
        return [((*path, name), _("This is required.")) for name in expected if name not in error.instance]
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        return [((*path, name), _("Unknown key.")) for name in error.instance if name not in known]
    return [(path, _message(error, path, kind, expected))]


def _message(error, path: tuple, kind: str, expected) -> str:
    """The package's own wording where it says more; otherwise the engine's value messages."""
    if kind == "const" and path == ("format",):
        return _("Not a CRM metadata package.")
    if kind == "const":
        return _("This CRM reads package version %(version)s.") % {"version": expected}
    if kind == "type" and (expected if isinstance(expected, list) else [expected])[0] == "object":
        return _("Expected an object.")
    if kind == "enum":
        return _("Not one of the allowed values: %(values)s.") % {"values": ", ".join(map(str, expected))}
    if kind in ("minProperties", "maxProperties"):
        return _("Name exactly one grantee.")
    return value_message(error)


def _duplicates(package: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for section in registered():
        seen = set()
        for index, item in enumerate(package.get(section.name, [])):
            key = section.key(item)
            if key in seen:
                errors[location((section.name, index))] = [
                    _("%(key)s appears twice in the package.") % {"key": key}
                ]
            seen.add(key)
    return errors
