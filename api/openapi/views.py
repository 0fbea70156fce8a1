"""The tenant's OpenAPI document and its interactive docs.

    GET /api/v1/openapi.json   the document, for the caller (a session or a token of any scope)
    GET /api/v1/docs           Swagger UI on it: an HTML page, so a signed-in session only

The docs page loads Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from api.openapi.annotations import problems
from api.openapi.tenant import tenant_document


class OpenApiDocumentView(APIView):
    # Any token may read the description of what it may call: no scope check (TokenScopes).
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="getOpenApiDocument",
        summary="This OpenAPI document",
        description="The tenant's API with its custom fields and objects, as the caller may use it.",
        tags=["openapi"],
        responses={
            200: OpenApiResponse(
                {"type": "object", "additionalProperties": True}, description="OpenAPI 3.0.3."
            ),
            **problems(),
        },
    )
    def get(self, request):
        document = tenant_document(request.user)
        if document.etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(document.body, content_type="application/json")
        response["ETag"] = document.etag
        # Per caller (their rights shape it), and it changes with the tenant's metadata.
        response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ["Cookie", "Authorization", "Accept-Language"])
        return response


class SwaggerView(SpectacularSwaggerView):
    url_name = "api:openapi"
    title = "CRM API"
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]


# Anonymous visitors are sent to sign in and come back (an HTML page, not an API answer).
docs_page = login_required(SwaggerView.as_view())
