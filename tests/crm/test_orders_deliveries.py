"""Deliveries: partial and full, over-delivery refused per line, receipt, cancellation, tenants."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context

from crm.orders.deliveries import cancel_delivery, create_delivery, mark_delivery_received
from crm.orders.models import Delivery, DeliveryLine, OrderLine
from crm.orders.services import confirm_order
from crm.records import audit
from crm_platform.errors import Conflict, NotFound
from tests.conftest import admin_of
from tests.crm import test_orders_support as build


def two_line_order(admin):
    order = build.order(admin, build.account(), (build.product(), 10, 100), (build.product(), 5, 40))
    order = confirm_order(actor=admin, order=order)
    return order, *order.lines.all()


def quantities(order):
    return [line.delivered_quantity for line in OrderLine.objects.filter(order=order).order_by("position")]


def test_two_partial_deliveries_then_the_rest(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order, aircon, heater = two_line_order(admin)
        first = create_delivery(
            actor=admin,
            order=order,
            lines=[{"order_line": aircon, "quantity": 3}],
            carrier="顺丰速运",
            tracking_number=" SF1234567890 ",
        )
        order.refresh_from_db()
        assert order.status == "partially_delivered" and quantities(order) == [3, 0]
        assert first.number.startswith("DN-") and first.tracking_number == "SF1234567890"
        create_delivery(
            actor=admin,
            order=order,
            lines=[{"order_line": aircon, "quantity": 2}, {"order_line": heater, "quantity": 5}],
        )
        order.refresh_from_db()
        assert order.status == "partially_delivered" and quantities(order) == [5, 5]
        create_delivery(actor=admin, order=order.pk, lines=[{"order_line": aircon.pk, "quantity": "5"}])
        order.refresh_from_db()
        assert order.status == "delivered" and quantities(order) == [10, 5]
        assert order.deliveries.count() == 3


def test_over_delivery_is_refused_per_line_and_nothing_is_written(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order, aircon, heater = two_line_order(admin)
        create_delivery(actor=admin, order=order, lines=[{"order_line": aircon, "quantity": 8}])
        with pytest.raises(ValidationError) as error:
            create_delivery(
                actor=admin,
                order=order,
                lines=[{"order_line": heater, "quantity": 5}, {"order_line": aircon, "quantity": 3}],
            )
        assert set(error.value.message_dict) == {"lines[1].quantity"}
        assert "2" in error.value.message_dict["lines[1].quantity"][0]
        assert quantities(order) == [8, 0]
        assert Delivery.objects.filter(order=order).count() == 1
        # Exactly what is left is fine.
        create_delivery(actor=admin, order=order, lines=[{"order_line": aircon, "quantity": 2}])
        assert quantities(order) == [10, 0]


def test_bad_delivery_lines_are_field_errors(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order, aircon, _heater = two_line_order(admin)
        _other, foreign, _ = two_line_order(admin)
        with pytest.raises(ValidationError) as error:
            create_delivery(
                actor=admin,
                order=order,
                lines=[
                    {"order_line": foreign, "quantity": 1},
                    {"order_line": aircon, "quantity": 0},
                    {"order_line": aircon, "quantity": 1},
                    {"order_line": None, "quantity": "abc"},
                ],
                shipped_on=order.order_date - timedelta(days=1),
            )
        assert set(error.value.message_dict) == {
            "shipped_on",
            "lines[0].order_line",
            "lines[1].quantity",
            "lines[2].order_line",
            "lines[3].order_line",
            "lines[3].quantity",
        }
        with pytest.raises(ValidationError) as error:
            create_delivery(actor=admin, order=order, lines=[])
        assert "lines" in error.value.message_dict
        assert not DeliveryLine.objects.exists()


def test_only_confirmed_orders_are_delivered(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        draft = build.order(admin, build.account(), (build.product(), 1, 10))
        with pytest.raises(Conflict):
            create_delivery(
                actor=admin, order=draft, lines=[{"order_line": draft.lines.get(), "quantity": 1}]
            )


def test_cancelling_a_delivery_restores_quantities_and_status(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order, aircon, heater = two_line_order(admin)
        first = create_delivery(actor=admin, order=order, lines=[{"order_line": aircon, "quantity": 10}])
        second = create_delivery(actor=admin, order=order, lines=[{"order_line": heater, "quantity": 5}])
        order.refresh_from_db()
        assert order.status == "delivered"
        cancel_delivery(actor=admin, delivery=second, reason="客户拒收")
        order.refresh_from_db()
        assert order.status == "partially_delivered" and quantities(order) == [10, 0]
        cancel_delivery(actor=admin, delivery=first)
        order.refresh_from_db()
        assert order.status == "confirmed" and quantities(order) == [0, 0]
        with pytest.raises(Conflict):
            cancel_delivery(actor=admin, delivery=first)
        # The quantities are free again.
        create_delivery(actor=admin, order=order, lines=[{"order_line": aircon, "quantity": 10}])
        assert audit.history(second)[-1].details == {"reason": "客户拒收"}


def test_receipt_is_recorded_once_and_not_before_shipping(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(date(2026, 6, 10)):
        order, aircon, _ = two_line_order(admin)
        delivery = create_delivery(actor=admin, order=order, lines=[{"order_line": aircon, "quantity": 1}])
        with pytest.raises(ValidationError) as error:
            mark_delivery_received(actor=admin, delivery=delivery, received_on=date(2026, 6, 9))
        assert "received_on" in error.value.message_dict
        delivery = mark_delivery_received(actor=admin, delivery=delivery)
        assert (delivery.status, delivery.received_on) == ("received", date(2026, 6, 10))
        with pytest.raises(Conflict):
            mark_delivery_received(actor=admin, delivery=delivery)


def test_a_delivery_cannot_be_dated_in_the_future(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(date(2026, 6, 10)):
        order, aircon, _ = two_line_order(admin)
        with pytest.raises(ValidationError) as error:
            create_delivery(
                actor=admin,
                order=order,
                lines=[{"order_line": aircon, "quantity": 1}],
                shipped_on=date(2026, 6, 11),
            )
        assert set(error.value.message_dict) == {"shipped_on"}


def test_the_database_refuses_over_delivery_whatever_the_path(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        _order, aircon, _ = two_line_order(admin)
        with pytest.raises(IntegrityError), transaction.atomic():
            OrderLine.objects.filter(pk=aircon.pk).update(delivered_quantity=Decimal("11"))


def test_deliveries_stay_in_their_tenant(alpha, beta):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order, aircon, _ = two_line_order(admin)
        delivery = create_delivery(actor=admin, order=order, lines=[{"order_line": aircon, "quantity": 1}])
    with tenant_context(beta):
        assert not Delivery.objects.exists()
        with pytest.raises(NotFound):
            cancel_delivery(actor=admin_of(beta), delivery=delivery.pk)
