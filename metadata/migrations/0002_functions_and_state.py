from django.db import migrations

from metadata.sql import DATE_FUNCTION, DATETIME_FUNCTION, DROP_FUNCTIONS


def first_version(apps, schema_editor):
    apps.get_model("metadata", "MetadataState").objects.get_or_create(pk=1, defaults={"version": 1})


class Migration(migrations.Migration):
    dependencies = [("metadata", "0001_initial")]

    operations = [
        migrations.RunSQL(DATE_FUNCTION + DATETIME_FUNCTION, DROP_FUNCTIONS),
        migrations.RunPython(first_version, migrations.RunPython.noop),
    ]
