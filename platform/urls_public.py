"""URLs of the bare base domain: the public control plane."""

from django.contrib import admin
from django.urls import include, path

from crm_platform import signup

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", signup.sign_up_page, name="sign-up"),
    path("api/v1/signup", signup.sign_up_api, name="sign-up-api"),
    path("admin/", admin.site.urls),
]
