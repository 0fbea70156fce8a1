"""A believable demo company: a home-appliance brand with its dealer network, sales team and pipeline.

`seed_demo_tenant()` signs the company up like any customer (tenants.services.sign_up), then fills
its schema. It is idempotent (an existing tenant is left alone) and deterministic: every random
choice comes from one seeded generator, and dates are relative to the day of seeding.
"""

# The Chinese names below use full-width brackets, as Chinese text should.
# ruff: noqa: RUF001

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import OrgUnit, Role, User
from accounts.services import add_org_unit
from channels.models import ChannelMember, ChannelNode
from channels.services import add_channel_node
from crm.activities import demo as activities_demo
from crm.catalog import demo as catalog_demo
from crm.contracts import demo as contracts_demo
from crm.customers import demo as customers_demo
from crm.customers.models import Account
from crm.dealers import demo as dealers_demo
from crm.finance import demo as finance_demo
from crm.orders import demo as orders_demo
from crm.quotes import demo as quotes_demo
from crm.sales import demo as sales_demo
from crm.sales.models import Opportunity, Pipeline
from crm.service import demo as service_demo
from metadata import demo as metadata_demo
from tenants import services
from tenants.models import Tenant

# Each domain app seeds its own history, in the order of the customer lifecycle.
# (The follow-ups seed uses the deals the sales seed moves through the pipeline.)
DOMAIN_SEEDS = [
    customers_demo.seed,
    catalog_demo.seed,
    sales_demo.seed,
    activities_demo.seed,
    quotes_demo.seed,
    contracts_demo.seed,
    orders_demo.seed,
    finance_demo.seed,
    service_demo.seed,
    dealers_demo.seed,
    metadata_demo.seed,
]

DEMO_SLUG = "demo"
DEMO_COMPANY = "华辰家电 Huachen Appliances"
DEMO_ADMIN = ("admin@demo.example", "陈志华")
DEMO_PASSWORD = "Huachen-Demo-2025"
RANDOM_SEED = 20250101

# (code, name, level, parent code): the brand, regional agents, distributors, retailers; parents first.
CHANNEL_NODES = [
    ("huachen", "华辰家电（品牌总部）", "brand", None),
    ("agent-east", "华东区域总代理（上海）", "agent", "huachen"),
    ("agent-south", "华南区域总代理（广州）", "agent", "huachen"),
    ("agent-southwest", "西南区域代理（成都）", "agent", "huachen"),
    ("dist-hangzhou", "杭州华辰电器分销有限公司", "distributor", "agent-east"),
    ("dist-nanjing", "南京金陵家电贸易有限公司", "distributor", "agent-east"),
    ("dist-shenzhen", "深圳鹏程电器分销有限公司", "distributor", "agent-south"),
    ("dist-foshan", "佛山顺德家电供应链有限公司", "distributor", "agent-south"),
    ("dist-chengdu", "成都天府电器贸易有限公司", "distributor", "agent-southwest"),
    ("retail-hz-xihu", "西湖区华辰电器专卖店", "retailer", "dist-hangzhou"),
    ("retail-hz-binjiang", "滨江区家电生活馆", "retailer", "dist-hangzhou"),
    ("retail-nj-xinjiekou", "新街口华辰体验店", "retailer", "dist-nanjing"),
    ("retail-sz-nanshan", "南山区华辰旗舰店", "retailer", "dist-shenzhen"),
    ("retail-sz-futian", "福田区家电城华辰专柜", "retailer", "dist-shenzhen"),
    ("retail-fs-shunde", "顺德大良华辰专卖店", "retailer", "dist-foshan"),
    ("retail-cd-jinjiang", "锦江区华辰电器城", "retailer", "dist-chengdu"),
]


# (code, name, parent code): the brand's own departments and sales teams; parents first.
ORG_UNITS = [
    ("hq", "华辰家电总部", None),
    ("sales", "销售中心", "hq"),
    ("sales-east", "华东销售组", "sales"),
    ("sales-south", "华南销售组", "sales"),
    ("finance", "财务部", "hq"),
    ("service", "客户服务部", "hq"),
]


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    role: str
    node: str | None = None  # for dealers: the channel node they work for (and own records on)
    language: str = "zh-hans"
    unit: str | None = None  # for staff: their org unit
    manager: str | None = None  # e-mail of their manager


MANAGER = "wang.li@demo.example"
USERS = [
    DemoUser("wang.li@demo.example", "王丽", "sales_manager", unit="sales"),
    DemoUser(
        "zhang.wei@demo.example", "张伟", "sales_rep", unit="sales-east", manager="wang.li@demo.example"
    ),
    DemoUser(
        "david.chen@demo.example",
        "David Chen",
        "sales_rep",
        language="en",
        unit="sales-south",
        manager=MANAGER,
    ),
    DemoUser("zhao.min@demo.example", "赵敏", "finance", unit="finance"),
    DemoUser("chen.jing@demo.example", "陈静", "service", unit="service"),
    DemoUser("sun.hao@demo.example", "孙浩", "dealer_admin", node="agent-east"),
    DemoUser("li.na@demo.example", "李娜", "dealer_user", node="retail-sz-nanshan"),
]

