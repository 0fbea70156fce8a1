"""Demo orders and deliveries for the demo tenant: a year of appliance orders, most delivered.

Run after the catalog's seed (it sells the products found there) and before crm/finance/demo.py
(which plans payments and invoices for these orders). Everything goes through the services.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import User
from crm.catalog.models import Product, ProductLine, Unit
from crm.catalog.pricing import list_prices
from crm.customers.models import Account
from crm.orders.deliveries import create_delivery, mark_delivery_received
from crm.orders.models import Order
from crm.orders.services import cancel_order, confirm_order, create_order

ORDER_COUNT = 36
DISCOUNTS = [0, 0, 0, 3, 5, 8, 10]
CARRIERS = ["顺丰速运", "德邦物流", "京东物流", "中通快运", "安能物流", "Self pick-up 自提"]
# Used only when the catalog has no products yet (SKU, name, net price, tax rate).
FALLBACK_PRODUCTS = [
    ("ORD-DEMO-AC15", "分体空调 1.5匹 变频", Decimal("2899"), Decimal("13")),
    ("ORD-DEMO-RF500", "十字对开门冰箱 500L", Decimal("4599"), Decimal("13")),
    ("ORD-DEMO-WM10", "滚筒洗衣机 10kg", Decimal("2399"), Decimal("13")),
    ("ORD-DEMO-HOOD", "Range hood + gas hob set", Decimal("3299"), Decimal("13")),
]
FALLBACK_PRICES = {sku: price for sku, _name, price, _rate in FALLBACK_PRODUCTS}


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    """Orders over the last twelve months: older ones delivered (some in parts), recent ones open."""
    products = _products()
    prices = list_prices(products, "CNY")
    sellers = [
        user for user in staff if user.role and user.role.code in ("sales_rep", "sales_manager")
    ] or staff
    for _ in range(ORDER_COUNT):
        account = rng.choice(accounts)
        actor = account.owner or rng.choice(sellers)
        ordered = today - timedelta(days=rng.randint(3, 360))
        lines = [
            {
                "product": product,
                "quantity": rng.choice([2, 5, 10, 12, 20, 30, 50]),
                "unit_price": prices.get(product.pk)
                or FALLBACK_PRICES.get(product.sku)
                or rng.randint(8, 120) * 100,
                "discount_percent": rng.choice(DISCOUNTS),
                "description": product.name,
            }
            for product in rng.sample(products, k=min(len(products), rng.randint(1, 3)))
        ]
        order = create_order(actor=actor, account=account, lines=lines, order_date=ordered)
        # The brand confirms, cancels and ships dealers' orders (its ERP sync acts as the system).
        brand = None if actor.role.is_portal else actor
        fate = rng.random()
        if fate < 0.08:
            continue  # still a draft
        if fate < 0.14:
            cancel_order(actor=brand, order=order, reason="客户预算调整 / budget cut")
            continue
        order = confirm_order(actor=brand, order=order)
        if order.status == Order.Status.CONFIRMED:
            _deliver(order, brand, rng, today)


def _deliver(order: Order, actor, rng: random.Random, today: date) -> None:
    """Orders older than two months are delivered in full (one or two shipments); newer ones partly."""
    age = (today - order.order_date).days
    if age < 10:
        return
    lines = list(order.lines.all())
    shipments = 1 if age < 60 or rng.random() < 0.5 else 2
    shipped = order.order_date + timedelta(days=rng.randint(2, 7))
    for shipment in range(shipments):
        last = shipment == shipments - 1 and age >= 60
        wanted = []
        for line in lines:
            left = line.quantity - line.delivered_quantity
            quantity = left if last else (left / 2).quantize(Decimal("1"))
            if quantity > 0:
                wanted.append({"order_line": line, "quantity": quantity})
                line.delivered_quantity += quantity
        if not wanted or shipped > today:
            return
        delivery = create_delivery(
            actor=actor,
            order=order,
            lines=wanted,
            shipped_on=shipped,
            carrier=rng.choice(CARRIERS),
            tracking_number=f"{rng.randint(10**11, 10**12 - 1)}",
        )
        arrived = shipped + timedelta(days=rng.randint(1, 4))
        if arrived <= today:
            mark_delivery_received(actor=actor, delivery=delivery, received_on=arrived)
        shipped += timedelta(days=rng.randint(10, 40))


def _products() -> list[Product]:
    products = list(Product.objects.filter(is_active=True).order_by("sku")[:20])
    if products:
        return products
    line, _ = ProductLine.objects.get_or_create(
        code="appliances", defaults={"labels": {"zh-hans": "家电", "en": "Appliances"}}
    )
    unit, _ = Unit.objects.get_or_create(code="set", defaults={"labels": {"zh-hans": "台", "en": "set"}})
    return [
        Product.objects.create(line=line, unit=unit, sku=sku, name=name, tax_rate=rate)
        for sku, name, _price, rate in FALLBACK_PRODUCTS
    ]
