"""The tenant host's API: REST under /api/v1/."""

from django.urls import path

from api.openapi import views as openapi
from api.rest import bulk, me, records, tokens, webhooks

app_name = "api"

urlpatterns = [
    path("v1/me", me.MeView.as_view(), name="me"),
    path("v1/openapi.json", openapi.OpenApiDocumentView.as_view(), name="openapi"),
    path("v1/docs", openapi.docs_page, name="docs"),
    path("v1/tokens", tokens.TokenListView.as_view(), name="tokens"),
    path("v1/tokens/<int:token_id>", tokens.TokenDetailView.as_view(), name="token"),
    path("v1/webhooks", webhooks.WebhookListView.as_view(), name="webhooks"),
    path("v1/webhooks/<int:endpoint_id>", webhooks.WebhookDetailView.as_view(), name="webhook"),
    path(
        "v1/webhooks/<int:endpoint_id>/deliveries",
        webhooks.WebhookDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
    path("v1/webhooks/<int:endpoint_id>/test", webhooks.WebhookTestView.as_view(), name="webhook-test"),
    path(
        "v1/webhooks/deliveries/<int:delivery_id>/redeliver",
        webhooks.RedeliverView.as_view(),
        name="webhook-redeliver",
    ),
    path("v1/records/<str:object_key>", records.RecordsView.as_view(), name="records"),
    path("v1/records/<str:object_key>/bulk", bulk.BulkView.as_view(), name="records-bulk"),
    path("v1/records/<str:object_key>/<int:pk>", records.RecordView.as_view(), name="record"),
    path(
        "v1/records/<str:object_key>/<int:pk>/<str:action>",
        records.RecordActionView.as_view(),
        name="record-action",
    ),
]
