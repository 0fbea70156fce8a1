"""What customers owe (应收): exposure parts, overdue instalments and the aging report, all in SQL.

Figures are per account and per currency: sums never mix currencies. An instalment is overdue from
the day after its due date; on the due date itself it is due, not overdue.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DecimalField, F, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from crm.customers.models import Account
from crm.finance.models import Invoice, Payment, PaymentInstalment, PaymentPlan
from crm.orders.models import Order, OrderLine
from crm.orders.status import OPEN_FOR_DELIVERY
from crm.records.money import rounded
from crm.records.services import get_for

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=24, decimal_places=6)
# Orders that have left draft and still count: cancelled ones owe nothing, drafts nothing yet.
ACTIVE_ORDERS = (
    Order.Status.CREDIT_HOLD,
    Order.Status.CONFIRMED,
    Order.Status.PARTIALLY_DELIVERED,
    Order.Status.DELIVERED,
    Order.Status.CLOSED,
)
# (key, first and last day overdue); None = no upper end.
AGING_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def _zero():
    return Value(ZERO, output_field=MONEY)


def _sum(queryset, expression) -> Decimal:
    return rounded(queryset.aggregate(value=Coalesce(Sum(expression, output_field=MONEY), _zero()))["value"])


# The value of a line's delivered (or still open) share, tax included.
DELIVERED_VALUE = F("line_total") * F("delivered_quantity") / F("quantity")
OPEN_VALUE = F("line_total") * (F("quantity") - F("delivered_quantity")) / F("quantity")
OUTSTANDING = F("amount") - F("paid_amount")


def open_order_value(account_id: int, currency: str) -> Decimal:
    """Confirmed orders' undelivered value."""
    lines = OrderLine.objects.filter(
        order__account_id=account_id, order__currency=currency, order__status__in=OPEN_FOR_DELIVERY
    )
    return _sum(lines, OPEN_VALUE)


def open_value_of(order: Order) -> Decimal:
    """What is still to be delivered on one order, tax included."""
    return _sum(order.lines.all(), OPEN_VALUE)


def delivered_not_invoiced(account_id: int, currency: str) -> Decimal:
    """Per order, delivered value minus what was invoiced (an invoice ahead of delivery counts as 0)."""
    delivered = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(value=Sum(DELIVERED_VALUE, output_field=MONEY))
        .values("value")
    )
    invoiced = (
        Invoice.objects.filter(order=OuterRef("pk"), status=Invoice.Status.ISSUED)
        .values("order")
        .annotate(value=Sum("total"))
        .values("value")
    )
    orders = Order.objects.filter(
        account_id=account_id, currency=currency, status__in=ACTIVE_ORDERS
    ).annotate(
        delivered=Coalesce(Subquery(delivered, output_field=MONEY), _zero()),
        invoiced=Coalesce(Subquery(invoiced, output_field=MONEY), _zero()),
    )
    return _sum(orders, Greatest(F("delivered") - F("invoiced"), _zero()))


def invoiced_not_paid(account_id: int, currency: str) -> Decimal:
    """Issued invoices minus payments received, for the account as a whole (not below zero).

    Payments are allocated to instalments, not to invoices, so the netting is per account.
    """
    invoiced = _sum(
        Invoice.objects.filter(account_id=account_id, currency=currency, status="issued"), F("total")
    )
    paid = _sum(
        Payment.objects.filter(account_id=account_id, currency=currency, status="recorded"), F("amount")
    )
    return max(invoiced - paid, ZERO)


def open_instalments(account_id: int | None = None):
    """Instalments with something left to pay, of plans whose order (if any) was not cancelled."""
    instalments = PaymentInstalment.objects.exclude(status=PaymentInstalment.Status.PAID).exclude(
        plan__order__status=Order.Status.CANCELLED
    )
    if account_id is not None:
        instalments = instalments.filter(plan__account_id=account_id)
    return instalments


@dataclass(frozen=True)
class Overdue:
    amount: Decimal  # unpaid and past due
    outstanding: Decimal  # unpaid, due or not
    oldest_days: int  # days the oldest overdue instalment is past due; 0 if none

    @property
    def percent(self) -> Decimal:
        """Overdue share of the open instalment balance, in percent."""
        if not self.outstanding:
            return ZERO
        return rounded(self.amount * 100 / self.outstanding)


