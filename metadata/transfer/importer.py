"""Importing records from CSV through the services, row by row.

The header names registry fields by API path, as an export writes them. Each row is read into the
fields' types and saved by the object's service (metadata/writers.py) in a savepoint of its own: a bad row
is reported where it is (``rows[17].custom.tier``, rows counted from 1 after the header) and the
others go on. Columns the services do not take (id, times, owner and placement, computed fields)
are read past and listed in the report as ignored: records are placed like any record the
importing user creates.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from access.permissions import field_rules, require
from crm_platform.errors import ServiceError
from metadata import registry, writers
from metadata.transfer.cells import BadCell, parse
from metadata.transfer.columns import readable_fields, writable

MODES = ("create", "upsert")
MAX_ERRORS = 1000  # locations kept in a report; the counts stay exact


@dataclass
class ImportReport:
    """What an import did: counts per outcome and the problems by location."""

    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: dict[str, list[str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # columns read past (see the module docstring)

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for location, messages in errors.items():
            if len(self.errors) >= MAX_ERRORS:
                return
            self.errors.setdefault(location, []).extend(str(message) for message in messages)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "errors": self.errors,
            "ignored": self.ignored,
        }


def import_records(
    user, object_key: str, source, *, mode: str = "create", key: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Create (mode "create") or create-or-update (mode "upsert", matching on `key`: "id" or a
    unique custom field such as "custom.erp_code") records of `object_key` from a CSV file (text,
    bytes or a file). A header problem refuses the whole file (ValidationError located
    ``header[3]``, columns counted from 1); a row problem fails that row only. With `dry_run`,
    every row is checked and saved as it would be, then everything is rolled back."""
    rows = read_csv(source)
    importer = Importer(user, object_key, next(rows, []), mode=mode, key=key)
    report = importer.report()
    with transaction.atomic():
        for number, cells in enumerate(rows, start=1):
            importer.import_row(number, cells, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def read_csv(source) -> Iterator[list[str]]:
    """The rows of a CSV file given as text, bytes or a (text or binary) file; a UTF-8 byte order
    mark is dropped and wholly empty lines are skipped."""
    if hasattr(source, "read"):
        source = source.read()
    if isinstance(source, bytes):
        source = source.decode("utf-8-sig")
    source = source.removeprefix(codecs.BOM_UTF8.decode())
    return (row for row in csv.reader(io.StringIO(source, newline="")) if any(cell.strip() for cell in row))


class Importer:
    """One header resolved against one object for one user; imports rows one at a time."""

    def __init__(self, user, object_key: str, header: list[str], *, mode: str, key: str | None):
        self.user = user
        self.info = registry.describe(object_key)
        self.adapter = writers.writer_for(self.info)
        if self.adapter.create is None:
            message = _("%(object)s cannot be imported yet.") % {"object": self.info.label()}
            raise ValidationError({"object": [message]})
        if mode == "create":  # upserts are checked row by row by the services, create or update
            require(user, self.info.key, "create")
        self.mode, self.key = mode, key
        self.columns, self.ignored = self._resolve(header)
        self._check_mode()

    def report(self) -> ImportReport:
        return ImportReport(ignored=list(self.ignored))

    def import_row(self, number: int, cells: list[str], report: ImportReport) -> None:
        """Save row `number` in a savepoint of its own, counting the outcome in `report`."""
        where = f"rows[{number}]"
        try:
            values, key_value = self._values(cells)
            with transaction.atomic():
                record = self._match(key_value)
                if record is None:
                    self.adapter.create(self.user, self.info, values)
                    report.created += 1
                else:
                    writers.operation(self.info, "update")(self.user, self.info, record, values)
                    report.updated += 1
        except ValidationError as error:
            report.failed += 1
            report.add_errors(_located(where, error))
        except ServiceError as error:  # not found, no right: about the row as a whole
            report.failed += 1
            report.add_errors({where: [str(error.detail)]})
        except IntegrityError:  # a concurrent writer won a unique value: this row only
            report.failed += 1
            report.add_errors({where: [_("This row conflicts with a record saved meanwhile.")]})

    # --- the header -----------------------------------------------------------------------

    def _resolve(self, header: list[str]) -> tuple[list, list[str]]:
        """[(index, field or None)] for each column, and the paths of the columns read past."""
        if not header:
            raise ValidationError({"header": [_("The file has no header row.")]})
        readable = readable_fields(self.info, self.user)
        rules = field_rules(self.user, self.info.key)
        errors, columns, ignored, seen = {}, [], [], set()
        for index, name in enumerate(header):
            path = name.strip()
            where = f"header[{index + 1}]"
            found = readable.get(path)
            if found is None:
                errors[where] = [_("Unknown field.")]
            elif path in seen:
                errors[where] = [_("This column appears twice.")]
            elif self._takes(found) and not writable(rules, found):
                errors[where] = [_("You may not change this field.")]
            elif self._takes(found) or path == self.key:
                columns.append((index, found))
            else:
                ignored.append(path)
            seen.add(path)
        if errors:
            raise ValidationError(errors)
        self.width = len(header)
        return columns, ignored

    def _takes(self, found: registry.Field) -> bool:
        if found.standard:
            return found.name in self.adapter.fields
        return not found.read_only

    def _check_mode(self) -> None:
        if self.mode not in MODES:
            raise ValidationError({"mode": [_('Choose "create" or "upsert".')]})
        if self.mode == "create":
            self.key_field = None
            return
        if self.adapter.update is None:
            message = _("Records of %(object)s can only be created by an import.")
            raise ValidationError({"mode": [message % {"object": self.info.label()}]})
        self.key_field = self._key_field()

    def _key_field(self) -> registry.Field:
        found = next((f for _i, f in self.columns if f.path == self.key), None)
        usable = self.key == "id" or (found is not None and not found.standard and found.unique)
        if not usable:
            raise ValidationError({"key": [_('Match on "id" or a unique custom field in the file.')]})
        if found is None:
            raise ValidationError({"key": [_("The file has no column for this key.")]})
        return found

    # --- a row ----------------------------------------------------------------------------

    def _values(self, cells: list[str]) -> tuple[dict, object]:
        """The service's keyword arguments for a row, and the row's key value (upsert)."""
        if len(cells) != self.width:
            message = _("Expected %(expected)s cells, found %(found)s.")
            raise ValidationError({"": [message % {"expected": self.width, "found": len(cells)}]})
        values, custom, errors, key_value = {}, {}, {}, None
        for index, found in self.columns:
            try:
                value = parse(found, cells[index])
            except BadCell as error:
                errors[found.path] = [str(error)]
                continue
            if found is self.key_field:
                key_value = value
            if not self._takes(found):
                continue
            if not found.standard:
                custom[found.name] = value
            elif value is not None:
                values[found.name] = value
            else:
                empty = _empty_value(self.info.model._meta.get_field(found.name))
                if empty is not KEEP:
                    values[found.name] = empty
        if errors:
            raise ValidationError(errors)
        if custom:
            values["custom"] = custom
        return values, key_value

    def _match(self, key_value):
        """The visible record the row updates (upsert), or None to create one."""
        if self.key_field is None or key_value is None:
            return None
        return writers.match(self.user, self.info, self.key_field, key_value)


KEEP = object()


def _empty_value(model_field):
    """What an empty cell sets a standard field to: NULL or "" where the field allows it; else the
    field keeps its value (or gets its default), as a blank in a form would not clear it."""
    if model_field.null:
        return None
    if model_field.blank and model_field.empty_strings_allowed:
        return ""
    return KEEP


def _located(where: str, error: ValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {where: list(error.messages)}
    return {
        where if name in ("", "__all__") else f"{where}.{name}": messages
        for name, messages in error.message_dict.items()
    }
