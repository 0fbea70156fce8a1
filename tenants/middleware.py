"""Host routing (one lookup per request) and the read-only guard for suspended tenants."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

from crm_platform.errors import PROBLEM_CONTENT_TYPE, TenantReadOnly
from crm_platform.observability import bind_tenant
from tenants.models import Tenant


class TenantHostMiddleware(TenantMainMiddleware):
    """`<slug>.<BASE_DOMAIN>` -> that tenant's schema; the bare base domain -> the public schema."""

    def get_tenant(self, domain_model, hostname):
        if hostname == settings.BASE_DOMAIN:
            return Tenant(schema_name=get_public_schema_name(), slug="", name="platform")
        tenant = super().get_tenant(domain_model, hostname)
        if tenant.status == Tenant.Status.DELETED:
            raise domain_model.DoesNotExist
        return tenant

    def no_tenant_found(self, request, hostname):
        raise Http404(_("No CRM at this address."))

    def process_request(self, request):
        response = super().process_request(request)
        if getattr(request, "tenant", None) is not None:
            bind_tenant(request.tenant.schema_name)
        return response


# Requests a suspended tenant still accepts: signing in and out changes no business data.
READ_ONLY_ALLOWED_PATHS = ("/accounts/login/", "/accounts/logout/")


class SuspendedTenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if (
            tenant is not None
            and not tenant.is_writable
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and not request.path.startswith(READ_ONLY_ALLOWED_PATHS)
        ):
            error = TenantReadOnly()
            return JsonResponse(error.as_problem(), status=error.status, content_type=PROBLEM_CONTENT_TYPE)
        return self.get_response(request)
