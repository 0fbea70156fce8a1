"""Taking a package through the tenant's services, item by item, into a Plan.

Each item is applied in its own savepoint: a refused item is rolled back and reported, and the
rest still run, so one pass finds every refusal. The caller owns the enclosing transaction and
decides its fate (the dry run always rolls it back; an import commits only a plan with no refusal).
"""

import copy

from django.core.exceptions import ValidationError
from django.db import transaction

from crm_platform.errors import ServiceError
from metadata.packages.plan import ABSENT, CHANGE, CREATE, REFUSE, UNCHANGED, Entry, Plan
from metadata.packages.schema import location
from metadata.packages.sections import Section, registered

PRUNED = "delete"


def execute(actor, package: dict, *, prune: bool) -> Plan:
    """Apply `package` in the current transaction and say what each item did."""
    plan = Plan()
    for section in registered():
        plan.entries.extend(_section(actor, section, package.get(section.name, []), prune=prune))
    return plan


def _section(actor, section: Section, items: list[dict], *, prune: bool) -> list[Entry]:
    current = {section.key(item): item for item in section.export()}
    indexed = [(index, {**section.defaults, **copy.deepcopy(item)}) for index, item in enumerate(items)]
    entries = []
    for index, item in section.order(indexed):
        key, where = section.key(item), location((section.name, index))
        changes = section.compare(current[key], item) if key in current else None
        if changes == {}:
            entries.append(Entry(section.name, key, UNCHANGED, where))
            continue
        entry = Entry(section.name, key, CHANGE if changes else CREATE, where, changes=changes or {})
        _attempt(entry, lambda: section.apply(actor, item, changes))  # noqa: B023 (called at once)
        entries.append(entry)
    wanted = {section.key(item) for _index, item in indexed}
    for key, item in current.items():
        if key in wanted:
            continue
        entry = Entry(section.name, key, ABSENT)
        if prune and section.prune is not None:
            entry.action = PRUNED
            _attempt(entry, lambda: section.prune(actor, item))  # noqa: B023
        entries.append(entry)
    entries.sort(key=_position)
    return entries


def _attempt(entry: Entry, action) -> None:
    """Run `action` in a savepoint; a refusal rolls it back and is recorded on the entry."""
    try:
        with transaction.atomic():
            action()
    except ValidationError as error:
        entry.action = REFUSE
        entry.errors = _located(entry.location or entry.key, error)
    except ServiceError as error:
        entry.action = REFUSE
        entry.errors = {entry.location or entry.key: [str(error.detail)]}
        entry.report = getattr(error, "report", None)


def _located(where: str, error: ValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {where: list(error.messages)}
    return {
        where if name == "__all__" else f"{where}.{name}": list(messages)
        for name, messages in error.message_dict.items()
    }


def _position(entry: Entry) -> tuple:
    """Entries in package order, absent ones after."""
    if not entry.location:
        return (1, entry.key)
    return (0, int(entry.location.split("[")[1].split("]")[0]))
