"""Outgoing webhooks over REST, for a tenant's administrators (api/webhooks/services.py):

    GET, POST     /api/v1/webhooks                                 list endpoints, add one
    GET           /api/v1/webhooks/<id>                            one endpoint, with its secret
    PATCH, DELETE /api/v1/webhooks/<id>                            change, remove
    GET           /api/v1/webhooks/<id>/deliveries?limit=&before=  the delivery log, newest first
    POST          /api/v1/webhooks/<id>/test                       send a "webhook.test" event
    POST          /api/v1/webhooks/deliveries/<id>/redeliver       send a delivery's event again

A token caller needs the "admin" scope, and the user must be an access administrator. The signing
secret is in the answers that create an endpoint or read one, never in a list, and those answers
are not to be cached. Errors are raised and become problem details in api/problems.py.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks import services

NO_STORE = {"Cache-Control": "no-store"}


def endpoint_json(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict:
    body = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
        "failure_count": endpoint.failure_count,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "created_by": endpoint.created_by_id,
        "created_at": endpoint.created_at,
    }
    if with_secret:
        body["secret"] = endpoint.secret
    return body


def delivery_json(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.pk,
        "endpoint": delivery.endpoint_id,
        "event": delivery.event,
        "event_id": str(delivery.event_id),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "history": delivery.history,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "payload": delivery.payload,
    }


class WebhookListView(APIView):
    required_scope = "admin"

    def get(self, request):
        return Response([endpoint_json(e) for e in services.endpoints_of(request.user)])

    # Not @idempotent: a replayed answer would have to store the secret with the key.
    def post(self, request):
        data = request.data
        events = data.getlist("events") if hasattr(data, "getlist") else data.get("events")
        endpoint = services.add_endpoint(
            request.user, url=data.get("url"), events=events, description=data.get("description", "")
        )
        return Response(
            endpoint_json(endpoint, with_secret=True),
            status=status.HTTP_201_CREATED,
            headers={**NO_STORE, "Location": f"/api/v1/webhooks/{endpoint.pk}"},
        )


class WebhookDetailView(APIView):
    required_scope = "admin"

    def get(self, request, endpoint_id: int):
        endpoint = services.get_endpoint(request.user, endpoint_id)
        return Response(endpoint_json(endpoint, with_secret=True), headers=NO_STORE)

    def patch(self, request, endpoint_id: int):
        if not isinstance(request.data, dict):
            raise ValidationError(_("Send a JSON object of the fields to change."))
        endpoint = services.change_endpoint(request.user, endpoint_id, **request.data)
        return Response(endpoint_json(endpoint))

    def delete(self, request, endpoint_id: int):
        services.remove_endpoint(request.user, endpoint_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesView(APIView):
    required_scope = "admin"

    def get(self, request, endpoint_id: int):
        limit = _whole(request.query_params.get("limit"), services.LOG_PAGE)
        before = _whole(request.query_params.get("before"), None)
        rows = services.deliveries_of(request.user, endpoint_id, limit=limit, before=before)
        next_cursor = str(rows[-1].pk) if len(rows) == limit else None
        return Response({"results": [delivery_json(d) for d in rows], "next": next_cursor})


class WebhookTestView(APIView):
    required_scope = "admin"

    @idempotent
    def post(self, request, endpoint_id: int):
        delivery = services.send_test(request.user, endpoint_id)
        return Response(delivery_json(delivery), status=status.HTTP_202_ACCEPTED)


class RedeliverView(APIView):
    required_scope = "admin"

    @idempotent
    def post(self, request, delivery_id: int):
        delivery = services.redeliver(request.user, delivery_id)
        return Response(delivery_json(delivery), status=status.HTTP_202_ACCEPTED)


def _whole(text: str | None, default):
    """A query parameter as an int; text that is not one is passed on for the service to refuse."""
    if text is None or text == "":
        return default
    return int(text) if text.strip().isdigit() else text
