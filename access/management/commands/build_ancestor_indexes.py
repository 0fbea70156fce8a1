"""`manage.py build_ancestor_indexes [--tenant slug ...]`: build the ancestor indexes every tenant's
channel tree wants (access/ancestors.py), for tenants whose tree predates them or whose background
build was lost. Idempotent: a tenant with nothing missing costs a few catalog queries."""

from django.core.management.base import BaseCommand
from django.db import connection
from django_tenants.utils import get_public_schema_name

from access.tasks import build_ancestor_indexes_now
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Build the missing ancestor indexes of every tenant (or of the named ones), concurrently."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", action="append", default=[], help="A tenant's slug (repeatable).")

    def handle(self, *args, tenant, **options):
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("pk")
        if tenant:
            tenants = tenants.filter(slug__in=tenant)
        for n, found in enumerate(tenants, 1):
            ready = build_ancestor_indexes_now(found.schema_name)
            connection.set_schema_to_public()
            if ready is None:
                self.stdout.write(f"[{n}] {found.slug}: a build is running elsewhere; skipped")
            else:
                self.stdout.write(f"[{n}] {found.slug}: depths newly ready: {ready or 'none'}")
