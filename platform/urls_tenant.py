"""URLs of a tenant's host (`<slug>.<BASE_DOMAIN>`)."""

from django.urls import include, path

from accounts import views
from api.graphql.view import GraphQLView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("api/", include("api.urls")),
    path("graphql", GraphQLView.as_view(), name="graphql"),
]
