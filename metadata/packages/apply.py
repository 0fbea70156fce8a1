"""The import: the whole package through the services in one transaction, or nothing."""

from django.db import transaction
from django.utils.translation import gettext as _

from access.permissions import require_access_admin
from metadata.packages.plan import PackageRefused, Plan, PlanChanged
from metadata.packages.run import execute
from metadata.packages.schema import validate_package


def apply_package(actor, package: dict, *, expected: Plan | None = None, prune: bool = False) -> Plan:
    """Import `package` into the current tenant and return the plan executed. All or nothing:
    any refused item raises PackageRefused (with the plan) and nothing is kept. With `expected`
    (the plan of the dry run an admin approved), a tenant that changed since refuses with
    PlanChanged. With `prune`, items the package lacks are deleted (fields and rules deleted,
    objects and sharing rules deactivated); otherwise they are only reported as absent."""
    require_access_admin(actor)
    validate_package(package)
    with transaction.atomic():
        plan = execute(actor, package, prune=prune)
        if not plan.ok:
            raise PackageRefused(plan)
        if expected is not None and expected.signature() != plan.signature():
            raise PlanChanged(_("This CRM changed since the dry run; run it again and review the new plan."))
        plan.applied = True
    return plan
