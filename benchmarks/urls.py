"""A tenant host's URLs for the api benchmark (benchmarks/api_settings.py): the real ones, plus the
raw-SQL anchor endpoint. Never routed outside the benchmark."""

from django.urls import include, path

from benchmarks.api_views import raw_accounts

urlpatterns = [
    path("bench/raw-accounts", raw_accounts, name="bench-raw-accounts"),
    path("", include("crm_platform.urls_tenant")),
]
