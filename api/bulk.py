"""Bulk writes: up to 1,000 records of one object per request.

    POST /api/v1/records/<object>/bulk (REST) · bulk_<object>(...) (GraphQL)
    {"mode": "create" | "update" | "upsert", "key": "id" | "custom.<unique field>",
     "atomic": true, "records": [{...}, ...]}

"update" finds each record by its key value (default "id"), "upsert" creates the records it
does not find. Every record goes through the object's writer in a savepoint of its own.
With "atomic" (the default) one failure rolls everything back and the answer is a 400 problem
with every error located (`records[3].custom.tier`); without it each record stands alone and the
answer lists each outcome: {"index", "status": 201 | 200 | 4xx, "id" | "errors"}.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions

from api.inputs import writer_values
from api.problems import problem_errors
from crm_platform.errors import ServiceError
from metadata import registry, writers
from metadata.views.fields import ViewFields

MAX_RECORDS = 1000
MODES = ("create", "update", "upsert")


def bulk_write(fields: ViewFields, body) -> list[dict]:
    """Write the records of a bulk request (the shape above) as `fields.user`; the outcome of
    each. All or nothing: the first failures raise, located, and nothing is kept."""
    mode, key, atomic, records = _request(fields, body)
    results = []
    with transaction.atomic():
        for index, record in enumerate(records):
            results.append(_write_one(fields, mode, key, index, record))
        failed = [result for result in results if result["status"] >= 400]
        if atomic and failed:
            # Raised, not returned: the caller's whole transaction rolls back (an idempotency key too).
            raise exceptions.ValidationError(_located_errors(failed))
    return results


def _request(fields: ViewFields, body) -> tuple:
    if not isinstance(body, dict):
        raise ValidationError({"": [_("Send a JSON object.")]})
    errors = {}
    mode = body.get("mode", "create")
    if mode not in MODES:
        errors["mode"] = [_('Choose "create", "update" or "upsert".')]
    key = body.get("key", "id")
    key_field = _key_field(fields, key) if mode != "create" else None
    if mode != "create" and key_field is None:
        errors["key"] = [_('Match on "id" or a unique custom field.')]
    atomic = body.get("atomic", True)
    if not isinstance(atomic, bool):
        errors["atomic"] = [_("Expected true or false.")]
    records = body.get("records")
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORDS:
        errors["records"] = [_("Send a list of 1 to %(max)s records.") % {"max": MAX_RECORDS}]
    if errors:
        raise ValidationError(errors)
    for operation in {"create": ["create"], "update": ["update"], "upsert": ["create", "update"]}[mode]:
        writers.operation(fields.object, operation)  # NotWritable before any record is read
    return mode, key_field, atomic, records


def _key_field(fields: ViewFields, key):
    if key == "id":
        return registry.ID_FIELD
    field = fields.field(key) if isinstance(key, str) else None
    return field if field is not None and not field.standard and field.unique else None


def _write_one(fields: ViewFields, mode: str, key, index: int, body) -> dict:
    info = fields.object
    try:
        with transaction.atomic():
            values = writer_values(fields, body, ignore={"id"})
            record = None
            if key is not None:
                value = _key_value(body, key)
                record = writers.match(fields.user, info, key, value) if value is not None else None
                if record is None and mode == "update":
                    raise ValidationError({key.path: [_("No record of yours has this value.")]})
            if record is None:
                created = writers.operation(info, "create")(fields.user, info, values)
                return {"index": index, "status": 201, "id": created.pk}
            record = writers.fetch(fields.user, info, record.pk, for_update=True)
            writers.operation(info, "update")(fields.user, info, record, values)
            return {"index": index, "status": 200, "id": record.pk}
    except (ValidationError, ServiceError, IntegrityError) as error:
        found = problem_errors(error)
        if found is None:  # an integrity error that is not a unique field's: a real bug
            raise
        status, errors = found
        return {"index": index, "status": status, "errors": errors}


def _key_value(body, key):
    if not isinstance(body, dict):
        return None
    if key.path == "id":
        return body.get("id")
    return (body.get("custom") or {}).get(key.name) if isinstance(body.get("custom"), dict) else None


def _located_errors(failed: list[dict]) -> dict:
    located: dict[str, list] = {}
    for result in failed:
        for error in result["errors"]:
            detail = exceptions.ErrorDetail(error["message"], code=error["code"])
            located.setdefault(_located(result["index"], error["field"]), []).append(detail)
    return located


def _located(index: int, field: str | None) -> str:
    where = f"records[{index}]"
    return f"{where}.{field}" if field else where
