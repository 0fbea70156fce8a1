"""Payment plans (分期回款) and payments (回款): sums per field, oldest-first, overpayment, reversal."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.finance.models import Payment, PaymentAllocation, PaymentInstalment, PaymentPlan
from crm.finance.payments import record_payment, reverse_payment, set_payment_plan
from crm.orders.services import cancel_order
from crm.records import audit
from crm_platform.errors import Conflict, NotFound
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

TODAY = date(2026, 6, 30)


def three_instalments(admin, total=1000):
    order = build.confirmed(admin, build.account(), total, order_date=date(2026, 1, 5))
    plan = set_payment_plan(
        actor=admin,
        order=order,
        instalments=[
            {"due_date": date(2026, 2, 1), "percentage": 30},
            {"due_date": date(2026, 4, 1), "percentage": 30},
            {"due_date": "2026-07-01", "percentage": 40},
        ],
    )
    return plan


def state(plan):
    return [
        (i.paid_amount, i.status) for i in PaymentInstalment.objects.filter(plan=plan).order_by("sequence")
    ]


def test_a_plan_by_percentages_adds_up_to_the_order_total(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.confirmed(admin, build.account(), "1000.01")
        plan = set_payment_plan(
            actor=admin,
            order=order,
            instalments=[
                {"due_date": date(2026, 2, 1), "percentage": "33.33"},
                {"due_date": date(2026, 3, 1), "percentage": "33.33"},
                {"due_date": date(2026, 4, 1), "percentage": "33.34"},
            ],
        )
        rows = list(plan.instalments.values_list("amount", "percentage"))
    # The rounding remainder goes to the last instalment.
    assert rows == [
        (Decimal("333.30"), Decimal("33.33")),
        (Decimal("333.30"), Decimal("33.33")),
        (Decimal("333.41"), Decimal("33.34")),
    ]
    assert (plan.total, plan.account_id, plan.currency) == (Decimal("1000.01"), order.account_id, "CNY")


def test_amounts_that_do_not_add_up_are_refused_on_the_field(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.confirmed(admin, build.account(), 1000)
        with pytest.raises(ValidationError) as error:
            set_payment_plan(
                actor=admin,
                order=order,
                instalments=[
                    {"due_date": date(2026, 2, 1), "amount": 300},
                    {"due_date": date(2026, 3, 1), "amount": 600},
                ],
            )
        assert list(error.value.message_dict) == ["instalments"]
        assert "900" in error.value.message_dict["instalments"][0]
        assert not PaymentPlan.objects.exists() and not PaymentInstalment.objects.exists()


def test_bad_instalments_are_reported_per_row_and_field(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        order = build.confirmed(admin, build.account(), 1000)
        with pytest.raises(ValidationError) as error:
            set_payment_plan(
                actor=admin,
                order=order,
                instalments=[
                    {"due_date": date(2026, 3, 1), "amount": 500},
                    {"due_date": date(2026, 2, 1), "amount": "-5"},
                    {"due_date": None, "percentage": 150},
                    {"due_date": "2026-13-01"},
                    {"due_date": date(2026, 5, 1), "amount": "0.001"},
                ],
            )
        assert set(error.value.message_dict) == {
            "instalments[1].due_date",
            "instalments[1].amount",
            "instalments[2].due_date",
            "instalments[2].percentage",
            "instalments[3].due_date",
            "instalments[3].amount",
            "instalments[4].amount",
        }
        with pytest.raises(ValidationError) as error:
            set_payment_plan(actor=admin, order=order, instalments=[])
        assert "instalments" in error.value.message_dict


def test_payments_go_to_the_oldest_instalments_first(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(TODAY):
        finance = build.user("finance", "赵敏")
        plan = three_instalments(admin)
        first = record_payment(
            actor=finance,
            plan=plan,
            amount="450",
            paid_on=date(2026, 3, 15),
            method="bank_transfer",
            bank_account="招商银行 6225 **** 8899",
            reference="HZ2026031500012",
        )
        assert state(plan) == [
            (Decimal("300.00"), "paid"),
            (Decimal("150.00"), "partially_paid"),
            (Decimal("0.00"), "open"),
        ]
        assert [(a.instalment.sequence, a.amount) for a in first.allocations.all()] == [
            (1, Decimal("300.00")),
            (2, Decimal("150.00")),
        ]
        assert first.number.startswith("HK-202606-") and first.handler == finance
        assert (first.account_id, first.currency) == (plan.account_id, "CNY")
        record_payment(actor=finance, plan=plan, amount=550, paid_on=TODAY, method="wechat_pay")
        assert state(plan) == [
            (Decimal("300.00"), "paid"),
            (Decimal("300.00"), "paid"),
            (Decimal("400.00"), "paid"),
        ]


def test_overpayment_is_refused_and_nothing_is_written(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(TODAY):
        plan = three_instalments(admin)
        record_payment(actor=admin, plan=plan, amount=900, paid_on=TODAY, method="cash")
        payments = Payment.objects.count()
        with pytest.raises(ValidationError) as error:
            record_payment(actor=admin, plan=plan, amount="100.01", paid_on=TODAY, method="cash")
        assert list(error.value.message_dict) == ["amount"]
        assert "100.00" in error.value.message_dict["amount"][0]
        assert Payment.objects.count() == payments
        assert state(plan)[2] == (Decimal("300.00"), "partially_paid")
        record_payment(actor=admin, plan=plan, amount=100, paid_on=TODAY, method="cash")  # exactly the rest
        assert all(status == "paid" for _paid, status in state(plan))


def test_payment_fields_are_checked(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(TODAY):
        plan = three_instalments(admin)
        with pytest.raises(ValidationError) as error:
            record_payment(actor=admin, plan=plan, amount=0, paid_on=date(2026, 7, 1), method="bitcoin")
        assert set(error.value.message_dict) == {"amount", "paid_on", "method"}
        with pytest.raises(NotFound):
            record_payment(actor=admin, plan=999_999, amount=1, paid_on=TODAY, method="cash")


def test_explicit_allocation_pays_the_instalments_named(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(TODAY):
        plan = three_instalments(admin)
        first, second, third = plan.instalments.all()
        record_payment(
            actor=admin,
            plan=plan,
            amount=500,
            paid_on=TODAY,
            method="acceptance_bill",
            allocations=[{"instalment": third, "amount": 400}, {"instalment": second.pk, "amount": "100"}],
        )
        assert state(plan) == [
            (Decimal("0.00"), "open"),
            (Decimal("100.00"), "partially_paid"),
            (Decimal("400.00"), "paid"),
        ]
        with pytest.raises(ValidationError) as error:
            record_payment(
                actor=admin,
                plan=plan,
                amount=300,
                paid_on=TODAY,
                method="cash",
                allocations=[
                    {"instalment": third, "amount": 1},  # already paid
                    {"instalment": second, "amount": 250},  # only 200 open
                    {"instalment": first, "amount": 0},
                ],
            )
        assert set(error.value.message_dict) == {
            "allocations[0].instalment",
            "allocations[1].amount",
            "allocations[2].amount",
        }
        with pytest.raises(ValidationError) as error:
            record_payment(
                actor=admin,
                plan=plan,
                amount=300,
                paid_on=TODAY,
                method="cash",
                allocations=[{"instalment": first, "amount": 200}],
            )
        assert list(error.value.message_dict) == ["allocations"]
        assert PaymentAllocation.objects.count() == 2


def test_reversing_a_payment_reopens_its_instalments(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(TODAY):
        plan = three_instalments(admin)
        payment = record_payment(actor=admin, plan=plan, amount=450, paid_on=TODAY, method="cheque")
        with pytest.raises(ValidationError):
            reverse_payment(actor=admin, payment=payment, reason="")
        payment = reverse_payment(actor=admin, payment=payment, reason="支票退票")
        assert payment.status == "reversed"
        assert state(plan) == [(Decimal("0.00"), "open")] * 3
        with pytest.raises(Conflict):
            reverse_payment(actor=admin, payment=payment, reason="again")
        assert audit.history(payment)[-1].changes["status"] == ["recorded", "reversed"]
        # A plan with payments on record is not replaced behind their back.
        with pytest.raises(Conflict):
            set_payment_plan(
                actor=admin, order=plan.order, instalments=[{"due_date": TODAY, "percentage": 100}]
            )


def test_a_plan_is_replaced_while_nothing_is_paid(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        plan = three_instalments(admin)
        again = set_payment_plan(
            actor=admin, order=plan.order, instalments=[{"due_date": TODAY, "percentage": 100}]
        )
        assert again.pk == plan.pk and list(again.instalments.values_list("amount", flat=True)) == [
            Decimal("1000")
        ]


def test_cancelled_orders_take_no_plans_or_payments(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(TODAY):
        plan = three_instalments(admin)
        cancel_order(actor=admin, order=plan.order)
        with pytest.raises(Conflict):
            record_payment(actor=admin, plan=plan, amount=1, paid_on=TODAY, method="cash")
        with pytest.raises(Conflict):
            set_payment_plan(
                actor=admin, order=plan.order, instalments=[{"due_date": TODAY, "percentage": 100}]
            )


def test_payments_stay_in_their_tenant(alpha, beta):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(TODAY):
        plan = three_instalments(admin)
        record_payment(actor=admin, plan=plan, amount=1, paid_on=TODAY, method="alipay")
    with tenant_context(beta):
        assert not Payment.objects.exists() and not PaymentPlan.objects.exists()
        with pytest.raises(NotFound):
            record_payment(actor=admin_of(beta), plan=plan.pk, amount=1, paid_on=TODAY, method="cash")
