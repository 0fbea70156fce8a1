"""A tenant's configuration as a package: plain JSON, natural keys, no database ids."""

from django.db import connection
from django.utils import timezone

from access.permissions import require_access_admin
from metadata import registry
from metadata.packages.schema import FORMAT, VERSION
from metadata.packages.sections import registered


def export_package(actor) -> dict:
    """The current tenant's objects, fields, validation rules, roles, shared views and sharing
    rules (and every other registered section) as a package matching `PACKAGE_SCHEMA`.
    Administrators only."""
    require_access_admin(actor)
    tenant = getattr(connection, "tenant", None)
    package = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "source": {"tenant": getattr(tenant, "slug", ""), "metadata_version": registry.current_version()[0]},
    }
    for section in registered():
        package[section.name] = section.export()
    return package
