"""Operations on the org tree."""

from django.db import transaction

from accounts.models import OrgUnit


@transaction.atomic
def add_org_unit(*, name: str, parent: OrgUnit | None = None) -> OrgUnit:
    """Create a unit and materialise its path (the id is needed first, hence two writes)."""
    unit = OrgUnit.objects.create(name=name, parent=parent, path="")
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    return unit
