"""VAT invoices: never above the order total, linked to the order's own deliveries, voided not deleted."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.finance.invoices import issue_invoice, void_invoice
from crm.finance.models import Invoice
from crm.orders.deliveries import cancel_delivery, create_delivery
from crm.orders.services import cancel_order, confirm_order, create_order
from crm.records import audit
from crm_platform.errors import Conflict, NotFound
from tests.conftest import admin_of
from tests.crm import test_orders_support as build


def taxed_order(admin, quantity=10):
    """1000.00 net + 13% VAT = 1130.00."""
    order = create_order(
        actor=admin,
        account=build.account("南京鼓楼美食城餐饮管理有限公司"),
        lines=[
            {"product": build.product(tax_rate="13"), "quantity": quantity, "unit_price": 1000 / quantity}
        ],
        order_date=date(2026, 4, 1),
    )
    return confirm_order(actor=admin, order=order)


def test_invoices_may_reach_but_not_exceed_the_order_total(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(date(2026, 4, 20)):
        order = taxed_order(admin)
        assert order.total == Decimal("1130.00")
        first = issue_invoice(
            actor=admin, order=order, kind="vat_special", number="3100261130", amount="600", tax_amount="78"
        )
        assert (first.total, first.currency, first.account_id, first.issue_date) == (
            Decimal("678"),
            "CNY",
            order.account_id,
            date(2026, 4, 20),
        )
        with pytest.raises(ValidationError) as error:
            issue_invoice(
                actor=admin,
                order=order,
                kind="vat_special",
                number="3100261131",
                amount="400.01",
                tax_amount="52",
            )
        assert list(error.value.message_dict) == ["amount"]
        assert "452.00" in error.value.message_dict["amount"][0]
        assert Invoice.objects.count() == 1
        issue_invoice(
            actor=admin, order=order, kind="vat_special", number="3100261131", amount=400, tax_amount=52
        )
        # Voiding gives the amount back.
        void_invoice(actor=admin, invoice=first, reason="开票信息错误")
        again = issue_invoice(
            actor=admin, order=order, kind="vat_normal", number="3100261132", amount=600, tax_amount=78
        )
        assert again.status == "issued"
        assert audit.history(first)[-1].changes["status"] == ["issued", "void"]


def test_invoice_fields_are_checked(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(date(2026, 4, 20)):
        order = taxed_order(admin)
        other = taxed_order(admin)
        foreign = create_delivery(
            actor=admin, order=other, lines=[{"order_line": other.lines.get(), "quantity": 1}]
        )
        issue_invoice(actor=admin, order=other, kind="vat_normal", number="0001", amount=10, tax_amount=1)
        with pytest.raises(ValidationError) as error:
            issue_invoice(
                actor=admin,
                order=order,
                kind="receipt",
                number="0001",
                amount="-1",
                tax_amount="x",
                issue_date=date(2026, 3, 31),
                delivery=foreign,
            )
        assert set(error.value.message_dict) == {
            "kind",
            "number",
            "amount",
            "tax_amount",
            "issue_date",
            "delivery",
        }
        with pytest.raises(ValidationError) as error:
            issue_invoice(actor=admin, order=order, kind="vat_normal", number=" ", amount=1, tax_amount=0)
        assert set(error.value.message_dict) == {"number"}
        assert Invoice.objects.count() == 1


def test_an_invoice_names_a_live_delivery_of_its_order(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(date(2026, 4, 20)):
        order = taxed_order(admin)
        line = order.lines.get()
        shipped = create_delivery(actor=admin, order=order, lines=[{"order_line": line, "quantity": 4}])
        returned = create_delivery(actor=admin, order=order, lines=[{"order_line": line, "quantity": 1}])
        cancel_delivery(actor=admin, delivery=returned)
        with pytest.raises(ValidationError) as error:
            issue_invoice(
                actor=admin,
                order=order,
                kind="vat_special",
                number="A1",
                amount=100,
                tax_amount=13,
                delivery=returned,
            )
        assert set(error.value.message_dict) == {"delivery"}
        invoice = issue_invoice(
            actor=admin,
            order=order,
            kind="vat_special",
            number="A1",
            amount=400,
            tax_amount=52,
            delivery=shipped,
        )
        assert invoice.delivery == shipped
        # Invoiced goods cannot be un-delivered, nor the order cancelled, until the invoice is void.
        with pytest.raises(Conflict):
            cancel_delivery(actor=admin, delivery=shipped)
        void_invoice(actor=admin, invoice=invoice, reason="红冲")
        cancel_delivery(actor=admin, delivery=shipped)
        issue_invoice(actor=admin, order=order, kind="vat_special", number="A2", amount=1, tax_amount=0)
        with pytest.raises(Conflict):
            cancel_order(actor=admin, order=order)


def test_drafts_and_void_invoices_are_refused(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        draft = build.order(admin, build.account(), (build.product(), 1, 100))
        with pytest.raises(Conflict):
            issue_invoice(actor=admin, order=draft, kind="vat_normal", number="D1", amount=1, tax_amount=0)
        order = build.confirmed(admin, build.account(), 100)
        invoice = issue_invoice(
            actor=admin, order=order, kind="vat_normal", number="D1", amount=1, tax_amount=0
        )
        with pytest.raises(ValidationError):
            void_invoice(actor=admin, invoice=invoice, reason="")
        void_invoice(actor=admin, invoice=invoice, reason="作废")
        with pytest.raises(Conflict):
            void_invoice(actor=admin, invoice=invoice, reason="again")
        # A void number may be used again.
        issue_invoice(actor=admin, order=order, kind="vat_normal", number="D1", amount=1, tax_amount=0)


def test_invoices_stay_in_their_tenant(alpha, beta):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.confirmed(admin, build.account(), 100)
        invoice = issue_invoice(
            actor=admin, order=order, kind="vat_normal", number="T1", amount=1, tax_amount=0
        )
    with tenant_context(beta):
        assert not Invoice.objects.exists()
        with pytest.raises(NotFound):
            void_invoice(actor=admin_of(beta), invoice=invoice.pk, reason="x")
