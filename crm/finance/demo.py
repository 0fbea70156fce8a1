"""Demo receivables for the demo tenant: payment plans, payments, invoices and credit profiles.

Run after crm/orders/demo.py: it plans and collects payment for the orders found there, so the
aging report has every bucket, a few accounts are overdue, and one order sits on credit hold.
"""

import random
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from accounts.models import User
from crm.customers.models import Account
from crm.finance.credit import set_credit_profile
from crm.finance.invoices import issue_invoice
from crm.finance.models import CreditProfile, PaymentPlan
from crm.finance.payments import record_payment, set_payment_plan
from crm.orders.models import Order
from crm.orders.services import confirm_order, create_order

# (deposit %, on-delivery %, retention %, days from order to each): a common 3-6-1 scheme (预付-发货-质保金).
PLAN_SHAPES = [((30, 7), (60, 45), (10, 365)), ((50, 10), (50, 60), None), ((100, 30), None, None)]
METHODS = ["bank_transfer"] * 6 + ["acceptance_bill", "cheque", "alipay", "wechat_pay", "cash"]
BANK_ACCOUNTS = ["招商银行杭州分行 5719 0866 1010 201", "中国工商银行上海浦东支行 1001 2345 0910 0088 123"]
ACTIVE = (
    Order.Status.CONFIRMED,
    Order.Status.PARTIALLY_DELIVERED,
    Order.Status.DELIVERED,
)


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    """Plans for every live order, payments mostly on time, invoices on delivery, credit terms."""
    finance = next((user for user in staff if user.role and user.role.code == "finance"), None)
    orders = Order.objects.filter(status__in=ACTIVE).select_related("account").order_by("order_date", "id")
    for order in orders:
        plan = _plan(order, finance, rng)
        _collect(plan, finance, rng, today)
        _invoice(order, finance, rng, today)
    _credit_terms(finance, rng, accounts)
    _one_order_on_hold(finance, accounts, today)


def _plan(order: Order, actor, rng: random.Random) -> PaymentPlan:
    shape = [step for step in rng.choice(PLAN_SHAPES) if step]
    return set_payment_plan(
        actor=actor,
        order=order,
        instalments=[
            {"due_date": order.order_date + timedelta(days=days), "percentage": percent}
            for percent, days in shape
        ],
    )


def _collect(plan: PaymentPlan, actor, rng: random.Random, today: date) -> None:
    """Most customers pay on or a little after the due date; some pay part; a few not at all."""
    habit = rng.random()
    for instalment in plan.instalments.order_by("sequence"):
        paid_on = instalment.due_date + timedelta(
            days=rng.randint(-5, 20) if habit > 0.12 else rng.randint(30, 120)
        )
        if paid_on > today or habit < 0.04:
            return
        amount = (
            instalment.amount if rng.random() > 0.1 else (instalment.amount / 2).quantize(Decimal("0.01"))
        )
        record_payment(
            actor=actor,
            plan=plan,
            amount=amount,
            paid_on=paid_on,
            method=rng.choice(METHODS),
            bank_account=rng.choice(BANK_ACCOUNTS),
            reference=f"HZ{paid_on:%Y%m%d}{rng.randint(10000, 99999)}",
        )


def _invoice(order: Order, actor, rng: random.Random, today: date) -> None:
    """One VAT invoice per delivery, for the delivered share of the order."""
    for delivery in order.deliveries.exclude(status="cancelled").order_by("shipped_on", "id"):
        net = tax = Decimal("0")
        for line in delivery.lines.select_related("order_line"):
            share = line.quantity / line.order_line.quantity
            net += (line.order_line.net_amount * share).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            tax += (line.order_line.tax_amount * share).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        issued = delivery.shipped_on + timedelta(days=rng.randint(0, 10))
        if issued > today or net <= 0:
            continue
        issue_invoice(
            actor=actor,
            order=order,
            delivery=delivery,
            kind="vat_special" if order.account.kind == "company" else "vat_normal",
            number=f"{rng.randint(10**19, 10**20 - 1)}",  # 全电发票: 20 digits
            amount=net,
            tax_amount=tax,
            issue_date=issued,
        )


def _credit_terms(actor, rng: random.Random, accounts: list[Account]) -> None:
    for account in rng.sample(accounts, k=min(10, len(accounts))):
        set_credit_profile(
            actor=actor,
            account=account,
            credit_limit=Decimal(rng.choice([200, 500, 800, 1500, 3000])) * 1000,
            risk_class=rng.choice(list(CreditProfile.RiskClass.values)),
            overdue_days_threshold=rng.choice([30, 60, 90]),
            overdue_percent_threshold=Decimal(rng.choice([30, 50])),
        )


def _one_order_on_hold(actor, accounts: list[Account], today: date) -> None:
    """A customer with a tight limit places an order beyond it: it waits on credit hold for finance."""
    account = accounts[-1]
    set_credit_profile(
        actor=actor,
        account=account,
        credit_limit=Decimal("50000"),
        risk_class="high",
        overdue_days_threshold=30,
    )
    product = Order.objects.filter(status__in=ACTIVE).values_list("lines__product", flat=True).first()
    if product is None:
        return
    order = create_order(
        actor=account.owner,
        account=account,
        lines=[
            {
                "product": product,
                "quantity": 40,
                "unit_price": "2899.00",
                "description": "门店铺货 / store stock",
            }
        ],
        order_date=today,
    )
    confirm_order(actor=account.owner, order=order)
