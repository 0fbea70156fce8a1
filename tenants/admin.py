"""The platform staff's view of tenants (public schema only: the admin is not routed on tenant hosts)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from tenants import services
from tenants.models import Domain, TemplateSnapshot, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "status", "schema_name", "created_at"]
    list_filter = ["status"]
    search_fields = ["slug", "name"]
    readonly_fields = ["schema_name", "slug", "status", "status_changed_at", "export_path", "created_at"]
    inlines = [DomainInline]
    actions = ["suspend", "resume", "delete_with_export"]

    def has_add_permission(self, request):
        return False  # tenants are created by sign-up, which builds the schema

    def has_delete_permission(self, request, obj=None):
        return False  # deletion exports first: use the action

    @admin.action(description=_("Suspend (read-only)"))
    def suspend(self, request, queryset):
        for tenant in queryset.filter(status=Tenant.Status.ACTIVE):
            services.suspend(tenant)

    @admin.action(description=_("Resume"))
    def resume(self, request, queryset):
        for tenant in queryset.filter(status=Tenant.Status.SUSPENDED):
            services.resume(tenant)

    @admin.action(description=_("Delete: export, then drop the schema"))
    def delete_with_export(self, request, queryset):
        for tenant in queryset.exclude(status=Tenant.Status.DELETED):
            path = services.delete_tenant(tenant)
            self.message_user(
                request,
                _("%(slug)s exported to %(path)s") % {"slug": tenant.slug, "path": path},
                messages.SUCCESS,
            )


@admin.register(TemplateSnapshot)
class TemplateSnapshotAdmin(admin.ModelAdmin):
    list_display = ["migration_digest", "relation_count", "created_at"]
    readonly_fields = ["migration_digest", "relation_count", "seeded_tables", "created_at", "ddl"]

    def has_add_permission(self, request):
        return False
