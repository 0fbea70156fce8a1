"""The webhook endpoints' description (api/rest/webhooks.py), kept apart from the records' so it
can change with them. Targets are named by path and optional: without webhooks, nothing here
applies, and their constants are read only when it does.
"""

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from api.openapi.annotations import IDEMPOTENCY_KEY, JSON, WRITE, answered_header, problems
from api.openapi.components import ref

TAG = ["webhooks"]
ADMIN = ' Administrators only; a bearer token needs the "admin" scope.'
_DATE_TIME = {"type": "string", "format": "date-time"}
_ENDPOINT = {
    "id": {"type": "integer", "readOnly": True},
    "url": {"type": "string", "maxLength": 2000},
    "description": {"type": "string", "maxLength": 200},
    "events": {"type": "array", "items": {"type": "string"}},
    "is_active": {"type": "boolean"},
    "failure_count": {"type": "integer", "minimum": 0},
    "disabled_at": {**_DATE_TIME, "nullable": True},
    "disabled_reason": {"type": "string"},
    "created_by": {"type": "integer", "nullable": True},
    "created_at": _DATE_TIME,
}
_EVENTS = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50,
    "items": {"type": "string", "maxLength": 150, "example": "account.*"},
    "description": 'Event names or patterns: "account.created", "account.*", "custom.project.*", "*".',
}

SCHEMAS = {
    "WebhookEndpoint": {"type": "object", "required": list(_ENDPOINT), "properties": _ENDPOINT},
    "WebhookEndpointWithSecret": {
        "type": "object",
        "description": "An endpoint with the secret its deliveries are signed with.",
        "required": [*_ENDPOINT, "secret"],
        "properties": {**_ENDPOINT, "secret": {"type": "string"}},
    },
    "WebhookEndpointRequest": {
        "type": "object",
        "required": ["url", "events"],
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "maxLength": 2000, "example": "https://example.com/hooks/crm"},
            "events": _EVENTS,
            "description": {"type": "string", "maxLength": 200},
        },
    },
    "PatchedWebhookEndpointRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "maxLength": 2000},
            "events": _EVENTS,
            "description": {"type": "string", "maxLength": 200},
            "is_active": {"type": "boolean", "description": "Switching it back on resets the failures."},
        },
    },
    "WebhookDelivery": {
        "type": "object",
        "required": [
            "id",
            "endpoint",
            "event",
            "event_id",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "history",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "payload",
        ],
        "properties": {
            "id": {"type": "integer"},
            "endpoint": {"type": "integer"},
            "event": {"type": "string"},
            "event_id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]},
            "attempts": {"type": "integer", "minimum": 0},
            "last_status_code": {"type": "integer", "nullable": True},
            "last_error": {"type": "string"},
            "history": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            "next_attempt_at": {**_DATE_TIME, "nullable": True},
            "created_at": _DATE_TIME,
            "delivered_at": {**_DATE_TIME, "nullable": True},
            "payload": {"type": "object", "additionalProperties": True},
        },
    },
    "WebhookDeliveryPage": {
        "type": "object",
        "required": ["results", "next"],
        "properties": {
            "results": {"type": "array", "items": ref("WebhookDelivery")},
            "next": {"type": "string", "nullable": True, "description": "The `before` of the next page."},
        },
    },
}

NO_STORE = answered_header("Cache-Control", [200, 201], "`no-store`: the answer holds the signing secret.")
ENDPOINT_ID = OpenApiParameter("endpoint_id", int, OpenApiParameter.PATH)
QUEUED = OpenApiResponse(ref("WebhookDelivery"), description="Queued for sending.")
REPLAYED = answered_header("Idempotent-Replayed", [202], "`true` when this is a replayed answer.")


