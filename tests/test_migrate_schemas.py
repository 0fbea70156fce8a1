"""`migrate_schemas` skips up-to-date schemas and migrates stale ones, canary first."""

from io import StringIO

from django.core.management import call_command
from django.db import connection

from tenants.migrate_executor import stale_schemas

# The admin app lives in the public schema only, so in a tenant schema its last migration changes
# nothing: forgetting its record makes a harmless stale schema.
NO_OP = ("admin", "0003_logentry_add_action_flag_choices")


def forget_migration(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', NO_OP)


def recorded(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s', NO_OP
        )
        return cursor.fetchone()[0] == 1


def test_only_stale_schemas_are_found(alpha, beta):
    assert stale_schemas([alpha.schema_name, beta.schema_name, "public"]) == []
    forget_migration(beta.schema_name)
    assert stale_schemas([alpha.schema_name, beta.schema_name]) == [beta.schema_name]
    assert stale_schemas(["no_such_schema"]) == ["no_such_schema"]


def test_migrate_schemas_applies_what_is_missing_and_skips_the_rest(committed_db, two_tenants, capsys):
    alpha, beta = two_tenants
    forget_migration(beta.schema_name)
    call_command("migrate_schemas", "--tenant", "--noinput", stdout=StringIO(), stderr=StringIO())
    connection.set_schema_to_public()
    assert recorded(beta.schema_name) and recorded(alpha.schema_name)
    assert stale_schemas([alpha.schema_name, beta.schema_name]) == []
    # The executor reports on the process's stdout, as django-tenants' executors do.
    assert "2 schema(s): 1 up to date, 1 migrated, 0 failed" in capsys.readouterr().out


def test_stale_schemas_after_the_canary_migrate_in_worker_processes(committed_db, two_tenants, capsys):
    alpha, beta = two_tenants
    forget_migration(alpha.schema_name)
    forget_migration(beta.schema_name)
    call_command("migrate_schemas", "--tenant", "--noinput", stdout=StringIO(), stderr=StringIO())
    connection.set_schema_to_public()
    assert recorded(alpha.schema_name) and recorded(beta.schema_name)
    assert "2 schema(s): 0 up to date, 2 migrated, 0 failed" in capsys.readouterr().out


def test_a_run_with_nothing_to_do_touches_no_schema(committed_db, two_tenants, capsys):
    call_command("migrate_schemas", "--tenant", "--noinput", stdout=StringIO(), stderr=StringIO())
    assert "2 schema(s): 2 up to date, 0 migrated, 0 failed" in capsys.readouterr().out


def test_django_tenants_forking_executor_works_with_the_connection_pool(committed_db, two_tenants, capsys):
    _, beta = two_tenants
    forget_migration(beta.schema_name)
    call_command(
        "migrate_schemas",
        "--tenant",
        "--noinput",
        "--executor=multiprocessing",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    connection.set_schema_to_public()
    assert recorded(beta.schema_name)
