"""The tenant host's API: REST under /api/v1/."""

from django.urls import path

from api.rest import me

app_name = "api"

urlpatterns = [
    path("v1/me", me.MeView.as_view(), name="me"),
]
