"""Natural keys of the rows sections point at: a role by code, an org unit by its path of names
("Sales/East"), so a reference means the same thing in another CRM."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, Role


def unit_paths() -> dict[int, str]:
    """Every org unit's path of names, by id (one query)."""
    units = {unit.pk: unit for unit in OrgUnit.objects.all()}
    return {pk: _unit_path(unit, units) for pk, unit in units.items()}


def _unit_path(unit: OrgUnit, units: dict) -> str:
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    return "/".join(units[pk].name for pk in ids if pk in units)


def role_named(attribute: str, code: str) -> Role:
    """The role with `code`, or a field error on `attribute` naming what is missing."""
    return present(attribute, code, Role.objects.filter(code=code).first())


def unit_at(attribute: str, path: str) -> OrgUnit:
    """The org unit at `path` of names, or a field error on `attribute`."""
    pk = next((pk for pk, found in unit_paths().items() if found == path), None)
    return present(attribute, path, OrgUnit.objects.filter(pk=pk).first() if pk else None)


def present(attribute: str, natural_key: str, row):
    """`row`, or (None) a field error on `attribute` saying `natural_key` is not in this CRM."""
    if row is None:
        raise ValidationError({attribute: [_("Not found in this CRM: %(key)s.") % {"key": natural_key}]})
    return row
