"""The default sales pipeline every tenant starts with; admins rename or replace its stages."""

from django.db import migrations

STAGES = [
    # code, English, 简体中文, probability %, outcome
    ("qualify", "Qualification", "初步接洽", 10, "open"),
    ("needs", "Needs analysis", "需求确认", 25, "open"),
    ("proposal", "Proposal / quote", "方案报价", 50, "open"),
    ("negotiation", "Negotiation", "商务谈判", 75, "open"),
    ("won", "Won", "赢单", 100, "won"),
    ("lost", "Lost", "输单", 0, "lost"),
]


def create_pipeline(apps, schema_editor):
    if schema_editor.connection.schema_name == "public":
        return
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    pipeline = Pipeline.objects.create(code="default", labels={"en": "Sales", "zh-hans": "销售流程"}, is_default=True)
    for position, (code, en, zh, probability, outcome) in enumerate(STAGES, start=1):
        Stage.objects.create(pipeline=pipeline, code=code, labels={"en": en, "zh-hans": zh}, position=position,
                             probability=probability, outcome=outcome)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(create_pipeline, migrations.RunPython.noop)]
