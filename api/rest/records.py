"""REST resources for the records of every object, standard and custom, by object key:

    GET    /api/v1/records/<object>             list: filter, sort, fields, keyset pages
    POST   /api/v1/records/<object>             create                  (Idempotency-Key)
    POST   /api/v1/records/<object>/<id>/<action>   claim, convert, confirm...  (Idempotency-Key)
    GET    /api/v1/records/<object>/<id>        one record, with its ETag
    PATCH  /api/v1/records/<object>/<id>        change some fields      (If-Match)
    DELETE /api/v1/records/<object>/<id>        delete                  (If-Match)

Thin on purpose: reading goes through metadata/query.py (the scope filter and the filter
compiler), writing through metadata/writers.py (the object's services), actions through metadata/actions.py.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from access.permissions import require
from api.idempotency import idempotent
from api.rest import representation
from api.rest.inputs import writer_values
from api.rest.params import list_params
from crm_platform.errors import NotFound
from metadata import actions, query, registry, writers
from metadata.views.fields import ViewFields


class PreconditionFailed(APIException):
    status_code = 412
    default_code = "precondition_failed"
    default_detail = _("The record changed since you read it: read it again, then retry your change.")


def fields_for(request, object_key: str, action: str = "read") -> ViewFields:
    """The caller's fields of `object_key`, once they may `action` its records at all."""
    try:
        fields = ViewFields(object_key, request.user)
    except ValidationError:
        raise NotFound(_("Unknown object %(key)s.") % {"key": object_key}) from None
    require(request.user, fields.object.key, action)
    return fields


class RecordsView(APIView):
    def get(self, request, object_key: str):
        fields = fields_for(request, object_key)
        params = list_params(request.query_params)
        queryset = query.filtered(fields, params.filter)
        keys = query.sort_keys(fields, params.sort, strict=True)
        columns = query.readable_columns(fields, params.fields, strict=True)
        page = query.page(fields, queryset, keys, columns, after=params.after, limit=params.limit)
        return Response(
            {"results": representation.shaped(fields, columns, page.rows), "next": page.next_cursor}
        )

    @idempotent
    def post(self, request, object_key: str):
        fields = fields_for(request, object_key, "create")
        create = writers.operation(fields.object, "create")
        values = writer_values(fields, request.data)
        with transaction.atomic():
            record = create(request.user, fields.object, values)
            return _record_response(fields, record.pk, status=201)


class RecordView(APIView):
    def get(self, request, object_key: str, pk: int):
        fields = fields_for(request, object_key)
        return _record_response(fields, pk)

    def patch(self, request, object_key: str, pk: int):
        fields = fields_for(request, object_key)
        update = writers.operation(fields.object, "update")
        values = writer_values(fields, request.data)
        with transaction.atomic():
            record = writers.fetch(request.user, fields.object, pk, for_update=True)
            _check_precondition(request, fields, pk)
            update(request.user, fields.object, record, values)
            return _record_response(fields, pk)

    def delete(self, request, object_key: str, pk: int):
        fields = fields_for(request, object_key)
        delete = writers.operation(fields.object, "delete")
        with transaction.atomic():
            record = writers.fetch(request.user, fields.object, pk, for_update=True)
            _check_precondition(request, fields, pk)
            delete(request.user, fields.object, record)
        return Response(status=204)


class RecordActionView(APIView):
    @idempotent
    def post(self, request, object_key: str, pk: int, action: str):
        """Run the action; answer with the record it gives back (the payment a plan registers,
        the lead a conversion marks...), as far as the caller may still see it."""
        fields = fields_for(request, object_key)
        found = actions.action(fields.object.key, action)
        arguments = actions.checked_arguments(found, request.data)
        with transaction.atomic():
            record = writers.fetch(request.user, fields.object, pk)
            result = found.run(request.user, record, **arguments)
        key = registry.object_key_of(result)
        result_fields = fields if key == fields.object.key else ViewFields(key, request.user)
        try:
            body = _current(result_fields, result.pk)
        except NotFound:  # released to the pool, say: done, and no longer the caller's to read
            body = {"id": result.pk}
        return Response({"object": key, "record": body})


def _current(fields: ViewFields, pk) -> dict:
    return representation.one(fields, fields.object.queryset().visible_to(fields.user), pk)


def _record_response(fields: ViewFields, pk, *, status: int = 200) -> Response:
    body = _current(fields, pk)
    headers = {"ETag": representation.etag(body)}
    if status == 201:
        headers["Location"] = f"/api/v1/records/{fields.object.key}/{pk}"
    return Response(body, status=status, headers=headers)


def _check_precondition(request, fields: ViewFields, pk) -> None:
    """`If-Match` against the record as it is now, read under the row lock the write holds."""
    expected = request.headers.get("If-Match")
    if expected is None or expected.strip() == "*":
        return
    current = representation.etag(_current(fields, pk))
    if current not in [tag.strip().removeprefix("W/") for tag in expected.split(",")]:
        raise PreconditionFailed()
