"""Metadata packages: a tenant's configuration exported as versioned JSON (validated by
`PACKAGE_SCHEMA`), compared with another tenant in a dry run, and imported there through the
same services an admin uses, in one transaction. See sections/ for what a package carries."""

from metadata.packages.apply import apply_package
from metadata.packages.diff import diff_package
from metadata.packages.export import export_package
from metadata.packages.plan import Entry, PackageRefused, Plan, PlanChanged
from metadata.packages.schema import PACKAGE_SCHEMA, validate_package

__all__ = [
    "PACKAGE_SCHEMA",
    "Entry",
    "PackageRefused",
    "Plan",
    "PlanChanged",
    "apply_package",
    "diff_package",
    "export_package",
    "validate_package",
]
