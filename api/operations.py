"""The record operations both APIs offer, written once: REST views and GraphQL resolvers only
translate their protocol into these calls. Reading goes through metadata/query.py (the scope
filter, the filter compiler, keyset pages), writing through metadata/writers.py and
metadata/actions.py (the objects' services)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException

from access.permissions import require
from api import representation
from api.inputs import writer_values
from crm_platform.errors import NotFound
from metadata import actions, query, registry, writers
from metadata.views.fields import ViewFields

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class PreconditionFailed(APIException):
    status_code = 412
    default_code = "precondition_failed"
    default_detail = _("The record changed since you read it: read it again, then retry your change.")


@dataclass(frozen=True)
class Listing:
    rows: list[dict]  # in the API's shape (api/representation.py)
    cursors: list[str]
    next_cursor: str | None


def fields_for(user, object_key: str, action: str = "read") -> ViewFields:
    """`user`'s fields of `object_key`, once they may `action` its records at all; an unknown
    object is not found."""
    try:
        fields = ViewFields(object_key, user)
    except ValidationError:
        raise NotFound(_("Unknown object %(key)s.") % {"key": object_key}) from None
    require(user, fields.object.key, action)
    return fields


def list_records(fields: ViewFields, *, filter=None, sort=(), columns=None, after=None, limit=DEFAULT_LIMIT):
    """A page of the records `fields.user` may see. `columns` are field paths (None: every
    readable one); naming a field the user cannot read is a field error, as is a bad filter."""
    errors = {}
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = [_("A whole number from 1 to %(max)s.") % {"max": MAX_LIMIT}]
    if filter is not None and not isinstance(filter, dict):
        errors["filter"] = [_("Send the filter as an object in the filter language.")]
    if errors:
        raise ValidationError(errors)
    queryset = query.filtered(fields, filter)
    keys = query.sort_keys(fields, sort, strict=True)
    chosen = query.readable_columns(fields, columns, strict=True)
    page = query.page(fields, queryset, keys, chosen, after=after, limit=limit)
    return Listing(representation.shaped(fields, chosen, page.rows), page.cursors, page.next_cursor)


def current(fields: ViewFields, pk) -> dict:
    """Record `pk` as `fields.user` sees it (every readable field); NotFound when it is not theirs."""
    return representation.one(fields, fields.object.queryset().visible_to(fields.user), pk)


def create(fields: ViewFields, body) -> dict:
    """Create a record from `body` (the API shape); the new record as its creator sees it."""
    require(fields.user, fields.object.key, "create")
    operation = writers.operation(fields.object, "create")
    values = writer_values(fields, body)
    with transaction.atomic():
        record = operation(fields.user, fields.object, values)
        return current(fields, record.pk)


def update(fields: ViewFields, pk, body, *, if_match: str | None = None, override_lock: bool = False) -> dict:
    """Change record `pk`. With `if_match`, refused (412) unless it is still the ETag of the record
    as the caller sees it, compared under the row lock the change holds. A record waiting for an
    approval that locks it is refused (409), unless an administrator sends `override_lock`."""
    operation = writers.operation(fields.object, "update", override_lock=override_lock)
    values = writer_values(fields, body)
    with transaction.atomic():
        record = writers.fetch(fields.user, fields.object, pk, for_update=True)
        _check_precondition(fields, pk, if_match)
        operation(fields.user, fields.object, record, values)
        return current(fields, pk)


def delete(fields: ViewFields, pk, *, if_match: str | None = None, override_lock: bool = False) -> None:
    operation = writers.operation(fields.object, "delete", override_lock=override_lock)
    with transaction.atomic():
        record = writers.fetch(fields.user, fields.object, pk, for_update=True)
        _check_precondition(fields, pk, if_match)
        operation(fields.user, fields.object, record)


def run_action(fields: ViewFields, pk, name: str, arguments) -> tuple[str, dict]:
    """Run action `name` on record `pk`: (the object key of the record it answers with, that
    record as far as the caller may still see it — a released account reads as its id only)."""
    found = actions.action(fields.object.key, name)
    arguments = actions.checked_arguments(found, arguments)
    with transaction.atomic():
        record = writers.fetch(fields.user, fields.object, pk)
        result = found.run(fields.user, record, **arguments)
    key = registry.object_key_of(result)
    result_fields = fields if key == fields.object.key else ViewFields(key, fields.user)
    try:
        return key, current(result_fields, result.pk)
    except NotFound:
        return key, {"id": result.pk}


def _check_precondition(fields: ViewFields, pk, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    tag = representation.etag(current(fields, pk))
    if tag not in [item.strip().removeprefix("W/") for item in if_match.split(",")]:
        raise PreconditionFailed()
