from pathlib import Path

from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The Django project itself, and the public-schema control plane (sign-up, staff admin)."""

    name = "crm_platform"
    label = "crm_platform"
    # `platform/` has no __init__.py (see pyproject.toml), so Django cannot infer the path.
    path = str(Path(__file__).resolve().parent)

    def ready(self):
        # pgtrigger teaches makemigrations about triggers, but patches Django's own `migrate`,
        # which django-tenants replaces with migrate_schemas: give that one the same autodetector.
        from django.core.management.commands import makemigrations
        from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
        from pgtrigger import apps as pgtrigger_apps

        pgtrigger_apps.patch_migrations()
        MigrateSchemasCommand.autodetector = makemigrations.Command.autodetector
