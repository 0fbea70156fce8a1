"""Demo catalog: a home-appliance brand's product lines, units, products and price books.

Run before the orders, quotes and contracts seeds (they sell what is found here). List prices are
net of tax in CNY, with cheaper books for each level of the dealer network and a USD book for
export customers. Everything goes through the catalog services.
"""

# Chinese text uses full-width punctuation, as it should.
# ruff: noqa: RUF001

import random
from datetime import date
from decimal import Decimal

from accounts.models import User
from crm.catalog import services as catalog
from crm.catalog.models import Product
from crm.customers.models import Account

LINES = [
    ("aircon", "空调", "Air conditioners"),
    ("fridge", "冰箱", "Refrigerators"),
    ("laundry", "洗衣机", "Laundry"),
    ("kitchen", "厨房电器", "Kitchen appliances"),
    ("service", "安装与服务", "Installation & service"),
]
UNITS = [("set", "台", "set"), ("suite", "套", "suite"), ("item", "项", "item"), ("year", "年", "year")]
# (line, SKU, name, unit, CNY list price net of tax, VAT %)
PRODUCTS = [
    ("aircon", "HC-AC-KFR35", "分体空调 1.5匹 变频 KFR-35GW", "set", "2899", "13"),
    ("aircon", "HC-AC-KFR50", "分体空调 2匹 变频 KFR-50GW", "set", "3699", "13"),
    ("aircon", "HC-AC-KFR72L", "立式柜机 3匹 KFR-72LW", "set", "6299", "13"),
    ("aircon", "HC-AC-VRF8", "多联机 Mini VRF 8HP (commercial)", "suite", "28800", "13"),
    ("fridge", "HC-RF-BCD500", "十字对开门冰箱 500L", "set", "4599", "13"),
    ("fridge", "HC-RF-BCD320", "三门冰箱 320L", "set", "2599", "13"),
    ("fridge", "HC-RF-SC1000", "商用展示冷柜 Display chiller 1000L", "set", "8900", "13"),
    ("laundry", "HC-WM-G10", "滚筒洗衣机 10kg 洗烘一体", "set", "2399", "13"),
    ("laundry", "HC-WM-B8", "波轮洗衣机 8kg", "set", "1299", "13"),
    ("kitchen", "HC-KT-HOOD", "Range hood + gas hob set 烟灶套装", "suite", "3299", "13"),
    ("kitchen", "HC-KT-DW13", "嵌入式洗碗机 13套", "set", "3999", "13"),
    ("service", "HC-SV-INSTALL", "标准安装服务 Standard installation", "item", "200", "9"),
    ("service", "HC-SV-MAINT", "年度维保服务 Annual maintenance", "year", "1200", "6"),
]
# Channel levels buy below list: agents at 80%, distributors at 86%, retailers at 93% of list.
LEVEL_FACTORS = {"agent": Decimal("0.80"), "distributor": Decimal("0.86"), "retailer": Decimal("0.93")}
USD_PER_CNY = Decimal("0.14")


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    """Product lines, units, products and price books (default CNY, one per channel level, USD)."""
    actor = next((user for user in staff if user.role and user.role.code == "sales_manager"), None)
    lines = {
        code: catalog.create_product_line(actor=actor, code=code, labels={"zh-hans": zh, "en": en})
        for code, zh, en in LINES
    }
    units = {
        code: catalog.create_unit(actor=actor, code=code, labels={"zh-hans": zh, "en": en})
        for code, zh, en in UNITS
    }
    standard = catalog.create_price_book(actor=actor, name="标准价目表 Standard", currency="CNY")
    levels = {
        level: catalog.create_price_book(
            actor=actor, name=f"{level} 渠道价", currency="CNY", channel_level=level
        )
        for level in LEVEL_FACTORS
    }
    export = catalog.create_price_book(actor=actor, name="Export price list", currency="USD")
    for line, sku, name, unit, price, rate in PRODUCTS:
        product = catalog.create_product(
            actor=actor, line=lines[line], unit=units[unit], sku=sku, name=name, tax_rate=rate
        )
        price = Decimal(price)
        catalog.set_price(actor=actor, price_book=standard, product=product, list_price=price)
        for level, factor in LEVEL_FACTORS.items():
            # Round channel prices to whole yuan, as dealers' price lists do.
            catalog.set_price(
                actor=actor,
                price_book=levels[level],
                product=product,
                list_price=(price * factor).quantize(1),
            )
        if line != "service":
            catalog.set_price(
                actor=actor, price_book=export, product=product, list_price=(price * USD_PER_CNY).quantize(1)
            )
    # One model was discontinued this year; it stays in the catalog for old documents.
    retired = Product.objects.get(sku="HC-WM-B8")
    catalog.update_product(actor=actor, product=retired, is_active=False, name=f"{retired.name}（停产）")
