from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("benchapp", "0001_initial")]

    operations = [
        migrations.AddField("benchitem", "score", models.IntegerField(default=0)),
        migrations.AddIndex("benchitem", models.Index(fields=["score"], name="benchapp_score_idx")),
    ]
