"""Demo history for customers: contacts, standardised fields, a pool with returns and claims, leads."""

import random
from datetime import date

from accounts.models import User
from crm.customers import normalize, pool
from crm.customers.leads import convert_lead, create_lead
from crm.customers.models import Account, Contact
from crm.customers.services import refresh_classification

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "杰", "涛", "明", "超", "秀英", "建华", "志强"]
TITLES = ["采购经理", "总经理", "工程部主管", "行政主管", "财务经理", "Facility Manager", "Purchasing Lead"]
LEADS = [
    ("苏州工业园区人才公寓", "周先生", "0512-6295 1188", "exhibition"),
    ("无锡太湖度假村", "吴经理", "0510-8599 2210", "website"),
    ("宁波港物业服务中心", "徐主任", "0574-8768 3301", "referral"),
    ("厦门鼓浪屿民宿联盟", "林女士", "0592-2066 1187", "channel"),
    ("Qingdao Seaside Apartments", "Anna Liu", "+86 532 8087 6600", "website"),
    ("合肥滨湖新区幼儿园", "何园长", "0551-6355 7710", "cold_call"),
    ("长沙梅溪湖酒店", "罗总", "0731-8862 5519", "exhibition"),
    ("", "路过咨询的客户", "139 1234 5678", "other"),
]


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    for account in accounts:
        account.phone = normalize.phone(account.phone)
        account.name_key = normalize.company_key(account.name)
        account.source = rng.choice([c for c, _label in Account.Source.choices])
        account.save(update_fields=["phone", "name_key", "source", "updated_at"])
        for position in range(rng.randint(1, 3)):
            contact = Contact(
                account=account,
                name=_person(rng),
                title=rng.choice(TITLES),
                phone=normalize.phone(f"1{rng.choice('35789')}{rng.randint(100000000, 999999999)}"),
                is_primary=position == 0,
            )
            contact.place(owner=account.owner, channel_node=account.channel_node)
            contact.save()
        refresh_classification(account)
    reps = [user for user in staff if user.role and user.role.code in ("sales_rep", "sales_manager")]
    # Brand-owned accounts that went quiet are back in the pool (公海); one was claimed again.
    brand_accounts = [a for a in accounts if a.channel_path.count("/") == 2 and a.owner in reps]
    released = brand_accounts[:5]
    previous = {account.pk: account.owner for account in released}
    for account in released:
        pool.release_to_pool(actor=account.owner, account=account, reason="三个月未跟进 / no follow-up")
    if released and len(reps) > 1:
        taker = next(rep for rep in reps if rep != previous[released[0].pk])
        pool.claim_from_pool(actor=taker, account=released[0])
    for company, person, phone, source in LEADS:
        owner = rng.choice(reps) if reps else None
        lead = create_lead(actor=owner, person=person, company=company, phone=phone, source=source)
        if company and rng.random() < 0.4:
            convert_lead(actor=owner, lead=lead, opportunity_name=f"{company} · 首次合作")
