from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """A company with a CRM of its own: one row here, one PostgreSQL schema for everything else."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended (read-only)")
        DELETED = "deleted", _("Deleted")

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    default_language = models.CharField(max_length=10, default="zh-hans")
    default_currency = models.CharField(max_length=3, default="CNY")
    time_zone = models.CharField(max_length=64, default="Asia/Shanghai")
    plan = models.CharField(max_length=20, default="standard")  # a code of billing.plans.PLANS
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    export_path = models.CharField(max_length=500, blank=True)

    # Schemas are built by tenants.provisioning, never by TenantMixin.save() running migrations.
    auto_create_schema = False
    auto_drop_schema = False

    def __str__(self):
        return f"{self.name} ({self.slug})"

    @property
    def is_writable(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    """A host name that routes to a tenant (`<slug>.<BASE_DOMAIN>`, later custom domains)."""


class TemplateSnapshot(models.Model):
    """The DDL and seed rows of the template schema, taken at one state of the migration graph.

    Sign-up replays the snapshot whose `migration_digest` matches the running code, and refuses
    when there is none: a template that lags behind the code would build broken tenants.
    """

    migration_digest = models.CharField(max_length=64, unique=True)
    ddl = models.TextField()
    seeded_tables = models.JSONField(default=list)
    relation_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"template {self.migration_digest[:12]} ({self.relation_count} relations)"


class ReadySchema(models.Model):
    """A tenant schema replayed ahead of time from the current snapshot, waiting for a sign-up.

    Sign-up claims one by renaming it (a catalog update, constant time whatever the schema's
    size) instead of replaying the snapshot while the visitor waits. Schemas built from an older
    snapshot are dropped when the template changes.
    """

    schema_name = models.CharField(max_length=63, unique=True)
    migration_digest = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.schema_name