def overdue(account_id: int, as_of: date, currency: str) -> Overdue:
    """Instalments past due and not fully paid on `as_of` (due yesterday: 1 day overdue)."""
    instalments = open_instalments(account_id).filter(plan__currency=currency)
    figures = instalments.aggregate(
        overdue_sum=Coalesce(Sum(OUTSTANDING, filter=Q(due_date__lt=as_of), output_field=MONEY), _zero()),
        open_sum=Coalesce(Sum(OUTSTANDING, output_field=MONEY), _zero()),
        oldest_due=Min("due_date", filter=Q(due_date__lt=as_of)),
    )
    oldest = figures["oldest_due"]
    return Overdue(
        amount=rounded(figures["overdue_sum"]),
        outstanding=rounded(figures["open_sum"]),
        oldest_days=(as_of - oldest).days if oldest else 0,
    )


def foreign_currency_items(account_id: int, currency: str) -> list[str]:
    """Currencies other than `currency` the account has open business in (orders or unpaid plans)."""
    orders = Order.objects.filter(account_id=account_id, status__in=ACTIVE_ORDERS).exclude(
        status=Order.Status.CLOSED
    )
    plans = PaymentPlan.objects.filter(pk__in=open_instalments(account_id).values("plan"))
    found = set(orders.exclude(currency=currency).values_list("currency", flat=True))
    found |= set(plans.exclude(currency=currency).values_list("currency", flat=True))
    return sorted(found)


@dataclass(frozen=True)
class Receivables:
    account_id: int
    currency: str
    as_of: date
    invoiced_not_paid: Decimal
    delivered_not_invoiced: Decimal
    open_orders: Decimal
    overdue_amount: Decimal
    oldest_overdue_days: int

    @property
    def exposure(self) -> Decimal:
        """Credit exposure: open orders + delivered-not-invoiced + invoiced-not-paid."""
        return self.open_orders + self.delivered_not_invoiced + self.invoiced_not_paid


def receivables_of(account_id: int, currency: str, as_of: date | None = None) -> Receivables:
    """The account's receivables in one currency as of a day (no scope check: callers look up first)."""
    as_of = as_of or timezone.localdate()
    late = overdue(account_id, as_of, currency)
    return Receivables(
        account_id=account_id,
        currency=currency,
        as_of=as_of,
        invoiced_not_paid=invoiced_not_paid(account_id, currency),
        delivered_not_invoiced=delivered_not_invoiced(account_id, currency),
        open_orders=open_order_value(account_id, currency),
        overdue_amount=late.amount,
        oldest_overdue_days=late.oldest_days,
    )


def account_receivables(*, actor, account, currency: str = "CNY", as_of: date | None = None) -> Receivables:
    """Receivables of one account the actor may see."""
    account = get_for(actor, Account, getattr(account, "pk", account))
    return receivables_of(account.pk, currency, as_of)


@dataclass(frozen=True)
class AgingRow:
    account_id: int
    currency: str
    not_due: Decimal
    buckets: dict[str, Decimal]  # AGING_BUCKETS keys -> amount due that many days ago

    @property
    def total(self) -> Decimal:
        return self.not_due + sum(self.buckets.values(), ZERO)


def aging_report(*, actor, as_of: date | None = None, account=None) -> list[AgingRow]:
    """Open instalment balances per visible account and currency, by days past due (账龄).

    Buckets count days since the due date: an amount due today is in 0-30, one due 31 days ago in
    31-60; amounts not yet due are reported apart. One grouped query.
    """
    as_of = as_of or timezone.localdate()
    instalments = open_instalments().filter(plan__account__in=Account.objects.visible_to(actor))
    if account is not None:
        instalments = instalments.filter(
            plan__account_id=get_for(actor, Account, getattr(account, "pk", account)).pk
        )
    sums = {"not_due": Sum(OUTSTANDING, filter=Q(due_date__gt=as_of), output_field=MONEY)}
    for index, (_key, first, last) in enumerate(AGING_BUCKETS):
        window = Q(due_date__lte=as_of - timedelta(days=first))
        if last is not None:
            window &= Q(due_date__gte=as_of - timedelta(days=last))
        sums[f"bucket_{index}"] = Sum(OUTSTANDING, filter=window, output_field=MONEY)
    rows = (
        instalments.values("plan__account", "plan__currency")
        .annotate(**{name: Coalesce(total, _zero()) for name, total in sums.items()})
        .order_by("plan__account", "plan__currency")
    )
    return [
        AgingRow(
            account_id=row["plan__account"],
            currency=row["plan__currency"],
            not_due=rounded(row["not_due"]),
            buckets={
                key: rounded(row[f"bucket_{index}"]) for index, (key, *_days) in enumerate(AGING_BUCKETS)
            },
        )
        for row in rows
    ]
