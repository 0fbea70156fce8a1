"""Write, or check, the committed base schema (api/openapi/base.json).

python manage.py openapi_base            rewrite the file from the code
python manage.py openapi_base --check    exit 1 with a diff if the file is out of date
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from api.openapi.base import BASE_PATH, base_diff, write_base


class Command(BaseCommand):
    help = "Write the OpenAPI document of a freshly signed-up tenant to api/openapi/base.json, or check it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Fail with a diff if the file differs from the code."
        )
        parser.add_argument("--path", type=Path, default=BASE_PATH, help="The file (default: %(default)s).")

    def handle(self, *args, check: bool, path: Path, **options):
        if not check:
            write_base(path)
            self.stdout.write(f"Wrote {path}.")
            return
        diff = base_diff(path)
        if diff:
            self.stderr.write(diff)
            raise CommandError(
                f"{path} is out of date: the API changed. If the change is intended, run "
                "`python manage.py openapi_base` and commit the file."
            )
        self.stdout.write(f"{path.name} is up to date.")
