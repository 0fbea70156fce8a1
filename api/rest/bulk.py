"""POST /api/v1/records/<object>/bulk: up to 1,000 records at once (api/bulk.py)."""

from rest_framework.response import Response
from rest_framework.views import APIView

from api.bulk import bulk_write
from api.idempotency import idempotent
from api.operations import fields_for


class BulkView(APIView):
    @idempotent
    def post(self, request, object_key: str):
        fields = fields_for(request.user, object_key)
        return Response({"results": bulk_write(fields, request.data)})
