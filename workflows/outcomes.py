"""What happens to the record when a request ends: the definition's final actions.

- set_field: through the object's writer (metadata/writers.py), as the system, so the services'
  validation holds;
- follow_up: a reminder for the submitter or the record's owner, due some days later;
- hook: a domain outcome an object registers here ("quote.price_approval" tells the quote it was
  approved or not), for states only the object's services may change.

Actions run in the request's transaction: if one fails, the decision fails with it and nothing
is half done.
"""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.records.services import remind
from metadata import registry

# object key -> hook name -> callable(record, outcome, comment) where outcome is "approved",
# "rejected" or "recalled".
_hooks: dict[str, dict[str, Callable]] = {}


def hook(object_key: str, name: str):
    """Decorator: register a domain outcome `name` for `object_key`'s processes."""

    def register(function: Callable) -> Callable:
        _hooks.setdefault(object_key, {})[name] = function
        return function

    return register


def hooks_of(object_key: str) -> dict[str, Callable]:
    return _hooks.get(object_key, {})


def settable_fields(info: registry.ObjectInfo) -> set[str]:
    """The fields a set_field action may name: those the object's writer takes."""
    from metadata.writers import writer_for

    takes = writer_for(info).fields
    return {f.path for f in info.fields if (f.name in takes if f.standard else not f.read_only)}


def run(request, record, moment: str, *, comment: str = "") -> None:
    """Run the definition's actions for `moment` ("on_approve", "on_reject", "on_recall")."""
    outcome = {"on_approve": "approved", "on_reject": "rejected", "on_recall": "recalled"}[moment]
    for action in request.definition.get(moment, []):
        if action["type"] == "set_field":
            _set_field(request, record, action["field"], action["value"])
        elif action["type"] == "follow_up":
            _follow_up(request, record, action)
        else:
            hooks_of(request.object)[action["name"]](record, outcome, comment)


def _set_field(request, record, path: str, value) -> None:
    from metadata.writers import writer_for
    from workflows.locks import unlocked

    info = registry.describe(request.object)
    name = path.removeprefix("custom.")
    values = {"custom": {name: value}} if path.startswith("custom.") else {path: value}
    with unlocked():
        writer_for(info).update(None, info, record, values)


def _follow_up(request, record, action: dict) -> None:
    user = request.submitted_by
    if action.get("assign_to") == "owner":
        user = getattr(record, "owner", None) or user
    if user is None:
        return
    due = timezone.now() + timedelta(days=action.get("due_in_days", 1))
    remind(user, "approval_follow_up", record, action["subject"] or _("Follow up"), due)
