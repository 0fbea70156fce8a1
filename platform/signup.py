"""Sign-up, the control plane's front door: a JSON endpoint and a plain HTML page over one service."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from crm_platform.errors import ServiceError
from tenants import services
from tenants.models import Tenant


class SignUpSerializer(serializers.Serializer):
    """Shape only (types, presence); the rules live in tenants.signup_rules, shared with the HTML form."""

    company_name = serializers.CharField(max_length=200, allow_blank=True)
    slug = serializers.CharField(max_length=63, allow_blank=True)
    admin_name = serializers.CharField(max_length=150, allow_blank=True)
    email = serializers.CharField(max_length=254, allow_blank=True)
    password = serializers.CharField(max_length=128, allow_blank=True, trim_whitespace=False, write_only=True)
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES], default="zh-hans"
    )


def tenant_url(request, tenant: Tenant) -> str:
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    host = f"{tenant.slug}.{settings.BASE_DOMAIN}" + ("" if port == default_port else f":{port}")
    return f"{request.scheme}://{host}/"


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def sign_up_api(request):
    serializer = SignUpSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    tenant = services.sign_up(**serializer.validated_data)
    return Response(
        {
            "slug": tenant.slug,
            "name": tenant.name,
            "url": tenant_url(request, tenant),
            "login_url": tenant_url(request, tenant) + "accounts/login/",
        },
        status=status.HTTP_201_CREATED,
    )


class SignUpForm(forms.Form):
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    slug = forms.CharField(
        label=_("Subdomain"),
        max_length=63,
        help_text=_("Your CRM's address: <subdomain>.%(domain)s") % {"domain": settings.BASE_DOMAIN},
    )
    admin_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.CharField(label=_("E-mail"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Formatted per request: a module-level % would freeze the language of the first import.
        self.fields["slug"].help_text = _("Your CRM's address: <subdomain>.%(domain)s") % {
            "domain": settings.BASE_DOMAIN
        }


def sign_up_page(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = services.sign_up(**form.cleaned_data, language=request.LANGUAGE_CODE)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except ServiceError as exc:
            form.add_error(None, str(exc.detail))
        else:
            return render(
                request,
                "crm_platform/signed_up.html",
                {"tenant": tenant, "url": tenant_url(request, tenant)},
                status=201,
            )
    return render(
        request,
        "crm_platform/sign_up.html",
        {"form": form, "base_domain": settings.BASE_DOMAIN},
        status=400 if form.errors else 200,
    )
