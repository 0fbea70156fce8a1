"""Per-type behaviour of custom fields: the JSON Schema of a value, the checks JSON Schema cannot
express, the stored form, the filter compiler's type, and the options a definition may carry.

One class per type, registered in `TYPES`; `FieldDefinition.type` names one. Values are stored as
JSON: numbers as JSON numbers of at most 15 significant digits (so they round-trip through a float
exactly), dates as "YYYY-MM-DD", date-times in UTC as "...Z", references as record ids.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from metadata.filters import fields as ftypes

MAX_DIGITS = 15


class BadValue(Exception):
    """A value that does not fit its field; the message is translated."""


def _bounds(options: dict, low: str = "minimum", high: str = "maximum") -> dict:
    schema = {}
    if options.get("min") is not None:
        schema[low] = options["min"]
    if options.get("max") is not None:
        schema[high] = options["max"]
    return schema


NUMBER_OPTION = {"type": ["number", "null"]}
CHOICES_OPTION = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1000,
    "items": {
        "type": "object",
        "properties": {
            "value": {"type": "string", "minLength": 1, "maxLength": 100},
            "label_en": {"type": "string", "maxLength": 100},
            "label_zh": {"type": "string", "maxLength": 100},
            "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
        },
        "required": ["value"],
        "additionalProperties": False,
    },
}


class FieldKind:
    """A field type. Subclasses override what differs."""

    name = ""
    filter_type: str | None = None  # the filter compiler's type; None: not filterable
    index_kind: str | None = None  # how an index types the value (see metadata/indexes.py)
    computed = False  # formula, roll-up, auto-number: clients never write the value
    stored = True  # roll-ups are computed on read
    options_schema: dict = {}
    json_type = "string"

    def schema(self, options: dict) -> dict:
        """The JSON Schema of a non-null value."""
        return {"type": self.json_type}

    def clean(self, value, options: dict):
        """The stored form of a value that passed the schema, or BadValue."""
        return value

    def filter_type_of(self, options: dict) -> str | None:
        return self.filter_type

    def index_kind_of(self, options: dict) -> str | None:
        return self.index_kind

    def filter_choices(self, options: dict):
        return None

    def options_errors(self, options: dict) -> dict[str, str]:
        """Problems of a definition's options beyond their JSON Schema, by option name."""
        return {}


class Text(FieldKind):
    name, filter_type, index_kind = "text", ftypes.TEXT, "text"
    default_max = 255
    max_max = 10_000
    options_schema = {
        "max_length": {"type": "integer", "minimum": 1},
        "min_length": {"type": "integer", "minimum": 0},
        "pattern": {"type": "string", "maxLength": 500},
    }

    def schema(self, options):
        schema = {"type": "string", "maxLength": options.get("max_length") or self.default_max}
        if options.get("min_length"):
            schema["minLength"] = options["min_length"]
        if options.get("pattern"):
            schema["pattern"] = options["pattern"]
        return schema

    def clean(self, value, options):
        return value.strip()

    def options_errors(self, options):
        errors = {}
        if (options.get("max_length") or 0) > self.max_max:
            errors["max_length"] = _("At most %(limit)s.") % {"limit": self.max_max}
        if options.get("pattern"):
            import re

            try:
                re.compile(options["pattern"])
            except re.error:
                errors["pattern"] = _("Not a valid regular expression.")
        return errors


class LongText(Text):
    name, index_kind = "long_text", None
    default_max = 32_000
    max_max = 131_072


class Number(FieldKind):
    """A whole number."""

    name, filter_type, index_kind, json_type = "number", ftypes.INTEGER, "numeric", "integer"
    options_schema = {"min": NUMBER_OPTION, "max": NUMBER_OPTION}

    def schema(self, options):
        return {"type": "integer", "minimum": -(10**15) + 1, "maximum": 10**15 - 1, **_bounds(options)}

    def clean(self, value, options):
        return int(value)


