"""Demo follow-ups and visit plans: a year of calls, visits and WeChat chats with the customers, the
latest ones planning a next contact (some due today or overdue), and the coming weeks' visits.

Runs after crm/customers/demo.py and crm/sales/demo.py: it talks to their contacts and deals.
"""

# Chinese text uses full-width punctuation, as it should.
# ruff: noqa: RUF001

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from crm.activities.services import log_follow_up
from crm.activities.visits import cancel_visit, plan_visit
from crm.customers.models import Account

# (method, outcome, result): what reps write down, in both languages the demo company uses.
NOTES = [
    ("call", "positive", "客户确认了采购数量，等待内部审批"),
    ("call", "no_contact", "电话无人接听，稍后再打"),
    ("call", "neutral", "Asked for the updated price list; sent by e-mail"),
    ("visit", "positive", "上门演示新款变频空调，客户很满意"),
    ("visit", "neutral", "看了机房现场，需重新测量尺寸"),
    ("wechat", "positive", "微信发送报价单，客户已读并回复“下周定”"),
    ("wechat", "neutral", "客户咨询售后保修政策"),
    ("email", "neutral", "Sent the installation plan and the warranty terms"),
    ("meeting", "positive", "与采购部、工程部开会确认技术方案"),
    ("meeting", "negative", "客户认为价格偏高，要求再降 5%"),
    ("other", "neutral", "展会上遇到客户，交换了新的联系方式"),
]
VISIT_PURPOSES = [
    "新品演示",
    "年度合同续签沟通",
    "售后回访",
    "Site survey for the fresh-air system",
    "催收尾款",
]


def _moment(day: date, rng: random.Random) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(rng.randint(9, 18), rng.choice([0, 10, 30, 40]))))


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    owned = [account for account in accounts if account.owner_id]
    for account in owned:
        _history(rng, today, Account.objects.get(pk=account.pk))
    _visits(rng, today, owned)


def _history(rng: random.Random, today: date, account: Account) -> None:
    """Follow-ups oldest first (each settles the previous plan); the last plans the next contact."""
    # The owner can only mention the contacts and deals they can see.
    contacts = list(account.contacts.visible_to(account.owner))
    deals = list(account.opportunities.visible_to(account.owner))
    days = sorted(rng.sample(range(2, 360), k=rng.randint(2, 7)), reverse=True)
    for n, days_ago in enumerate(days):
        method, outcome, result = rng.choice(NOTES)
        day = today - timedelta(days=days_ago)
        last = n == len(days) - 1
        # The latest contact plans one soon: some fall due today or are already overdue.
        next_on = day + timedelta(days=rng.randint(3, 21)) if last or rng.random() < 0.5 else None
        log_follow_up(
            actor=account.owner,
            account=account,
            method=method,
            occurred_at=_moment(day, rng),
            outcome=outcome,
            result=result,
            contact=rng.choice(contacts) if contacts and rng.random() < 0.8 else None,
            opportunity=rng.choice(deals) if deals and rng.random() < 0.4 else None,
            next_follow_up_on=next_on,
        )


def _visits(rng: random.Random, today: date, accounts: list[Account]) -> None:
    """Visits planned for the next two weeks; one called off."""
    for n, account in enumerate(rng.sample(accounts, k=min(6, len(accounts)))):
        when = _moment(today + timedelta(days=rng.randint(1, 14)), rng)
        contact = account.contacts.order_by("id").first()
        plan = plan_visit(
            actor=account.owner,
            account=account,
            contact=contact,
            planned_at=when,
            purpose=rng.choice(VISIT_PURPOSES),
        )
        if n == 0:
            cancel_visit(actor=account.owner, plan=plan, reason="客户临时出差 / customer away on business")
