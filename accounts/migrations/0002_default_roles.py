"""Every tenant starts with these roles. Seeded by migration so the template and a migrated schema agree."""

from django.db import migrations

DEFAULT_ROLES = [
    # code, English, 简体中文, data level, portal role, max discount %
    ("admin", "Administrator", "管理员", "all", False, 100),
    ("sales_manager", "Sales manager", "销售经理", "subtree", False, 20),
    ("sales_rep", "Sales rep", "销售代表", "own", False, 5),
    ("finance", "Finance", "财务", "all", False, 0),
    ("service", "Customer service", "客服", "unit", False, 0),
    ("dealer_admin", "Dealer administrator", "经销商管理员", "subtree", True, 0),
    ("dealer_user", "Dealer user", "经销商用户", "own", True, 0),
]


def create_roles(apps, schema_editor):
    if schema_editor.connection.schema_name == "public":
        return  # platform staff have no CRM roles
    Role = apps.get_model("accounts", "Role")
    for code, en, zh, level, portal, discount in DEFAULT_ROLES:
        Role.objects.create(code=code, labels={"en": en, "zh-hans": zh}, data_level=level, is_portal=portal,
                            is_system=True, max_discount_percent=discount)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
