"""Tenant lifecycle: sign-up, suspension, deletion. Every entry point calls these."""

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from crm_platform.errors import SignUpPaused, TenantReadOnly
from tenants.models import Domain, Tenant
from tenants.provisioning import ready_pool, template
from tenants.signup_rules import check_sign_up, schema_name_for

log = logging.getLogger(__name__)


_password_hasher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sign-up-hash")


def sign_up(
    *, company_name: str, slug: str, admin_name: str, email: str, password: str, language: str = "zh-hans"
) -> Tenant:
    """Create a company's CRM: its tenant row, host, schema (replayed from the template) and admin.

    Everything happens in one transaction, DDL included, so a failure leaves nothing behind.
    """
    slug = slug.strip().lower()
    email = email.strip().lower()
    check_sign_up(company_name=company_name, slug=slug, admin_name=admin_name, email=email, password=password)
    snapshot = template.current_snapshot()
    if snapshot is None:
        raise SignUpPaused(_("The platform is being upgraded. Please try again in a few minutes."))
    # Hashing is deliberately slow. argon2 releases the GIL, so it runs in a thread beside the
    # schema replay (which waits on PostgreSQL) instead of before it.
    password_hash = _password_hasher.submit(make_password, password)
    language = language if language in dict(settings.LANGUAGES) else "zh-hans"

    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(
                schema_name=schema_name_for(slug),
                slug=slug,
                name=company_name.strip(),
                default_language=language,
            )
            Domain.objects.create(domain=f"{slug}.{settings.BASE_DOMAIN}", tenant=tenant, is_primary=True)
            # A schema built ahead of time is renamed in a moment; the replay is the fallback.
            if not ready_pool.claim(tenant.schema_name, snapshot.migration_digest):
                template.replay(tenant.schema_name, snapshot.ddl)
            transaction.on_commit(_refill_ready_schemas)
            with tenant_context(tenant):
                User.objects.create(
                    email=email,
                    full_name=admin_name.strip(),
                    password=password_hash.result(),
                    language=language,
                    role=Role.objects.get(code="admin"),
                    is_superuser=True,
                )
    except IntegrityError:
        # A concurrent or repeated submission won the unique index on the slug.
        raise ValidationError(
            {"slug": [ValidationError(_("This subdomain is already taken."), code="taken")]}
        ) from None
    log.info("tenant %s signed up", tenant.schema_name)
    return tenant


def _refill_ready_schemas() -> None:
    # With a broker this queues the refill; without one (development) it would run inline and
    # make the visitor wait for it, so there the pool is refilled by deploys and the demo command.
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        from tenants.tasks import refill_ready_schemas

        refill_ready_schemas.delay()


def require_writable(tenant: Tenant | None = None) -> None:
    """Called by every write service: a suspended tenant keeps reading but changes nothing.
    Without `tenant`, the tenant the connection is in (none in the public schema: no check)."""
    if tenant is None:
        tenant = getattr(connection, "tenant", None)
        if not isinstance(tenant, Tenant):
            return
    if not tenant.is_writable:
        raise TenantReadOnly()


def _set_status(tenant: Tenant, status: str) -> Tenant:
    tenant.status = status
    tenant.status_changed_at = timezone.now()
    tenant.save(update_fields=["status", "status_changed_at"])
    log.info("tenant %s is now %s", tenant.schema_name, status)
    return tenant


def suspend(tenant: Tenant) -> Tenant:
    return _set_status(tenant, Tenant.Status.SUSPENDED)


def resume(tenant: Tenant) -> Tenant:
    return _set_status(tenant, Tenant.Status.ACTIVE)


def export_tenant(tenant: Tenant) -> Path:
    """Every row of the tenant's schema as Django fixtures (gzip JSON), kept after deletion."""
    root = Path(settings.TENANT_EXPORT_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{tenant.slug}-{timezone.now():%Y%m%dT%H%M%S}.json.gz"
    apps = [app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS]
    with tenant_context(tenant):
        call_command("dumpdata", *apps, output=str(path), verbosity=0)
    return path


def delete_tenant(tenant: Tenant) -> Path:
    """Export the tenant, then drop its schema. The row stays (status deleted) so the slug is never reused."""
    path = export_tenant(tenant)
    with transaction.atomic():
        template.drop_schema(tenant.schema_name)
        tenant.domains.all().delete()
        tenant.export_path = str(path)
        tenant.save(update_fields=["export_path"])
        _set_status(tenant, Tenant.Status.DELETED)
    return path
