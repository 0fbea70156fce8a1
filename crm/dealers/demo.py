"""Demo dealer portal: deal registrations in every state (one with a conflict for the reviewer),
rebate policies for agents and retailers, and rebate accruals for the last three months.

Runs after crm/finance/demo.py: the rebates are computed from the payments collected there.
Two more dealer users join (same password as the other demo users) so that every registration has
a reviewer one level up.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Role, User
from channels.models import ChannelMember, ChannelNode
from crm.customers.models import Account
from crm.dealers.models import DealRegistration
from crm.dealers.rebates import accrue_rebates, confirm_rebate, pay_out_rebate, set_rebate_policy
from crm.dealers.registrations import (
    approve_registration,
    convert_registration,
    expire_registrations,
    reject_registration,
    submit_registration,
)

# (e-mail, name, role, node code)
DEALERS = [
    ("zhou.jie@demo.example", "周杰", "dealer_admin", "dist-shenzhen"),
    ("wu.fang@demo.example", "吴芳", "dealer_user", "dist-hangzhou"),
]
AGENT_TIERS = [{"up_to": "500000", "rate": "1"}, {"up_to": None, "rate": "1.5"}]
RETAILER_TIERS = [{"up_to": "100000", "rate": "2"}, {"up_to": None, "rate": "3"}]


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    dealers = _dealers()
    if not {"li.na", "sun.hao", "zhou.jie", "wu.fang"} <= dealers.keys():
        return  # not the standard demo company
    manager = User.objects.filter(role__code="admin", is_active=True).order_by("id").first()
    finance = next((u for u in staff if u.role and u.role.code == "finance"), None)
    _registrations(dealers, manager, today, rng)
    _rebates(finance, today)


def _dealers() -> dict[str, User]:
    template = User.objects.filter(email="li.na@demo.example").first()
    for email, name, role, code in DEALERS:
        node = ChannelNode.objects.filter(code=code).first()
        if template is None or node is None or User.objects.filter(email=email).exists():
            continue
        user = User.objects.create(
            email=email, full_name=name, password=template.password, role=Role.objects.get(code=role)
        )
        ChannelMember.objects.create(user=user, node=node)
    return {
        member.user.email.split("@")[0]: member.user
        for member in ChannelMember.objects.select_related("user", "user__role")
    }


def _register(actor, today, rng, **fields) -> DealRegistration:
    fields.setdefault("expected_amount", Decimal(rng.randint(30, 600) * 1000))
    return submit_registration(
        actor=actor, expected_close_date=today + timedelta(days=rng.randint(20, 120)), **fields
    )


def _registrations(dealers, manager, today, rng) -> None:
    li, sun, zhou, wu = dealers["li.na"], dealers["sun.hao"], dealers["zhou.jie"], dealers["wu.fang"]
    _register(
        li, today, rng, company_name="深圳蛇口国际邮轮中心", phone="0755-2688 1234", contact_name="陈主管"
    )
    won = _register(
        li,
        today,
        rng,
        company_name="南山科技园创新公寓运营有限公司",
        contact_name="刘经理",
        notes="120 套公寓空调",
    )
    approve_registration(actor=zhou, registration=won)
    convert_registration(actor=li, registration=won)
    protected = _register(
        wu,
        today,
        rng,
        company_name="杭州滨江金茂府物业服务有限公司",
        phone="0571-8666 2019",
        contact_name="何经理",
    )
    approve_registration(actor=sun, registration=protected)
    rejected = _register(wu, today, rng, company_name="杭州西溪湿地度假酒店", notes="客房空调更换")
    reject_registration(actor=sun, registration=rejected, reason="该客户由分销商直营团队跟进")
    # The agent registers the same property company: the brand's reviewer sees the conflict.
    _register(sun, today, rng, company_name="杭州滨江 金茂府物业服务", notes="整体厨电项目")
    if manager is not None:
        other = _register(sun, today, rng, company_name="宁波东部新城商务酒店", contact_name="孙总")
        approve_registration(actor=manager, registration=other)
    # One from last season that nobody converted in time.
    old = _register(li, today, rng, company_name="福田保税区仓储物流园")
    DealRegistration.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - timedelta(days=120), expires_on=today - timedelta(days=30)
    )
    expire_registrations(today)


def _rebates(finance, today) -> None:
    set_rebate_policy(
        actor=finance, name="区域代理月度返利", channel_level="agent", period="month", tiers=AGENT_TIERS
    )
    set_rebate_policy(
        actor=finance, name="零售门店月度返利", channel_level="retailer", period="month", tiers=RETAILER_TIERS
    )
    months = []
    first = today.replace(day=1)
    for _ in range(3):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(f"{first:%Y-%m}")
    for index, period in enumerate(reversed(months)):  # oldest first
        for accrual in accrue_rebates(period, actor=finance):
            if index < 2:
                confirm_rebate(actor=finance, accrual=accrual)
            if index == 0:
                pay_out_rebate(actor=finance, accrual=accrual)
