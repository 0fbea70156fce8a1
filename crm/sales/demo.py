"""Demo sales history: a projects pipeline beside the default one, and a year of deals worked through
their stages (with contacts, probability overrides, wins and losses with reasons), all through the
services, so the stage history, funnel and forecast have something to show.

Runs after crm/customers/demo.py (it names contacts from there) and beside the opportunities that
crm/demo.py creates without history.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from crm.customers.models import Account
from crm.sales import pipelines
from crm.sales.models import Stage
from crm.sales.services import create_opportunity, move_to_stage

DEAL_COUNT = 28
PROJECT_DEAL_COUNT = 6
PRODUCTS = [
    ("中央空调集采", 300, 2500),
    ("厨电套装年度采购", 40, 400),
    ("燃气热水器批量更换", 30, 300),
    ("智能冰箱门店铺货", 50, 500),
    ("Laundry room refit", 80, 800),
    ("商用净水器工程", 20, 200),
    ("Fresh-air system upgrade", 100, 1200),
]
LOSS_REASONS = [
    "价格高于竞品 / priced above the competitor",
    "客户预算取消 / budget cancelled",
    "选择了本地品牌 / chose a local brand",
    "交期无法满足 / delivery date not possible",
    "项目延期至明年 / project postponed",
]
PROJECT_STAGES = [
    {"code": "tender", "labels": {"zh-hans": "招标公告", "en": "Tender notice"}, "probability": 10},
    {"code": "bid", "labels": {"zh-hans": "投标", "en": "Bid submitted"}, "probability": 30},
    {"code": "shortlist", "labels": {"zh-hans": "入围", "en": "Shortlisted"}, "probability": 60},
    {"code": "won", "labels": {"zh-hans": "中标", "en": "Awarded"}, "probability": 100, "outcome": "won"},
    {
        "code": "lost",
        "labels": {"zh-hans": "未中标", "en": "Not awarded"},
        "probability": 0,
        "outcome": "lost",
    },
]


def _moment(day: date, rng: random.Random) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(rng.randint(9, 17), rng.choice([0, 15, 30, 45]))))


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    sellers = [u for u in staff if u.role and u.role.code in ("sales_rep", "sales_manager")] or staff
    admin = next((u for u in sellers if u.role and u.role.code == "sales_manager"), sellers[0])
    projects = pipelines.create_pipeline(
        actor=admin, code="projects", labels={"zh-hans": "工程项目", "en": "Projects"}, stages=PROJECT_STAGES
    )
    default = pipelines.default_pipeline()
    for pipeline, count in ((default, DEAL_COUNT), (projects, PROJECT_DEAL_COUNT)):
        ladder = list(pipeline.stages.filter(outcome=Stage.Outcome.OPEN).order_by("position"))
        closed = {s.outcome: s for s in pipeline.stages.exclude(outcome=Stage.Outcome.OPEN)}
        for _ in range(count):
            _one_deal(rng, today, rng.choice(accounts), sellers, pipeline, ladder, closed)


def _one_deal(rng, today, account, sellers, pipeline, ladder, closed) -> None:
    """A deal opened some time in the last year, moved up the ladder step by step (now and then
    skipping one), then won, lost or still open."""
    # The account's owner works the deal (a dealer's customer, a dealer's deal); pool ones go to a rep.
    owner = account.owner or rng.choice(sellers)
    product, low, high = rng.choice(PRODUCTS)
    opened = today - timedelta(days=rng.randint(20, 350))
    contacts = list(account.contacts.order_by("id")[: rng.randint(0, 2)])
    deal = create_opportunity(
        actor=owner,
        account=account,
        name=f"{account.name} · {product}",
        amount=Decimal(rng.randint(low, high) * 1000),
        expected_close_date=opened + timedelta(days=rng.randint(45, 200)),
        pipeline=pipeline,
        contacts=contacts,
        probability_override=rng.choice([None, None, None, 20, 40, 65]),
        at=_moment(opened, rng),
    )
    fate = rng.random()
    steps = rng.randint(1, len(ladder)) if fate < 0.75 else len(ladder)
    moment = deal.stage_entered_at
    for stage in ladder[1:steps]:
        if rng.random() < 0.15:
            continue  # went straight past this stage
        moment += timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 8))
        if timezone.localdate(moment) >= today:
            return
        deal = move_to_stage(actor=owner, opportunity=deal, stage=stage, at=moment)
    if fate < 0.45:
        return  # still open
    moment += timedelta(days=rng.randint(5, 45))
    if timezone.localdate(moment) >= today:
        return
    if fate < 0.8:
        move_to_stage(actor=owner, opportunity=deal, stage=closed[Stage.Outcome.WON], at=moment)
    else:
        move_to_stage(
            actor=owner,
            opportunity=deal,
            stage=closed[Stage.Outcome.LOST],
            loss_reason=rng.choice(LOSS_REASONS),
            at=moment,
        )
