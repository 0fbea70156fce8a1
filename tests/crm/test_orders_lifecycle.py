"""Orders: creation with priced lines, field errors per line, confirmation, cancel, close, audit, tenants."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.orders import deliveries
from crm.orders.models import Order, OrderLine
from crm.orders.services import cancel_order, close_order, confirm_order, create_order, replace_order_lines
from crm.records import audit
from crm.records.models import NumberSequence
from crm.records.services import get_for
from crm_platform.errors import Conflict, NotFound
from tests.conftest import admin_of
from tests.crm import test_orders_support as build


def test_lines_are_priced_with_discount_and_tax(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(date(2026, 3, 5)):
        customer = build.account("上海浦江置业集团有限公司")
        aircon, heater = build.product(tax_rate="13"), build.product(tax_rate="9")
        order = create_order(
            actor=admin,
            account=customer,
            lines=[
                {"product": aircon, "quantity": "3", "unit_price": "2999.00", "discount_percent": "10"},
                {"product": heater.pk, "quantity": 2, "unit_price": Decimal("1000")},
            ],
        )
        first, second = order.lines.all()
    assert order.status == "draft" and order.order_date == date(2026, 3, 5)
    assert order.number.startswith("SO-202603-")
    assert (first.net_amount, first.tax_amount, first.line_total) == (
        Decimal("8097.30"),
        Decimal("1052.65"),
        Decimal("9149.95"),
    )
    assert (second.tax_rate, second.line_total) == (Decimal("9"), Decimal("2180.00"))
    assert (order.net_amount, order.tax_amount, order.total) == (
        Decimal("10097.30"),
        Decimal("1232.65"),
        Decimal("11329.95"),
    )
    assert order.owner == admin and order.currency == "CNY"


def test_every_bad_line_field_is_reported_and_nothing_is_written(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = build.account()
        good, retired = build.product(), build.product(active=False)
        sequences = NumberSequence.objects.count()
        with pytest.raises(ValidationError) as error:
            create_order(
                actor=admin,
                account=customer,
                currency="cny",
                lines=[
                    {"product": good, "quantity": 1, "unit_price": 100},
                    {"product": good, "quantity": 0, "unit_price": -1},
                    {"product": retired, "quantity": "x", "unit_price": 5, "discount_percent": 120},
                    {"product": None, "quantity": "1.234", "unit_price": 5},
                ],
            )
        assert Order.objects.count() == 0 and OrderLine.objects.count() == 0
        assert NumberSequence.objects.count() == sequences  # no number burnt either
    errors = error.value.message_dict
    assert set(errors) == {
        "currency",
        "lines[1].quantity",
        "lines[1].unit_price",
        "lines[2].product",
        "lines[2].quantity",
        "lines[2].discount_percent",
        "lines[3].product",
    }


def test_decimal_places_beyond_the_column_are_field_errors(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), pytest.raises(ValidationError) as error:
        create_order(
            actor=admin,
            account=build.account(),
            lines=[{"product": build.product(), "quantity": "1.234", "unit_price": 5}],
        )
    assert set(error.value.message_dict) == {"lines[0].quantity"}


def test_header_errors_are_field_errors(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer, item = build.account(), build.product()
        with pytest.raises(ValidationError) as error:
            create_order(
                actor=admin,
                account=customer,
                currency="yuan",
                lines=[{"product": item, "quantity": 1, "unit_price": 1}],
            )
        assert "currency" in error.value.message_dict
        with pytest.raises(ValidationError) as error:
            create_order(actor=admin, account=customer, lines=[])
        assert "lines" in error.value.message_dict
        assert not Order.objects.exists()


def test_an_unknown_account_is_not_found(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), pytest.raises(NotFound):
        create_order(
            actor=admin, account=999_999, lines=[{"product": build.product(), "quantity": 1, "unit_price": 1}]
        )


def test_lines_change_only_while_draft(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer, item = build.account(), build.product()
        order = build.order(admin, customer, (item, 1, 100))
        order = replace_order_lines(
            actor=admin,
            order=order,
            lines=[{"product": item, "quantity": 4, "unit_price": 50, "tax_rate": 0}],
        )
        assert order.total == Decimal("200.00") and order.lines.get().quantity == 4
        confirm_order(actor=admin, order=order)
        with pytest.raises(Conflict):
            replace_order_lines(
                actor=admin, order=order, lines=[{"product": item, "quantity": 1, "unit_price": 1}]
            )


def test_confirm_without_credit_profile_confirms_and_logs(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.order(admin, build.account(), (build.product(), 2, 500))
        order = confirm_order(actor=admin, order=order)
        assert order.status == "confirmed" and order.confirmed_at is not None
        check = order.credit_checks.get()
        assert (check.stage, check.result, check.additional_amount) == (
            "confirmation",
            "passed",
            Decimal("1000"),
        )
        with pytest.raises(Conflict):
            confirm_order(actor=admin, order=order)


def test_cancel_only_before_delivery(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = build.account()
        draft = build.order(admin, customer, (build.product(), 1, 10))
        assert cancel_order(actor=admin, order=draft, reason="客户取消").status == "cancelled"
        with pytest.raises(Conflict):
            cancel_order(actor=admin, order=draft)
        order = build.confirmed(admin, customer, 100)
        deliveries.create_delivery(
            actor=admin, order=order, lines=[{"order_line": order.lines.get(), "quantity": 1}]
        )
        with pytest.raises(Conflict):
            cancel_order(actor=admin, order=order)
        assert Order.objects.get(pk=order.pk).status == "delivered"


def test_close_short_closes_a_partly_delivered_order(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.order(admin, build.account(), (build.product(), 10, 100))
        order = confirm_order(actor=admin, order=order)
        with pytest.raises(Conflict):
            close_order(actor=admin, order=order)  # nothing delivered: cancel it instead
        deliveries.create_delivery(
            actor=admin, order=order, lines=[{"order_line": order.lines.get(), "quantity": 4}]
        )
        assert close_order(actor=admin, order=order).status == "closed"
        with pytest.raises(Conflict):
            deliveries.create_delivery(
                actor=admin, order=order, lines=[{"order_line": order.lines.get(), "quantity": 1}]
            )


def test_status_changes_are_in_the_audit_trail_with_the_actor(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.order(admin, build.account(), (build.product(), 1, 10))
        confirm_order(actor=admin, order=order)
        trail = audit.history(order)
        line_trail = audit.history(order.lines.get())
    assert [change.action for change in trail] == ["created", "updated"]
    assert trail[1].changes["status"] == ["draft", "confirmed"]
    assert {change.user_id for change in trail} == {admin.pk}
    assert line_trail[0].action == "created"


def test_orders_stay_in_their_tenant(alpha, beta):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.order(admin, build.account(), (build.product(), 1, 10))
    with tenant_context(beta):
        assert not Order.objects.exists()
        with pytest.raises(NotFound):
            get_for(admin_of(beta), Order, order.pk)
        with pytest.raises(NotFound):
            confirm_order(actor=admin_of(beta), order=order.pk)
