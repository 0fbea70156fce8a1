"""Print the base GraphQL schema (a tenant with no custom fields or objects) into
api/graphql/base.graphql, or with --check fail when the committed file differs."""

import difflib
import sys

from django.core.management.base import BaseCommand, CommandError

from api.graphql.schema import BASE_SCHEMA_FILE, printed_base_schema


class Command(BaseCommand):
    help = "Write api/graphql/base.graphql from the code (--check: only compare)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")

    def handle(self, *args, check: bool = False, **options):
        printed = printed_base_schema()
        committed = BASE_SCHEMA_FILE.read_text() if BASE_SCHEMA_FILE.exists() else ""
        if not check:
            BASE_SCHEMA_FILE.write_text(printed)
            self.stdout.write(f"wrote {BASE_SCHEMA_FILE}")
            return
        if printed != committed:
            diff = difflib.unified_diff(
                committed.splitlines(True), printed.splitlines(True), "committed", "generated", n=2
            )
            sys.stderr.writelines(diff)
            raise CommandError("api/graphql/base.graphql is stale: run `python manage.py graphql_base`.")
        self.stdout.write("base.graphql is current")
