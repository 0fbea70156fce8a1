"""Builders shared by the orders and finance tests (no tests here). Call them inside a tenant context."""

import itertools
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from accounts.models import OrgUnit, Role, User
from accounts.services import add_org_unit
from crm.catalog.models import Product, ProductLine, Unit
from crm.customers.models import Account
from crm.orders.services import confirm_order, create_order

SHANGHAI = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


def on(day: date, hour: int = 10):
    """Freeze the clock at `hour` o'clock, Shanghai time, on `day`."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def user(role: str, name: str = "") -> User:
    serial = next(_serial)
    return User.objects.create(
        email=f"{role}{serial}@example.test",
        full_name=name or f"{role} {serial}",
        role=Role.objects.get(code=role),
        org_unit=team(),
    )


def team() -> OrgUnit:
    """Everyone built here works in one sales team, so managers see their reps' records."""
    return OrgUnit.objects.filter(name="销售一部").first() or add_org_unit(name="销售一部")


def product(sku: str = "", tax_rate: str = "13", active: bool = True) -> Product:
    line, _ = ProductLine.objects.get_or_create(code="appliances", defaults={"labels": {"en": "Appliances"}})
    unit, _ = Unit.objects.get_or_create(code="set", defaults={"labels": {"en": "set", "zh-hans": "台"}})
    return Product.objects.create(
        line=line,
        unit=unit,
        sku=sku or f"SKU-{next(_serial)}",
        name="Split air conditioner 1.5P",
        tax_rate=Decimal(tax_rate),
        is_active=active,
    )


def account(name: str = "") -> Account:
    return Account.objects.create(name=name or f"杭州客户 {next(_serial)}")


def order(actor, customer, *lines, **kwargs):
    """A draft order; lines are (product, quantity, unit price) with a 0% tax rate unless given."""
    return create_order(
        actor=actor,
        account=customer,
        lines=[
            {"product": item, "quantity": quantity, "unit_price": price, "tax_rate": "0"}
            for item, quantity, price in lines
        ],
        **kwargs,
    )


def confirmed(actor, customer, amount, **kwargs):
    """A confirmed one-line order worth `amount` (no tax)."""
    draft = order(actor, customer, (product(), 1, amount), **kwargs)
    result = confirm_order(actor=actor, order=draft)
    assert result.status == "confirmed", result.credit_hold_reasons
    return result
