"""Exporting the records a user may see as CSV, column by column from the registry."""

import codecs
import csv
import io
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from access.permissions import require
from metadata import registry
from metadata.filters import FilterContext, compile_filter
from metadata.resolver import resolver_for
from metadata.transfer.cells import render
from metadata.transfer.columns import readable_fields

BATCH = 1000


def export_records(user, object_key: str, *, filter=None, columns=None) -> Iterator[str]:
    """The records of `object_key` that `user` may see (the one scope filter), narrowed by
    `filter` (the filter language), as CSV lines: a UTF-8 byte order mark so Excel reads Chinese,
    a header of API names ("name", "custom.tier"), then one line per record in id order.

    `columns` are paths of fields the user may read (default: all of them). Needs the "export"
    right on the object. Rights, columns and the filter are checked before the first line; the
    rows are read in keyset batches, never all at once."""
    info = registry.describe(object_key)
    require(user, info.key, "export")
    fields = _columns(info, user, columns)
    queryset = info.queryset().visible_to(user)
    if filter:
        context = FilterContext(user=user)
        queryset = queryset.filter(
            compile_filter(filter, info.model, context=context, resolver=resolver_for(info.key, user))
        )
    return _lines(queryset, fields)


def _columns(info: registry.ObjectInfo, user, columns) -> list[registry.Field]:
    readable = readable_fields(info, user)
    if columns is None:
        return list(readable.values())
    if not isinstance(columns, list | tuple) or not columns:
        raise ValidationError({"columns": [_("Name at least one column.")]})
    errors = {
        f"columns[{n}]": [_("Unknown field.")] for n, path in enumerate(columns) if path not in readable
    }
    if errors:
        raise ValidationError(errors)
    return [readable[path] for path in columns]


def _lines(queryset, fields: list[registry.Field]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield codecs.BOM_UTF8.decode() + line([field.path for field in fields])
    columns = [_attname(queryset.model, field) for field in fields]
    standard = [column for column in columns if column is not None]
    last = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", "custom", *standard)[:BATCH]
        )
        for _pk, custom, *values in batch:
            by_column = dict(zip(standard, values, strict=True))
            yield line(
                render(by_column[column] if column is not None else (custom or {}).get(field.name))
                for field, column in zip(fields, columns, strict=True)
            )
        if len(batch) < BATCH:
            return
        last = batch[-1][0]


def _attname(model, field: registry.Field) -> str | None:
    """The column holding a standard field ("owner_id" for "owner"); None for a custom field."""
    if not field.standard:
        return None
    return model._meta.get_field(field.name).attname