# (name, industry, province, city, phone, channel node code)
ACCOUNTS = [
    ("上海浦江置业集团有限公司", "房地产开发", "上海", "上海", "021-6288 3401", "huachen"),
    ("锦华酒店管理（上海）有限公司", "酒店", "上海", "上海", "021-5467 2210", "huachen"),
    ("北京燕山物业服务有限公司", "物业管理", "北京", "北京", "010-8456 7702", "huachen"),
    ("天津滨海新区人民医院后勤中心", "医疗", "天津", "天津", "022-2532 1180", "huachen"),
    ("华东师范大学后勤保障部", "教育", "上海", "上海", "021-6223 8890", "agent-east"),
    ("苏州工业园区星海公寓管理有限公司", "长租公寓", "江苏", "苏州", "0512-6288 4519", "agent-east"),
    ("宁波甬城装饰工程有限公司", "家装", "浙江", "宁波", "0574-8735 6621", "agent-east"),
    ("杭州西溪湿地度假酒店", "酒店", "浙江", "杭州", "0571-8523 1107", "dist-hangzhou"),
    ("杭州绿城精装家居有限公司", "家装", "浙江", "杭州", "0571-8899 3025", "dist-hangzhou"),
    ("杭州小王家电维修服务部", "家电维修", "浙江", "杭州", "138 5710 2264", "retail-hz-xihu"),
    ("滨江云栖小区业主委员会", "社区团购", "浙江", "杭州", "139 0681 7735", "retail-hz-binjiang"),
    ("南京鼓楼美食城餐饮管理有限公司", "餐饮", "江苏", "南京", "025-8332 4406", "dist-nanjing"),
    ("南京仙林大学城学生公寓中心", "教育", "江苏", "南京", "025-8589 1203", "dist-nanjing"),
    ("新街口时代家居广场", "连锁零售", "江苏", "南京", "025-8471 6650", "retail-nj-xinjiekou"),
    ("广州珠江新城地产开发有限公司", "房地产开发", "广东", "广州", "020-3886 2291", "agent-south"),
    ("广州白云国际会议中心", "会展", "广东", "广州", "020-3722 9018", "agent-south"),
    ("深圳前海智慧公寓运营有限公司", "长租公寓", "广东", "深圳", "0755-8665 3372", "dist-shenzhen"),
    ("深圳南山科技园餐饮服务有限公司", "餐饮", "广东", "深圳", "0755-2663 4418", "dist-shenzhen"),
    ("南山蛇口海景酒店", "酒店", "广东", "深圳", "0755-2689 7730", "retail-sz-nanshan"),
    ("深圳湾一号业主服务中心", "物业管理", "广东", "深圳", "0755-8627 1155", "retail-sz-nanshan"),
    ("福田中心区装饰设计工作室", "家装", "广东", "深圳", "136 3266 8820", "retail-sz-futian"),
    ("佛山顺德美食酒家", "餐饮", "广东", "佛山", "0757-2221 6603", "dist-foshan"),
    ("顺德大良新城花园物业管理处", "物业管理", "广东", "佛山", "0757-2638 0912", "retail-fs-shunde"),
    ("成都锦江宾馆有限责任公司", "酒店", "四川", "成都", "028-8550 6617", "agent-southwest"),
    ("成都天府新区人才公寓管理中心", "长租公寓", "四川", "成都", "028-6833 2240", "dist-chengdu"),
    ("重庆渝中火锅餐饮连锁有限公司", "餐饮", "重庆", "重庆", "023-6385 1178", "dist-chengdu"),
    ("春熙路家电生活广场", "连锁零售", "四川", "成都", "028-8666 7301", "retail-cd-jinjiang"),
    ("Pacific Rim Hotels (Shanghai) Ltd.", "Hospitality", "上海", "上海", "+86 21 6135 8800", "huachen"),
    ("Evergreen Serviced Apartments", "Apartments", "广东", "深圳", "+86 755 8828 1900", "dist-shenzhen"),
    ("Northbridge International School", "Education", "江苏", "苏州", "+86 512 6295 0330", "agent-east"),
    ("Harbour View Restaurant Group", "Food & beverage", "广东", "广州", "+86 20 8396 7745", "agent-south"),
]

# (what is sold, amount range in CNY thousands)
PRODUCTS = [
    ("中央空调集采项目", 300, 2500),
    ("厨电套装（油烟机 + 燃气灶）", 40, 400),
    ("燃气热水器批量采购", 30, 300),
    ("智能冰箱门店铺货", 50, 500),
    ("洗衣机年度框架协议", 80, 800),
    ("商用净水器工程", 20, 200),
    ("新风系统改造", 100, 1200),
]
OPPORTUNITY_COUNT = 40
# How the pipeline is spread: relative weight of each default stage.
STAGE_WEIGHTS = {"qualify": 9, "needs": 8, "proposal": 8, "negotiation": 6, "won": 6, "lost": 3}


