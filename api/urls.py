"""The tenant host's API: REST under /api/v1/."""

from django.urls import path

from api.rest import bulk, me, records, tokens

app_name = "api"

urlpatterns = [
    path("v1/me", me.MeView.as_view(), name="me"),
    path("v1/tokens", tokens.TokenListView.as_view(), name="tokens"),
    path("v1/tokens/<int:token_id>", tokens.TokenDetailView.as_view(), name="token"),
    path("v1/records/<str:object_key>", records.RecordsView.as_view(), name="records"),
    path("v1/records/<str:object_key>/bulk", bulk.BulkView.as_view(), name="records-bulk"),
    path("v1/records/<str:object_key>/<int:pk>", records.RecordView.as_view(), name="record"),
    path(
        "v1/records/<str:object_key>/<int:pk>/<str:action>",
        records.RecordActionView.as_view(),
        name="record-action",
    ),
]
