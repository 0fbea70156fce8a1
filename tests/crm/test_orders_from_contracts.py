"""Quote -> contract -> order: an order placed against an active contract carries its lines and links."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.contracts import services as contracts
from crm.orders.models import Order
from crm.orders.services import create_order_from_contract
from crm_platform.errors import Conflict
from tests.conftest import admin_of
from tests.crm import test_catalog_support as build
from tests.crm.test_orders_support import on


def signed_contract(admin, aircon):
    made = contracts.create_contract(
        actor=admin,
        account=build.account(),
        title="2026 年度空调供货合同",
        start_date=date(2026, 3, 1),
        end_date=date(2027, 2, 28),
        lines=[{"product": aircon, "quantity": 10, "unit_price": "2999", "discount_percent": "5"}],
    )
    for side, name in (("ours", "陈志华"), ("theirs", "Li Ming")):
        contracts.sign_contract(actor=admin, contract=made, side=side, name=name)
    return made


def test_an_order_from_an_active_contract_copies_its_lines_and_links_back(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), on(date(2026, 3, 5)):
        aircon = build.product(admin, tax_rate="13")
        made = signed_contract(admin, aircon)
        with translation.override("en"), pytest.raises(Conflict, match="active contracts"):
            create_order_from_contract(actor=admin, contract=made)
        assert not Order.objects.exists()
        made = contracts.activate_contract(actor=admin, contract=made)
        order = create_order_from_contract(actor=admin, contract=made)
        line = order.lines.get()
        assert (order.contract, order.account, order.status) == (made, made.account, "draft")
        assert (line.product, line.quantity, line.unit_price, line.discount_percent) == (
            aircon,
            Decimal("10"),
            Decimal("2999"),
            Decimal("5"),
        )
        contract_line = made.lines.get()
        assert (line.net_amount, line.tax_amount) == (contract_line.net_amount, contract_line.tax_amount)
        assert list(made.orders.all()) == [order]
