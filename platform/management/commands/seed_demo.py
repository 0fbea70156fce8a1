"""`manage.py seed_demo`: create the demo company (see crm/demo.py) and print how to sign in."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm import demo


class Command(BaseCommand):
    help = "Create the demo tenant (华辰家电 Huachen Appliances) with dealers, users, accounts and deals."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default=demo.DEMO_SLUG, help=f"Subdomain (default {demo.DEMO_SLUG}).")
        parser.add_argument("--port", type=int, default=8000, help="Dev server port, for the URL.")

    def handle(self, *args, slug, port, **options):
        try:
            tenant = demo.seed_demo_tenant(slug=slug, say=self.stdout.write)
        except ValidationError as exc:
            raise CommandError(f"Cannot sign the demo company up: {'; '.join(exc.messages)}") from exc
        host = tenant.get_primary_domain()
        domain = host.domain if host else f"{tenant.slug}.{settings.BASE_DOMAIN}"
        self.stdout.write(self.style.SUCCESS(f"Open http://{domain}:{port}/accounts/login/"))
        self.stdout.write(f"Password for every demo user: {demo.DEMO_PASSWORD}")
        self.stdout.write(f"  {demo.DEMO_ADMIN[0]:<26} admin")
        for user in demo.USERS:
            self.stdout.write(f"  {user.email:<26} {user.role}")
