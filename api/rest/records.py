"""REST resources for the records of every object, standard and custom, by object key:

    GET    /api/v1/records/<object>                 list: filter, sort, fields, keyset pages
    POST   /api/v1/records/<object>                 create                      (Idempotency-Key)
    GET    /api/v1/records/<object>/<id>            one record, with its ETag
    PATCH  /api/v1/records/<object>/<id>            change some fields          (If-Match, override_lock)
    DELETE /api/v1/records/<object>/<id>            delete                      (If-Match, override_lock)
    POST   /api/v1/records/<object>/<id>/<action>   claim, convert, confirm...  (Idempotency-Key)

Thin on purpose: the operations are api/operations.py, shared with GraphQL.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework.response import Response
from rest_framework.views import APIView

from api import operations, representation
from api.idempotency import idempotent
from api.rest.params import list_params


class RecordsView(APIView):
    def get(self, request, object_key: str):
        fields = operations.fields_for(request.user, object_key)
        params = list_params(request.query_params)
        listing = operations.list_records(
            fields,
            filter=params.filter,
            sort=params.sort,
            columns=params.fields,
            after=params.after,
            limit=params.limit,
        )
        return Response({"results": listing.rows, "next": listing.next_cursor})

    @idempotent
    def post(self, request, object_key: str):
        fields = operations.fields_for(request.user, object_key, "create")
        body = operations.create(fields, request.data)
        location = f"/api/v1/records/{fields.object.key}/{body['id']}"
        return Response(body, status=201, headers={"ETag": representation.etag(body), "Location": location})


class RecordView(APIView):
    def get(self, request, object_key: str, pk: int):
        fields = operations.fields_for(request.user, object_key)
        return _with_etag(operations.current(fields, pk))

    def patch(self, request, object_key: str, pk: int):
        fields = operations.fields_for(request.user, object_key)
        if_match = request.headers.get("If-Match")
        override = override_lock(request.query_params)
        return _with_etag(
            operations.update(fields, pk, request.data, if_match=if_match, override_lock=override)
        )

    def delete(self, request, object_key: str, pk: int):
        fields = operations.fields_for(request.user, object_key)
        if_match, override = request.headers.get("If-Match"), override_lock(request.query_params)
        operations.delete(fields, pk, if_match=if_match, override_lock=override)
        return Response(status=204)


class RecordActionView(APIView):
    @idempotent
    def post(self, request, object_key: str, pk: int, action: str):
        """Run the action; answer with the record it gives back (the payment a plan registers,
        the lead a conversion marks...), as far as the caller may still see it."""
        fields = operations.fields_for(request.user, object_key)
        key, body = operations.run_action(fields, pk, action, request.data)
        return Response({"object": key, "record": body})


def override_lock(query) -> bool:
    """`?override_lock=true`: an administrator changes a record waiting for approval anyway."""
    value = query.get("override_lock", "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise ValidationError({"override_lock": [_("Expected true or false.")]})
    return value in ("true", "1")


def _with_etag(body: dict) -> Response:
    return Response(body, headers={"ETag": representation.etag(body)})