class DecimalKind(FieldKind):
    name, filter_type, index_kind, json_type = "decimal", ftypes.DECIMAL, "numeric", "number"
    default_places = 2
    options_schema = {
        "min": NUMBER_OPTION,
        "max": NUMBER_OPTION,
        "decimal_places": {"type": "integer", "minimum": 0, "maximum": 8},
    }

    def places(self, options) -> int:
        places = options.get("decimal_places")
        return self.default_places if places is None else places

    def schema(self, options):
        return {"type": "number", **_bounds(options)}

    def clean(self, value, options):
        number = Decimal(str(value))
        places = self.places(options)
        if number != number.quantize(Decimal(1).scaleb(-places), rounding="ROUND_DOWN"):
            raise BadValue(_("At most %(places)s decimal places.") % {"places": places})
        if len(number.normalize().as_tuple().digits) > MAX_DIGITS:
            raise BadValue(_("At most %(digits)s significant digits.") % {"digits": MAX_DIGITS})
        return int(number) if number == number.to_integral_value() else float(number)


class Currency(DecimalKind):
    """An amount in the field's currency (`options.currency`, default the tenant's)."""

    name = "currency"
    options_schema = {**DecimalKind.options_schema, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}


class Percent(DecimalKind):
    """12.5 means 12.5 %."""

    name = "percent"


class Date(FieldKind):
    name, filter_type, index_kind = "date", ftypes.DATE, "date"

    def schema(self, options):
        return {"type": "string", "maxLength": 10}

    def clean(self, value, options):
        try:
            if len(value) == 10:
                return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
        raise BadValue(_("Expected a date such as 2026-03-31."))


class DateTime(FieldKind):
    name, filter_type, index_kind = "datetime", ftypes.DATETIME, "datetime"

    def schema(self, options):
        return {"type": "string", "maxLength": 40}

    def clean(self, value, options):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise BadValue(_("Expected a date and time such as 2026-03-31T09:30:00+08:00."))
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
        return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Boolean(FieldKind):
    name, filter_type, index_kind, json_type = "boolean", ftypes.BOOLEAN, "boolean", "boolean"


class Select(FieldKind):
    name, filter_type, index_kind = "select", ftypes.CHOICE, "text"
    options_schema = {"choices": CHOICES_OPTION}

    def values(self, options) -> list[str]:
        return [choice["value"] for choice in options.get("choices", [])]

    def schema(self, options):
        return {"type": "string", "enum": self.values(options)}

    def filter_choices(self, options):
        return self.values(options)

    def options_errors(self, options):
        values = self.values(options)
        if not values:
            return {"choices": _("Give at least one choice.")}
        if len(set(values)) != len(values):
            return {"choices": _("Each choice must be different.")}
        return {}


class MultiSelect(Select):
    name, filter_type, index_kind = "multi_select", ftypes.MULTI, None
    options_schema = {**Select.options_schema, "max_items": {"type": "integer", "minimum": 1}}

    def schema(self, options):
        schema = {"type": "array", "uniqueItems": True, "items": {"enum": self.values(options)}}
        if options.get("max_items"):
            schema["maxItems"] = options["max_items"]
        return schema


class Email(FieldKind):
    name, filter_type, index_kind = "email", ftypes.TEXT, "text"

    def schema(self, options):
        return {"type": "string", "maxLength": 254}

    def clean(self, value, options):
        value = value.strip()
        try:
            EmailValidator()(value)
        except DjangoValidationError:
            raise BadValue(_("Enter a valid e-mail address.")) from None
        local, _at, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"


class Phone(FieldKind):
    """Standardised like the standard objects' phones (E.164, mainland China by default)."""

    name, filter_type, index_kind = "phone", ftypes.TEXT, "text"

    def schema(self, options):
        return {"type": "string", "maxLength": 40}

    def clean(self, value, options):
        from crm.customers import normalize

        try:
            return normalize.phone(value, field="value")
        except DjangoValidationError:
            raise BadValue(_("Enter a valid phone number.")) from None


