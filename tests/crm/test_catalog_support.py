"""Builders shared by the catalog, quotes and contracts tests (no tests here). Use inside a tenant context."""

import itertools
from decimal import Decimal

from accounts.models import OrgUnit, Role, User
from accounts.services import add_org_unit
from channels.models import ChannelNode
from channels.services import add_channel_node
from crm.catalog import services as catalog
from crm.catalog.models import PriceBook, ProductLine, Unit
from crm.customers.models import Account, Contact

_serial = itertools.count(1)


def user(role: str, name: str = "") -> User:
    serial = next(_serial)
    return User.objects.create(
        email=f"{role}.catalog{serial}@example.test",
        full_name=name or f"{role} {serial}",
        role=Role.objects.get(code=role),
        org_unit=team(),
    )


def team() -> OrgUnit:
    """Everyone built here works in one sales team, so managers see their reps' records."""
    return OrgUnit.objects.filter(name="销售一部").first() or add_org_unit(name="销售一部")


def product(actor=None, *, sku: str = "", tax_rate="13", price=None, currency="CNY"):
    """A product; with `price`, also listed at that price in the currency's default book."""
    line, _ = ProductLine.objects.get_or_create(code="aircon", defaults={"labels": {"zh-hans": "空调"}})
    unit, _ = Unit.objects.get_or_create(code="set", defaults={"labels": {"zh-hans": "台", "en": "set"}})
    item = catalog.create_product(
        actor=actor,
        line=line,
        unit=unit,
        sku=sku or f"AC-{next(_serial):04d}",
        name="分体空调 1.5匹 Split AC",
        tax_rate=tax_rate,
    )
    if price is not None:
        catalog.set_price(actor=actor, price_book=book(currency), product=item, list_price=price)
    return item


def book(currency: str = "CNY", level: str = "") -> PriceBook:
    """The active book for the currency and level, created on first use."""
    existing = PriceBook.objects.filter(currency=currency, channel_level=level, is_active=True).first()
    return existing or catalog.create_price_book(
        actor=None, name=f"{currency} {level or 'default'}", currency=currency, channel_level=level
    )


def node(level: str) -> ChannelNode:
    serial = next(_serial)
    return add_channel_node(name=f"{level} {serial}", code=f"{level}-{serial}", level=level)


def account(name: str = "", channel_node=None, owner=None) -> Account:
    account = Account(name=name or f"杭州西溪酒店 {next(_serial)}")
    account.place(owner=owner, channel_node=channel_node)
    account.save()
    return account


def contact(account: Account, name: str = "王经理") -> Contact:
    person = Contact(account=account, name=name)
    person.place(owner=account.owner, channel_node=account.channel_node)
    person.save()
    return person


def money(text: str) -> Decimal:
    return Decimal(text)
