"""Demo service desk: a year of repairs, installations, inquiries, complaints and returns, most
resolved and closed with a satisfaction score, a few reopened, the latest still open (some late).

Runs after the other seeds; it needs only accounts, their contacts and staff.
"""

# Chinese text uses full-width punctuation, as it should.
# ruff: noqa: RUF001

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from crm.customers.models import Account
from crm.service import services
from crm.service.models import Case
from crm.service.sla import flag_sla_breaches, set_sla_hours

CASE_COUNT = 40
# (kind, subject, resolution, priorities to pick from)
CASES = [
    ("repair", "空调不制冷，室外机异响", "更换压缩机电容，试机正常", ["high", "urgent"]),
    ("repair", "热水器点火失败 E1 故障", "清理点火针并更换电池盒", ["normal", "high"]),
    ("repair", "Dishwasher leaking under the door", "Door seal replaced", ["normal"]),
    ("installation", "新购 20 台柜机预约安装", "安装完成并培训物业人员", ["normal", "low"]),
    ("installation", "Install range hoods in the staff canteen", "Installed and tested", ["low"]),
    ("inquiry", "咨询整机保修期限与延保价格", "已说明：整机两年，延保每年 8%", ["low"]),
    ("inquiry", "索要增值税专用发票", "财务已开具并快递", ["normal"]),
    ("complaint", "安装师傅迟到两小时", "致歉并赠送一次免费清洗", ["high"]),
    (
        "complaint",
        "Noise from the new fridge at night",
        "Compressor mount adjusted; customer satisfied",
        ["normal"],
    ),
    ("return", "冰箱外观划伤，要求退换", "上门换新，旧机拉回", ["high"]),
    ("other", "门店展台物料补发", "已补发并确认签收", ["low"]),
]


def _moment(day: date, rng: random.Random) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(rng.randint(8, 18), rng.randint(0, 59))))


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    desk = [u for u in staff if u.role and u.role.code == "service"] or staff
    manager = next((u for u in staff if u.role and u.role.code == "sales_manager"), staff[0])
    set_sla_hours(actor=manager, urgent=4, high=8, normal=24, low=72)
    now = timezone.now()
    for _ in range(CASE_COUNT):
        kind, subject, resolution, priorities = rng.choice(CASES)
        account = rng.choice(accounts)
        # Whoever looks after the customer (a dealer for its own) logs the case; the pool's go to the manager.
        opener = account.owner or manager
        contacts = list(account.contacts.visible_to(opener))
        opened = _moment(today - timedelta(days=rng.randint(0, 360)), rng)
        if opened > now:
            opened = now - timedelta(hours=1)
        engineer = rng.choice(desk)
        case = services.open_case(
            actor=opener,
            account=account,
            subject=subject,
            kind=kind,
            priority=rng.choice(priorities),
            contact=rng.choice(contacts) if contacts else None,
            assignee=engineer if rng.random() < 0.85 else None,
            opened_at=opened,
        )
        if case.assignee:
            _work(case, resolution, engineer, rng, now)  # unassigned ones wait in the queue
    flag_sla_breaches(now)


def _work(case: Case, resolution: str, engineer: User, rng: random.Random, now: datetime) -> None:
    """Resolved within (or a little past) the SLA, mostly closed with a score (complaints and late
    cases score lower); some resolved ones wait for the customer's confirmation."""
    hours = (case.sla_due_at - case.opened_at).total_seconds() / 3600
    resolved = case.opened_at + timedelta(hours=hours * rng.uniform(0.2, 1.4))
    if resolved > now:
        if rng.random() < 0.3:
            services.wait_for_customer(actor=engineer, case=case)
        return  # still being worked on
    actor = case.assignee or engineer
    services.resolve(actor=actor, case=case, resolution=resolution, at=resolved)
    closed = resolved + timedelta(hours=rng.randint(2, 72))
    if closed > now or rng.random() < 0.12:
        return
    low = case.kind == Case.Kind.COMPLAINT or resolved > case.sla_due_at
    score = rng.choice([2, 3, 4] if low else [4, 5, 5, 5, None])
    services.close(actor=actor, case=case, satisfaction=score, at=closed)
    if score is not None and score <= 2 and rng.random() < 0.5:
        services.reopen(actor=actor, case=case, reason="客户反馈问题复现 / the problem came back")
