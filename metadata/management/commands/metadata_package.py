"""`manage.py metadata_package export|import <tenant slug> <file>`: promote a configuration from
one tenant (a sandbox) to another. Import shows the dry run's plan first; it writes only without
`--dry-run`, and then only if no item is refused."""

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from metadata.packages import PackageRefused, apply_package, diff_package, export_package
from metadata.packages.plan import UNCHANGED
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Export a tenant's metadata to a package file, or import a package (with --dry-run first)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("tenant", help="The tenant's slug.")
        parser.add_argument("file", help="Package file to write or read; - for stdout/stdin.")
        parser.add_argument("--dry-run", action="store_true", help="Show the plan; change nothing.")
        parser.add_argument("--prune", action="store_true", help="Delete what the package lacks.")
        parser.add_argument("--verbose-plan", action="store_true", help="List unchanged items too.")

    def handle(self, *args, action, tenant, file, dry_run, prune, verbose_plan, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}.")
        with tenant_context(found):
            # The system acts (actor None): whoever runs manage.py administers every tenant.
            if action == "export":
                self._write(file, export_package(None))
                return
            package = self._read(file)
            try:
                plan = (diff_package if dry_run else apply_package)(None, package, prune=prune)
            except ValidationError as error:
                raise CommandError(self._errors(error.message_dict)) from error
            except PackageRefused as refused:
                self._show(refused.plan, verbose_plan)
                raise CommandError(f"{refused.detail}\n{self._errors(refused.plan.errors())}") from refused
        self._show(plan, verbose_plan)
        self.stdout.write(self.style.SUCCESS("Imported." if plan.applied else "Dry run: nothing changed."))

    def _write(self, file, package):
        text = json.dumps(package, ensure_ascii=False, indent=2, default=str)
        if file == "-":
            self.stdout.write(text)
        else:
            with open(file, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")

    def _read(self, file):
        try:
            if file == "-":
                return json.load(sys.stdin)
            with open(file, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the package: {error}") from error

    def _show(self, plan, verbose):
        for entry in plan.entries:
            if entry.action == UNCHANGED and not verbose:
                continue
            self.stdout.write(f"{entry.action:<9} {entry.section:<16} {entry.key}")
            for name, (old, new) in entry.changes.items():
                self.stdout.write(
                    f"          {name}: {json.dumps(old, default=str)} -> {json.dumps(new, default=str)}"
                )

    @staticmethod
    def _errors(errors: dict) -> str:
        return "\n".join(f"{where}: {' '.join(messages)}" for where, messages in errors.items())
