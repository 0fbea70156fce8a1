"""The dry run: everything an import would do, found by doing it and rolling it back."""

from django.db import transaction

from access.permissions import require_access_admin
from metadata.packages.plan import Plan
from metadata.packages.run import execute
from metadata.packages.schema import validate_package


def diff_package(actor, package: dict, *, prune: bool = False) -> Plan:
    """What importing `package` into the current tenant would create, change, leave alone and
    refuse (with the services' own reasons: stored data, plan limits, missing targets), and what
    the tenant has that the package lacks. Nothing is written: the import runs through the real
    services in a transaction that is always rolled back, after-commit work included.

    Raises ValidationError (located like "fields[3].type") for a package the schema refuses."""
    require_access_admin(actor)
    validate_package(package)
    with transaction.atomic():
        plan = execute(actor, package, prune=prune)
        transaction.set_rollback(True)
    return plan