def seed_demo_tenant(
    slug: str = DEMO_SLUG,
    *,
    password: str = DEMO_PASSWORD,
    today: date | None = None,
    say: Callable[[str], None] = print,
) -> Tenant:
    """Sign the demo company up and fill it; if a tenant with this slug exists, leave it as it is."""
    existing = Tenant.objects.filter(slug=slug).first()
    if existing is not None:
        say(f"Tenant {slug!r} already exists ({existing.status}); leaving it unchanged.")
        return existing
    today = today or timezone.localdate()
    rng = random.Random(RANDOM_SEED)
    # One transaction: a failure while seeding must not leave a half-filled tenant that looks done.
    with transaction.atomic():
        email, admin_name = DEMO_ADMIN
        tenant = services.sign_up(
            company_name=DEMO_COMPANY,
            slug=slug,
            admin_name=admin_name,
            email=email,
            password=password,
            language="zh-hans",
        )
        with tenant_context(tenant):
            nodes = create_channel_tree(CHANNEL_NODES)
            units = create_org_tree(ORG_UNITS)
            users = create_users(USERS, password, units, nodes)
            accounts = create_accounts(ACCOUNTS, nodes, users)
            opportunities = create_opportunities(accounts, rng, today)
            staff = [user for user in users.values() if not user.role.is_portal]
            for seed in DOMAIN_SEEDS:
                seed(rng=rng, today=today, staff=staff, accounts=accounts)
    say(
        f"Created tenant {slug!r}: {len(nodes)} channel nodes, {len(users) + 1} users, "
        f"{len(accounts)} accounts, {len(opportunities)} opportunities."
    )
    return tenant


def create_channel_tree(rows: list[tuple]) -> dict[str, ChannelNode]:
    """The channel nodes by code."""
    nodes: dict[str, ChannelNode] = {}
    for code, name, level, parent_code in rows:
        parent = nodes[parent_code] if parent_code else None
        nodes[code] = add_channel_node(name=name, code=code, level=level, parent=parent)
    return nodes


def create_org_tree(rows: list[tuple]) -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}
    for code, name, parent_code in rows:
        units[code] = add_org_unit(name=name, parent=units[parent_code] if parent_code else None)
    return units


def create_users(
    specs: list[DemoUser], password: str, units: dict[str, OrgUnit], nodes: dict[str, ChannelNode]
) -> dict[str, User]:
    """Users by e-mail, all with the same password (hashed once: hashing is slow on purpose)."""
    password_hash = make_password(password)
    roles = {role.code: role for role in Role.objects.all()}
    users: dict[str, User] = {}
    for spec in specs:
        users[spec.email] = User.objects.create(
            email=spec.email,
            full_name=spec.full_name,
            password=password_hash,
            role=roles[spec.role],
            language=spec.language,
            org_unit=units[spec.unit] if spec.unit else None,
            manager=users[spec.manager] if spec.manager else None,
        )
        if spec.node:
            ChannelMember.objects.create(user=users[spec.email], node=nodes[spec.node])
    return users


def _owner_for(node: ChannelNode, dealers: dict[str, User], staff: Iterator[User]) -> User:
    """A dealer owns what is on their own node; the brand's sales team takes the rest in turn."""
    return dealers.get(node.code) or next(staff)


def create_accounts(
    rows: list[tuple], nodes: dict[str, ChannelNode], users: dict[str, User]
) -> list[Account]:
    dealers = {spec.node: users[spec.email] for spec in USERS if spec.node}
    sales_team = [users[spec.email] for spec in USERS if spec.role in ("sales_manager", "sales_rep")]
    staff = itertools.cycle(sales_team)
    accounts = []
    for name, industry, province, city, phone, node_code in rows:
        account = Account(name=name, industry=industry, province=province, city=city, phone=phone)
        account.place(owner=_owner_for(nodes[node_code], dealers, staff), channel_node=nodes[node_code])
        accounts.append(account)
    return Account.objects.bulk_create(accounts)


def create_opportunities(accounts: list[Account], rng: random.Random, today: date) -> list[Opportunity]:
    """Deals across the default pipeline: open ones close in the coming months, closed ones recently."""
    stages = {stage.code: stage for stage in Pipeline.objects.get(is_default=True).stages.all()}
    stage_codes = list(STAGE_WEIGHTS)
    opportunities = []
    for _ in range(OPPORTUNITY_COUNT):
        account = rng.choice(accounts)
        product, low, high = rng.choice(PRODUCTS)
        stage = stages[rng.choices(stage_codes, weights=list(STAGE_WEIGHTS.values()))[0]]
        if stage.outcome == stage.Outcome.OPEN:
            close = today + timedelta(days=rng.randint(7, 180))
        else:
            close = today - timedelta(days=rng.randint(3, 120))
        opportunity = Opportunity(
            account=account,
            name=f"{account.name} · {product}",
            stage=stage,
            amount=Decimal(rng.randint(low, high) * 1000),
            currency="CNY",
            expected_close_date=close,
        )
        opportunity.place(owner=account.owner, channel_node=account.channel_node)
        opportunities.append(opportunity)
    return Opportunity.objects.bulk_create(opportunities)
