"""What an import does or would do: one entry per item of the package (and per item the target
has that the package lacks), each created, changed, left alone, refused or absent."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from crm_platform.errors import Conflict

CREATE, CHANGE, UNCHANGED, REFUSE, ABSENT = "create", "change", "unchanged", "refuse", "absent"


@dataclass
class Entry:
    """One item. `location` is where it sits in the package ("fields[3]"), `key` its natural key
    ("customers.account.tier"); `changes` maps an attribute to [old, new]; `errors` are located
    like "fields[3].options.target"; `report` is a data-conflict report when there is one."""

    section: str
    key: str
    action: str
    location: str = ""
    changes: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    report: dict | None = None

    def as_dict(self) -> dict:
        found = {"section": self.section, "key": self.key, "action": self.action}
        if self.location:
            found["location"] = self.location
        for name in ("changes", "errors", "report"):
            if getattr(self, name):
                found[name] = getattr(self, name)
        return found


@dataclass
class Plan:
    """The dry run's answer, and what `apply_package` executed (`applied`)."""

    entries: list[Entry] = field(default_factory=list)
    applied: bool = False

    def of(self, action: str, section: str | None = None) -> list[Entry]:
        return [e for e in self.entries if e.action == action and section in (None, e.section)]

    @property
    def refused(self) -> list[Entry]:
        return self.of(REFUSE)

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def is_noop(self) -> bool:
        return all(e.action in (UNCHANGED, ABSENT) for e in self.entries)

    def errors(self) -> dict[str, list[str]]:
        """Every refusal's errors, located in the package."""
        found: dict[str, list[str]] = {}
        for entry in self.refused:
            for location, messages in entry.errors.items():
                found.setdefault(location, []).extend(messages)
        return found

    def signature(self) -> list[tuple]:
        """What an admin approved in a dry run: compared by `apply_package(expected=...)`."""
        return [(e.section, e.key, e.action, repr(sorted(e.changes.items()))) for e in self.entries]

    def as_dict(self) -> dict:
        return {"applied": self.applied, "entries": [entry.as_dict() for entry in self.entries]}


class PackageRefused(Conflict):
    """The package cannot be imported as a whole; `plan` says which items and why."""

    kind = "package-refused"

    def __init__(self, plan: Plan, detail=""):
        super().__init__(detail or _("The package cannot be imported; nothing was changed."))
        self.plan = plan

    def as_problem(self) -> dict:
        return {**super().as_problem(), "errors": self.plan.errors(), "plan": self.plan.as_dict()}


class PlanChanged(Conflict):
    """The tenant changed since the dry run the admin approved."""

    kind = "package-plan-changed"
