"""Reading the approval endpoints' input: each value checked for its JSON type before any
service runs, every problem a field error, all of them at once. The services check the rest
(whether the user exists, the step is earlier...).

Nothing that cannot be stored reaches the database: text without NUL characters, whole numbers
within a bigint.
"""

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

MAX_ID = 2**63 - 1
MAX_COMMENT = 10_000


class Reader:
    """Values of one body, with the problems found so far; `done()` raises them."""

    def __init__(self, body):
        if not isinstance(body, dict):
            raise ValidationError(_("Send a JSON object."))
        self.body = body
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, name: str, *, required=False, default="", max_length=MAX_COMMENT) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.fail(name, _("This is required."))
            return default
        if not isinstance(value, str):
            self.fail(name, _("Expected text."))
        elif "\x00" in value:
            self.fail(name, _("Remove the NUL character."))
        elif len(value) > max_length:
            self.fail(name, _("At most %(limit)s characters.") % {"limit": max_length})
        elif required and not value.strip():
            self.fail(name, _("This is required."))
        else:
            return value
        return default

    def whole(self, name: str, *, required=False) -> int | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.fail(name, _("This is required."))
            return None
        number = whole_number(value)
        if number is None:
            self.fail(name, _("Expected an id (a whole number from 1)."))
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.body.get(name, default)
        if isinstance(value, str) and value.lower() in ("true", "false"):  # a multipart form
            value = value.lower() == "true"
        if not isinstance(value, bool):
            self.fail(name, _("Expected true or false."))
            return default
        return value

    def moment(self, name: str) -> datetime | None:
        value = self.body.get(name)
        parsed = None
        if isinstance(value, str) and "\x00" not in value:
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
        if parsed is not None:
            try:
                parsed = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
                parsed.astimezone(UTC)  # stored in UTC: within years 1 to 9999 there too
            except (OverflowError, ValueError):
                parsed = None
        if parsed is None:
            self.fail(name, _("Expected a date and time (ISO 8601)."))
        return parsed

    def step(self, name: str):
        """An earlier step: its index or its name."""
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, str) and "\x00" not in value and len(value) <= 100:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_ID:
            return value
        self.fail(name, _("Name an earlier step by its index or name."))
        return None

    def done(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def whole_number(value) -> int | None:
    """An id: an int, or its digits (a multipart form sends text); None for anything else."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
        return value
    return None


def storable_json_problems(value, location: str) -> dict[str, list[str]]:
    """Where `value` (any JSON) holds what PostgreSQL's jsonb cannot keep, or a number no id
    column can: NUL characters, integers beyond a bigint."""
    found: dict[str, list[str]] = {}

    def walk(item, at: str) -> None:
        if isinstance(item, str) and "\x00" in item:
            found.setdefault(at, []).append(_("Remove the NUL character."))
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_ID:
            found.setdefault(at, []).append(_("Must be at most %(limit)s.") % {"limit": MAX_ID})
        elif isinstance(item, dict):
            for key, sub in item.items():
                if "\x00" in key:
                    found.setdefault(at, []).append(_("Remove the NUL character."))
                else:
                    walk(sub, f"{at}.{key}")
        elif isinstance(item, list):
            for index, sub in enumerate(item):
                walk(sub, f"{at}[{index}]")

    walk(value, location)
    return found
