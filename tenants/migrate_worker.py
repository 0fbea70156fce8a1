"""Entry points of the worker processes `migrate_schemas` spawns.

Kept apart from migrate_executor: a spawned process unpickles these functions by importing this
module before Django is set up, so it must import nothing that touches models at import time.
"""

import os


def start(database_name: str) -> None:
    import django
    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_platform.settings")
    django.setup()
    # The parent's database, which differs from DATABASE_URL's under a test runner.
    settings.DATABASES["default"]["NAME"] = database_name


def migrate(args, options, schema: str, codename: str) -> tuple[str, str | None]:
    from django.db import connections
    from django_tenants.migration_executors.base import run_migrations

    try:
        run_migrations(args, options, codename, schema, allow_atomic=False)
    except Exception as exc:  # reported per schema; the others go on
        return schema, f"{exc.__class__.__name__}: {exc}"
    finally:
        connections.close_all()
    return schema, None
