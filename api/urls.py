"""The tenant host's API: REST under /api/v1/."""

from django.urls import path

from api.openapi import views as openapi
from api.rest import approvals, bulk, me, records, tokens, webhooks

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
    path("v1/approvals/processes", approvals.ProcessListView.as_view(), name="approval-processes"),
    path("v1/approvals/processes/<str:key>", approvals.ProcessView.as_view(), name="approval-process"),
    path(
        "v1/approvals/processes/<str:key>/versions",
        approvals.ProcessVersionsView.as_view(),
        name="approval-process-versions",
    ),
    path("v1/approvals/requests", approvals.SubmitView.as_view(), name="approval-requests"),
    path("v1/approvals/requests/<int:request_id>", approvals.RequestView.as_view(), name="approval-request"),
    path(
        "v1/approvals/requests/<int:request_id>/approve",
        approvals.ApproveView.as_view(),
        name="approval-approve",
    ),
    path(
        "v1/approvals/requests/<int:request_id>/reject",
        approvals.RejectView.as_view(),
        name="approval-reject",
    ),
    path(
        "v1/approvals/requests/<int:request_id>/recall",
        approvals.RecallView.as_view(),
        name="approval-recall",
    ),
    path(
        "v1/approvals/requests/<int:request_id>/comment",
        approvals.CommentView.as_view(),
        name="approval-comment",
    ),
    path(
        "v1/approvals/tasks/<int:task_id>/reassign",
        approvals.ReassignView.as_view(),
        name="approval-reassign",
    ),
    path("v1/approvals/inbox", approvals.InboxView.as_view(), name="approval-inbox"),
    path("v1/approvals/delegations", approvals.DelegationListView.as_view(), name="approval-delegations"),
    path(
        "v1/approvals/delegations/<int:delegation_id>",
        approvals.DelegationView.as_view(),
        name="approval-delegation",
    ),
    path(
        "v1/approvals/notifications", approvals.NotificationListView.as_view(), name="approval-notifications"
    ),
    path(
        "v1/approvals/notifications/<int:notification_id>/read",
        approvals.NotificationReadView.as_view(),
        name="approval-notification-read",
    ),
    path("v1/records/<str:object_key>", records.RecordsView.as_view(), name="records"),
    path("v1/records/<str:object_key>/bulk", bulk.BulkView.as_view(), name="records-bulk"),
    path("v1/records/<str:object_key>/<int:pk>", records.RecordView.as_view(), name="record"),
    path(
        "v1/records/<str:object_key>/<int:pk>/approvals",
        approvals.RecordApprovalsView.as_view(),
        name="record-approvals",
    ),
    path(
        "v1/records/<str:object_key>/<int:pk>/<str:action>",
        records.RecordActionView.as_view(),
        name="record-action",
    ),
]
