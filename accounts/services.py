"""Operations on the org tree."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from accounts.models import OrgUnit


@transaction.atomic
def add_org_unit(*, name: str, parent: OrgUnit | None = None) -> OrgUnit:
    """Create a unit and materialise its path (the id is needed first, hence two writes)."""
    unit = OrgUnit.objects.create(name=name, parent=parent, path="")
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    return unit


def move_org_unit(*, actor, unit, new_parent: OrgUnit | None):
    """Put a department or team (with everything under it) under another parent, or at the top.
    Records placed in the moved units follow, inline or in the background (see RescopeJob)."""
    from access import rescope
    from access.permissions import require_access_admin
    from crm.records.audit import acting_as
    from crm.records.inputs import pk_of

    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        unit = OrgUnit.objects.select_for_update().get(pk=pk_of(unit))
        parent = OrgUnit.objects.filter(pk=pk_of(new_parent)).first() if new_parent is not None else None
        if new_parent is not None and parent is None:
            raise ValidationError({"parent": [_("Choose an existing org unit.")]})
        if parent is not None and parent.path.startswith(unit.path):
            raise ValidationError({"parent": [_("A unit cannot move under itself or its own units.")]})
        old, new = unit.path, f"{parent.path if parent else '/'}{unit.pk}/"
        if old == new:
            raise ValidationError({"parent": [_("It is already there.")]})
        OrgUnit.objects.filter(path__startswith=old).update(
            path=Concat(Value(new), Substr("path", len(old) + 1))
        )
        OrgUnit.objects.filter(pk=unit.pk).update(parent=parent)
        return rescope.start(
            actor=actor, column="org_path", old_prefix=old, new_prefix=new, description=f"{unit.name}"
        )