class WebhookListViewSchema(OpenApiViewExtension):
    target_class = "api.rest.webhooks.WebhookListView"
    optional = True

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                operation_id="listWebhooks",
                summary="List webhook endpoints",
                description="Without their secrets." + ADMIN,
                tags=TAG,
                responses={
                    200: OpenApiResponse(
                        {"type": "array", "items": ref("WebhookEndpoint")}, description="Endpoints."
                    ),
                    **problems(),
                },
            ),
            post=extend_schema(
                operation_id="addWebhook",
                summary="Add a webhook endpoint",
                description="The answer holds the signing secret." + ADMIN,
                tags=TAG,
                parameters=[NO_STORE, answered_header("Location", [201], "The endpoint's path.")],
                request={JSON: ref("WebhookEndpointRequest")},
                responses={
                    201: OpenApiResponse(ref("WebhookEndpointWithSecret"), description="Added."),
                    **problems(400, 409, *WRITE),
                },
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class WebhookDetailViewSchema(OpenApiViewExtension):
    target_class = "api.rest.webhooks.WebhookDetailView"
    optional = True

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                operation_id="getWebhook",
                summary="Read a webhook endpoint",
                description="With its signing secret." + ADMIN,
                tags=TAG,
                parameters=[ENDPOINT_ID, NO_STORE],
                responses={
                    200: OpenApiResponse(ref("WebhookEndpointWithSecret"), description="The endpoint."),
                    **problems(404),
                },
            ),
            patch=extend_schema(
                operation_id="changeWebhook",
                summary="Change a webhook endpoint",
                description=ADMIN.strip(),
                tags=TAG,
                parameters=[ENDPOINT_ID],
                request={JSON: ref("PatchedWebhookEndpointRequest")},
                responses={
                    200: OpenApiResponse(ref("WebhookEndpoint"), description="Changed."),
                    **problems(400, 404, *WRITE),
                },
            ),
            delete=extend_schema(
                operation_id="removeWebhook",
                summary="Remove a webhook endpoint",
                description=ADMIN.strip(),
                tags=TAG,
                parameters=[ENDPOINT_ID],
                responses={204: OpenApiResponse(description="Removed."), **problems(404, 423)},
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class WebhookDeliveriesViewSchema(OpenApiViewExtension):
    target_class = "api.rest.webhooks.WebhookDeliveriesView"
    optional = True

    def view_replacement(self):
        from api.webhooks.services import LOG_PAGE, MAX_LOG_PAGE

        @extend_schema_view(
            get=extend_schema(
                operation_id="listWebhookDeliveries",
                summary="An endpoint's delivery log",
                description="Newest first." + ADMIN,
                tags=TAG,
                parameters=[
                    ENDPOINT_ID,
                    OpenApiParameter(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_LOG_PAGE, "default": LOG_PAGE},
                    ),
                    OpenApiParameter(
                        "before",
                        {"type": "integer", "minimum": 1},
                        description="The `next` of the previous page.",
                    ),
                ],
                responses={
                    200: OpenApiResponse(ref("WebhookDeliveryPage"), description="A page of deliveries."),
                    **problems(400, 404),
                },
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class WebhookTestViewSchema(OpenApiViewExtension):
    target_class = "api.rest.webhooks.WebhookTestView"
    optional = True

    def view_replacement(self):
        @extend_schema_view(
            post=extend_schema(
                operation_id="testWebhook",
                summary='Send a "webhook.test" event',
                description=ADMIN.strip(),
                tags=TAG,
                parameters=[ENDPOINT_ID, IDEMPOTENCY_KEY, REPLAYED],
                request=None,
                responses={202: QUEUED, **problems(404, 409, 422, *WRITE)},
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class RedeliverViewSchema(OpenApiViewExtension):
    target_class = "api.rest.webhooks.RedeliverView"
    optional = True

    def view_replacement(self):
        @extend_schema_view(
            post=extend_schema(
                operation_id="redeliverWebhook",
                summary="Send a delivery's event again",
                description=ADMIN.strip(),
                tags=TAG,
                parameters=[
                    OpenApiParameter("delivery_id", int, OpenApiParameter.PATH),
                    IDEMPOTENCY_KEY,
                    REPLAYED,
                ],
                request=None,
                responses={202: QUEUED, **problems(404, 409, 422, *WRITE)},
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated
