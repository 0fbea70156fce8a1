"""Receivables per account, overdue on the boundary day, aging buckets, overdue reminders."""

from datetime import date
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from crm.finance.credit import check_credit
from crm.finance.invoices import issue_invoice
from crm.finance.payments import record_payment, set_payment_plan
from crm.finance.receivables import account_receivables, aging_report, overdue
from crm.finance.reminders import remind_overdue_instalments
from crm.orders.deliveries import create_delivery
from crm.orders.services import cancel_order, confirm_order
from crm.records.models import Reminder
from crm_platform.errors import NotFound
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

AS_OF = date(2026, 6, 30)


def test_receivables_split_into_open_delivered_and_invoiced(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(AS_OF):
        customer = build.account("华东师范大学后勤保障部")
        first = build.order(admin, customer, (build.product(), 10, 100), order_date=date(2026, 5, 1))
        first = confirm_order(actor=admin, order=first)
        create_delivery(actor=admin, order=first, lines=[{"order_line": first.lines.get(), "quantity": 6}])
        issue_invoice(
            actor=admin, order=first, kind="vat_special", number="04400001", amount=500, tax_amount=0
        )
        second = build.confirmed(admin, customer, 2000)
        issue_invoice(
            actor=admin, order=second, kind="vat_normal", number="04400002", amount=300, tax_amount=0
        )
        plan = set_payment_plan(
            actor=admin, order=first, instalments=[{"due_date": date(2026, 5, 31), "percentage": 100}]
        )
        record_payment(actor=admin, plan=plan, amount=200, paid_on=AS_OF, method="bank_transfer")
        build.confirmed(admin, build.account(), 99999)  # another account's order counts elsewhere
        figures = account_receivables(actor=admin, account=customer)
        assert figures.as_of == AS_OF
        assert figures.open_orders == Decimal(
            "2400.00"
        )  # 400 still to deliver on the first, 2000 on the second
        assert figures.delivered_not_invoiced == Decimal(
            "100.00"
        )  # invoicing ahead on the second counts as 0
        assert figures.invoiced_not_paid == Decimal("600.00")
        assert (figures.overdue_amount, figures.oldest_overdue_days) == (Decimal("800.00"), 30)
        assert figures.exposure == Decimal("3100.00")
        assert check_credit(customer).exposure == Decimal("3100.00")


def test_an_instalment_is_overdue_from_the_day_after_its_due_date(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.confirmed(admin, build.account(), 500, order_date=date(2026, 6, 1))
        set_payment_plan(actor=admin, order=order, instalments=[{"due_date": AS_OF, "amount": 500}])
        on_the_day = overdue(order.account_id, AS_OF, "CNY")
        day_after = overdue(order.account_id, date(2026, 7, 1), "CNY")
    assert (on_the_day.amount, on_the_day.oldest_days, on_the_day.outstanding) == (0, 0, Decimal("500.00"))
    assert (day_after.amount, day_after.oldest_days, day_after.percent) == (
        Decimal("500.00"),
        1,
        Decimal("100"),
    )


def test_the_aging_report_buckets_by_days_past_due(alpha, beta):
    admin = admin_of(alpha)
    due_dates = [
        "2026-03-31",
        "2026-04-01",
        "2026-04-30",
        "2026-05-01",
        "2026-05-30",
        "2026-05-31",
        "2026-06-30",
    ]
    with tenant_context(alpha), build.on(AS_OF):
        order = build.confirmed(admin, build.account(), 800, order_date=date(2026, 3, 1))
        plan = set_payment_plan(
            actor=admin,
            order=order,
            instalments=[{"due_date": day, "amount": 100} for day in [*due_dates, "2026-07-01"]],
        )
        record_payment(actor=admin, plan=plan, amount=50, paid_on=AS_OF, method="cash")  # the oldest, in part
        other = build.confirmed(admin, build.account(), 70, order_date=date(2026, 3, 1))
        set_payment_plan(actor=admin, order=other, instalments=[{"due_date": "2026-06-01", "amount": 70}])
        gone = build.confirmed(admin, build.account(), 10, order_date=date(2026, 3, 1))
        set_payment_plan(actor=admin, order=gone, instalments=[{"due_date": "2026-06-01", "amount": 10}])
        cancel_order(actor=admin, order=gone)  # a cancelled order's plan is not a receivable
        rows = aging_report(actor=admin)
        single = aging_report(actor=admin, account=order.account, as_of=date(2026, 7, 1))
    by_account = {row.account_id: row for row in rows}
    assert set(by_account) == {order.account_id, other.account_id}
    mine = by_account[order.account_id]
    # 0 and 30 days -> 0-30; 31 and 60 -> 31-60; 61 and 90 -> 61-90; 91 -> 90+ (half paid).
    assert mine.buckets == {
        "0-30": Decimal("200.00"),
        "31-60": Decimal("200.00"),
        "61-90": Decimal("200.00"),
        "90+": Decimal("50.00"),
    }
    assert mine.not_due == Decimal("100.00") and mine.total == Decimal("750.00")
    assert by_account[other.account_id].buckets["0-30"] == Decimal("70.00")
    # A day later everything moves on by one day.
    (moved,) = single
    assert (
        moved.buckets
        == {
            "0-30": Decimal("200.00"),
            "31-60": Decimal("200.00"),
            "61-90": Decimal("200.00"),
            "90+": Decimal("150.00"),
        }
        and moved.not_due == 0
    )
    with tenant_context(beta):
        assert aging_report(actor=admin_of(beta), as_of=AS_OF) == []
        with pytest.raises(NotFound):
            aging_report(actor=admin_of(beta), account=order.account_id)


def test_overdue_reminders_are_sent_once(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(AS_OF):
        order = build.confirmed(admin, build.account(), 300, order_date=date(2026, 3, 1))
        set_payment_plan(
            actor=admin,
            order=order,
            instalments=[
                {"due_date": "2026-06-01", "amount": 100},
                {"due_date": "2026-06-29", "amount": 100},
                {"due_date": "2026-06-30", "amount": 100},
            ],
        )
        assert remind_overdue_instalments() == 2
        assert remind_overdue_instalments() == 2
        reminders = Reminder.objects.filter(user=admin, kind="instalment_overdue")
        assert reminders.count() == 2
        assert order.number in reminders.first().message
