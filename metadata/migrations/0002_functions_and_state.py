import uuid

from django.db import migrations

from metadata.sql import DATE_FUNCTION, DATETIME_FUNCTION, DROP_FUNCTIONS


# Every new tenant starts from the same stamp, so a provisioned schema equals a migrated one; caches
# key on (schema, stamp), and every change draws a random stamp.
FIRST_STAMP = uuid.UUID(int=1)


def first_version(apps, schema_editor):
    apps.get_model("metadata", "MetadataState").objects.get_or_create(
        pk=1, defaults={"version": 1, "stamp": FIRST_STAMP}
    )


class Migration(migrations.Migration):
    dependencies = [("metadata", "0001_initial")]

    operations = [
        migrations.RunSQL(DATE_FUNCTION + DATETIME_FUNCTION, DROP_FUNCTIONS),
        migrations.RunPython(first_version, migrations.RunPython.noop),
    ]
