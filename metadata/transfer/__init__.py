"""Import and export of records, driven by the registry: a custom field or a custom object is
exported, read and saved like a standard one.

    export_records(user, "customers.account", filter={...}, columns=["name", "custom.tier"])
    import_records(user, "custom.project", csv_text, mode="upsert", key="custom.code", dry_run=True)
    start_import(user, "customers.account", csv_text)  # an ImportJob a client polls

Exports go through the one scope filter and the filter compiler; imports through each object's
services (metadata/writers.py). Cells are read and written by field type (cells.py).
"""

from metadata.transfer.export import export_records
from metadata.transfer.importer import ImportReport, import_records
from metadata.transfer.jobs import start_import

__all__ = ["ImportReport", "export_records", "import_records", "start_import"]
