"""Which events an endpoint receives.

Event names are dot-separated and lower case: "<object>.<what happened>" for standard objects
("account.created", "quote.sent", "contract.approved"), "custom.<object>.<what>" for custom
objects ("custom.project.created"). An endpoint subscribes to a list of patterns:

    "account.created"   exactly that event
    "account.*"         every event whose name starts with "account." (created, updated, merged...)
    "custom.*"          every event of every custom object; "custom.project.*" one custom object
    "*"                 every event

A "*" is only allowed alone or as the whole last segment, so a pattern is either a name or a
prefix and matching is a string comparison. Names are not checked against a catalogue: objects
and their events can be added after an endpoint subscribes.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

EVERYTHING = "*"
# The event the "send a test event" button sends; no record event is ever called this.
TEST_EVENT = "webhook.test"
MAX_PATTERNS = 50
PATTERN = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?")
MAX_LENGTH = 150


def matches(patterns: list[str], name: str) -> bool:
    """Does any of `patterns` cover the event `name`?"""
    for pattern in patterns:
        if pattern in (EVERYTHING, name):
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def clean_patterns(value) -> list[str]:
    """The patterns as stored: stripped, lower case, without repeats, in the order given.
    Raises ValidationError on the "events" field."""
    if not isinstance(value, list | tuple) or not value:
        raise ValidationError(
            {"events": [ValidationError(_("Choose at least one event, or “*” for all."), code="required")]}
        )
    if len(value) > MAX_PATTERNS:
        raise ValidationError(
            {
                "events": [
                    ValidationError(
                        _("Subscribe to at most %(max)d events or patterns.") % {"max": MAX_PATTERNS},
                        code="max_length",
                    )
                ]
            }
        )
    cleaned: list[str] = []
    for item in value:
        pattern = item.strip().lower() if isinstance(item, str) else ""
        if len(pattern) > MAX_LENGTH or not (pattern == EVERYTHING or PATTERN.fullmatch(pattern)):
            raise ValidationError(
                {
                    "events": [
                        ValidationError(
                            _("“%(pattern)s” is not an event name or pattern such as “account.*”.")
                            % {"pattern": str(item)[:MAX_LENGTH]},
                            code="invalid",
                        )
                    ]
                }
            )
        if pattern not in cleaned:
            cleaned.append(pattern)
    return cleaned
