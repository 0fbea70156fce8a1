"""Demo configuration: what a tenant admin of 华辰家电 would set up without code.

Custom fields on accounts (a tier, an ERP code that must be unique, an annual budget and a formula
banding it), a validation rule, a custom object "project" with records linked to accounts, and
shared views over both. Runs last of the demo seeds, through the same services an admin uses.
"""

import random
from datetime import date
from decimal import Decimal

from accounts.models import User
from crm.customers.models import Account
from crm.customers.services import update_account
from crm.records.audit import acting_as
from metadata import records, services
from metadata.views.services import create_view

TIERS = [("gold", "Gold", "金牌"), ("silver", "Silver", "银牌"), ("standard", "Standard", "普通")]
PROJECT_STAGES = [
    ("survey", "Survey", "勘测"),
    ("install", "Installing", "安装中"),
    ("done", "Done", "已完工"),
]
PROJECTS = ["门店空调改造", "员工食堂厨电更新", "新楼盘精装配套", "酒店热水系统升级", "Showroom refit"]


def _choices(rows):
    return {"choices": [{"value": value, "label_en": en, "label_zh": zh} for value, en, zh in rows]}


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    admin = User.objects.get(is_superuser=True)
    account_fields = [
        ("tier", "select", "Customer tier", "客户等级", {"options": _choices(TIERS), "filterable": True}),
        ("erp_code", "text", "ERP code", "ERP 编码", {"unique": True, "options": {"max_length": 20}}),
        ("annual_budget", "currency", "Annual budget", "年度预算", {"sortable": True, "filterable": True}),
        (
            "budget_band",
            "formula",
            "Budget band",
            "预算档位",
            {"options": {"expression": 'IF(annual_budget >= 1000000, "大客户", "普通")'}},
        ),
    ]
    for name, type_, label_en, label_zh, extra in account_fields:
        services.add_field(
            actor=admin,
            object_key="customers.account",
            name=name,
            type=type_,
            label_en=label_en,
            label_zh=label_zh,
            **extra,
        )
    services.add_rule(
        actor=admin,
        object_key="customers.account",
        name="budget_not_negative",
        condition="annual_budget < 0",
        message_en="The annual budget cannot be negative.",
        message_zh="年度预算不能为负数。",
        field="annual_budget",
    )
    with acting_as(admin):
        for index, account in enumerate(Account.objects.order_by("pk")):
            tier = rng.choices([t[0] for t in TIERS], weights=[2, 3, 5])[0]
            budget = Decimal(rng.randrange(50, 3000) * 1000)
            custom = {"tier": tier, "erp_code": f"ERP-{index + 1:05d}", "annual_budget": int(budget)}
            update_account(actor=admin, account=account, custom=custom)

    services.create_object(
        actor=admin,
        name="project",
        label_en="Project",
        label_zh="项目",
        plural_en="Projects",
        plural_zh="项目",
    )
    for name, type_, label_en, label_zh, options in [
        ("account", "lookup", "Customer", "客户", {"target": "customers.account"}),
        ("stage", "select", "Stage", "阶段", _choices(PROJECT_STAGES)),
        ("budget", "currency", "Budget", "预算", {}),
        ("due_on", "date", "Due date", "交付日期", {}),
    ]:
        services.add_field(
            actor=admin,
            object_key="custom.project",
            name=name,
            type=type_,
            label_en=label_en,
            label_zh=label_zh,
            options=options,
        )
    for title in PROJECTS:
        customer = rng.choice(accounts)
        records.create_record(
            admin,
            "custom.project",
            title,
            custom={
                "account": customer.pk,
                "stage": rng.choice(PROJECT_STAGES)[0],
                "budget": rng.randrange(20, 500) * 1000,
                "due_on": date.fromordinal(today.toordinal() + rng.randrange(-30, 90)).isoformat(),
            },
        )

    create_view(
        actor=admin,
        object_key="customers.account",
        name="gold_customers",
        label_en="Gold customers",
        label_zh="金牌客户",
        columns=["name", "custom.tier", "custom.annual_budget", "custom.budget_band", "owner"],
        filter={"field": "custom.tier", "op": "eq", "value": "gold"},
        sort=[{"field": "custom.annual_budget", "direction": "desc"}],
        visibility="everyone",
    )
    create_view(
        actor=admin,
        object_key="custom.project",
        name="projects_by_stage",
        label_en="Projects by stage",
        label_zh="项目看板",
        kind="kanban",
        columns=["name", "custom.account", "custom.budget", "custom.due_on"],
        kanban_field="custom.stage",
        aggregates=[{"function": "sum", "field": "custom.budget"}],
        visibility="everyone",
    )