class Url(FieldKind):
    name, filter_type, index_kind = "url", ftypes.TEXT, "text"

    def schema(self, options):
        return {"type": "string", "maxLength": 2000}

    def clean(self, value, options):
        value = value.strip()
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError:
            raise BadValue(_("Enter a valid URL (http or https).")) from None
        return value


class Reference(FieldKind):
    """The id of a record; lookups name their target object in `options.target`."""

    filter_type, index_kind, json_type = ftypes.REFERENCE, "numeric", "integer"

    def schema(self, options):
        return {"type": "integer", "minimum": 1}


class Lookup(Reference):
    name = "lookup"
    options_schema = {"target": {"type": "string", "maxLength": 100}}


class User(Reference):
    name = "user"


class File(Reference):
    """The id of an attachment of the record."""

    name, filter_type = "file", None


class AutoNumber(FieldKind):
    """Numbered on creation from `options.format` ("{yyyy}{mm}-{seq:05d}")."""

    name, filter_type, index_kind, computed = "auto_number", ftypes.TEXT, "text", True
    options_schema = {"format": {"type": "string", "minLength": 1, "maxLength": 100}}

    def options_errors(self, options):
        try:
            (options.get("format") or "{seq}").format(yyyy="2026", yy="26", mm="01", dd="01", seq=1)
        except (KeyError, IndexError, ValueError):
            return {"format": _("Use {yyyy}, {yy}, {mm}, {dd} and {seq}, e.g. PRJ-{seq:05d}.")}
        return {}


class Formula(FieldKind):
    """Computed from the record's other fields on every save (metadata/formulas)."""

    name, computed = "formula", True
    options_schema = {
        "expression": {"type": "string", "minLength": 1, "maxLength": 2000},
        "result_type": {"enum": ["number", "text", "boolean", "date", "datetime", "list"]},
    }
    # The formula's result type (set when the definition is checked) decides filtering and indexing.
    RESULT_TYPES = {
        "number": (ftypes.DECIMAL, "numeric"),
        "text": (ftypes.TEXT, "text"),
        "boolean": (ftypes.BOOLEAN, "boolean"),
        "date": (ftypes.DATE, "date"),
        "datetime": (ftypes.DATETIME, "datetime"),
    }

    def filter_type_of(self, options):
        return self.RESULT_TYPES.get(options.get("result_type"), (None, None))[0]

    def index_kind_of(self, options):
        return self.RESULT_TYPES.get(options.get("result_type"), (None, None))[1]

    def schema(self, options):
        return {}


class Rollup(FieldKind):
    """count/sum/avg/min/max over related records, computed on read (metadata/rollups.py)."""

    name, computed, stored = "rollup", True, False
    options_schema = {
        "child": {"type": "string", "maxLength": 100},
        "relation": {"type": "string", "maxLength": 100},
        "function": {"enum": ["count", "sum", "avg", "min", "max"]},
        "field": {"type": "string", "maxLength": 100},
        "filter": {"type": "object"},
    }

    def schema(self, options):
        return {}


TYPES: dict[str, FieldKind] = {
    kind.name: kind
    for kind in (
        Text(),
        LongText(),
        Number(),
        DecimalKind(),
        Currency(),
        Percent(),
        Date(),
        DateTime(),
        Boolean(),
        Select(),
        MultiSelect(),
        Email(),
        Phone(),
        Url(),
        Lookup(),
        User(),
        File(),
        AutoNumber(),
        Formula(),
        Rollup(),
    )
}


def kind_of(type_name: str) -> FieldKind:
    return TYPES[type_name]


def to_python(type_name: str, value):
    """A stored value as Python: Decimal numbers, date/datetime objects; others unchanged."""
    if value is None:
        return None
    if type_name in ("decimal", "currency", "percent"):
        return Decimal(str(value))
    if type_name == "date":
        return date.fromisoformat(value)
    if type_name == "datetime":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value
