"""Payment plans (分期回款) and payments (回款): instalments, allocation oldest-first, reversal."""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from crm.finance.models import Payment, PaymentAllocation, PaymentInstalment, PaymentPlan
from crm.orders.models import Order
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.money import rounded
from crm.records.services import get_for, next_number
from crm_platform.errors import Conflict

PAYMENT_NUMBERING = ("payment", "HK-{yyyy}{mm}-{seq:05d}")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


def set_payment_plan(*, actor, order, instalments: Iterable[Mapping], note: str = "") -> PaymentPlan:
    """Create or replace an order's payment plan. Each instalment: due_date and amount or percentage.

    Instalments given only as a percentage get that share of the total, the last one the rounding
    remainder. The amounts must add up to the order total exactly (error on `instalments`). A plan
    that has payments against it cannot be replaced.
    """
    with transaction.atomic(), acting_as(actor):
        order = get_for(actor, Order, pk_of(order), for_update=True)
        if order.status == Order.Status.CANCELLED:
            raise Conflict(_("A cancelled order needs no payment plan."))
        plan = PaymentPlan.objects.filter(order=order).first()
        if plan is not None and plan.payments.exists():
            raise Conflict(_("Payments were recorded against this plan; it can no longer be replaced."))
        rows = _validated_instalments(list(instalments), order.total)
        if plan is None:
            plan = PaymentPlan(account=order.account, order=order)
            plan.place(owner=order.owner, org_unit=order.org_unit, channel_node=order.channel_node)
        plan.currency = order.currency
        plan.total = order.total
        plan.note = note
        plan.save()
        plan.instalments.all().delete()
        PaymentInstalment.objects.bulk_create(
            PaymentInstalment(plan=plan, sequence=index + 1, due_date=due, amount=amount, percentage=percent)
            for index, (due, amount, percent) in enumerate(rows)
        )
        publish("payment_plan.set", plan, order=order.pk, instalments=len(rows))
        return plan


def _validated_instalments(rows: list[Mapping], total: Decimal) -> list[tuple[date, Decimal, Decimal]]:
    if not rows:
        raise ValidationError({"instalments": [_("A payment plan needs at least one instalment.")]})
    if total <= 0:
        raise ValidationError({"instalments": [_("The order has no amount to plan payments for.")]})
    errors: dict[str, list[str]] = {}
    result = []
    previous_due = None
    for index, data in enumerate(rows):
        row_errors: dict[str, str] = {}
        due = _date(data.get("due_date"))
        if due is None:
            row_errors["due_date"] = _("Enter a due date.")
        elif previous_due is not None and due < previous_due:
            row_errors["due_date"] = _("Instalments must fall due in order.")
        amount = percent = None
        if data.get("amount") not in (None, ""):
            amount = decimal_or_error(data["amount"], "amount", row_errors)
        if data.get("percentage") not in (None, ""):
            percent = decimal_or_error(data["percentage"], "percentage", row_errors)
        if amount is None and percent is None and not row_errors.keys() & {"amount", "percentage"}:
            row_errors["amount"] = _("Enter an amount or a percentage.")
        if percent is not None and not 0 < percent <= HUNDRED:
            row_errors["percentage"] = _("Enter a percentage above 0 and at most 100.")
        if amount is not None and (amount <= 0 or amount != rounded(amount)):
            row_errors["amount"] = _("Enter an amount above zero, in cents at most.")
        errors.update({f"instalments[{index}].{name}": [message] for name, message in row_errors.items()})
        previous_due = due or previous_due
        result.append((due, amount, percent))
    if errors:
        raise ValidationError(errors)
    return _completed(result, total)


def _completed(rows, total: Decimal) -> list[tuple[date, Decimal, Decimal]]:
    """Fill in amounts from percentages (and the reverse), then check the sum."""
    amounts = [
        amount if amount is not None else rounded(total * percent / HUNDRED) for _due, amount, percent in rows
    ]
    by_percent = [amount is None for _due, amount, _percent in rows]
    percentages = [percent for _due, _amount, percent in rows]
    if all(by_percent) and sum(percentages) == HUNDRED:
        amounts[-1] = total - sum(amounts[:-1])  # the rounding remainder goes to the last instalment
    planned = sum(amounts, ZERO)
    if planned != total:
        raise ValidationError(
            {
                "instalments": [
                    _("The instalments add up to %(planned)s; the order total is %(total)s.")
                    % {"planned": planned, "total": total}
                ]
            }
        )
    return [
        (due, amount, percent if percent is not None else rounded(amount * HUNDRED / total))
        for (due, _amount, percent), amount in zip(rows, amounts, strict=True)
    ]


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return parse_date(str(value)) if value else None
    except ValueError:
        return None


def record_payment(
    *,
    actor,
    plan,
    amount,
    paid_on: date,
    method: str,
    handler=None,
    bank_account: str = "",
    reference: str = "",
    note: str = "",
    allocations: Iterable[Mapping] | None = None,
) -> Payment:
    """Record money received against a plan and allocate it to its instalments.

    Without `allocations` the money pays the oldest open instalments first; with them (instalment
    and amount each) exactly as given. More than the plan's open balance is refused (`amount`).
    """
    with transaction.atomic(), acting_as(actor):
        plan = get_for(actor, PaymentPlan, pk_of(plan), for_update=True)
        if plan.order_id and plan.order.status == Order.Status.CANCELLED:
            raise Conflict(_("The order of this plan was cancelled."))
        open_rows = list(
            plan.instalments.select_for_update()
            .exclude(status=PaymentInstalment.Status.PAID)
            .order_by("due_date", "sequence")
        )
        errors: dict[str, str] = {}
        amount = decimal_or_error(amount, "amount", errors)
        if amount is not None and (amount <= 0 or amount != rounded(amount)):
            errors["amount"] = _("Enter an amount above zero, in cents at most.")
        if method not in Payment.Method.values:
            errors["method"] = _("Choose a payment method.")
        if not isinstance(paid_on, date) or paid_on > timezone.localdate():
            errors["paid_on"] = _("Enter the day the money arrived (not in the future).")
        outstanding = sum((row.outstanding for row in open_rows), ZERO)
        if "amount" not in errors and amount > outstanding:
            errors["amount"] = _("Overpayment: only %(open)s %(currency)s is still open on this plan.") % {
                "open": outstanding,
                "currency": plan.currency,
            }
        if errors:
            raise ValidationError({name: [message] for name, message in errors.items()})
        if allocations is None:
            split = _oldest_first(open_rows, amount)
        else:
            split = _explicit(open_rows, list(allocations), amount)
        payment = Payment(
            account_id=plan.account_id,
            plan=plan,
            number=next_number(*PAYMENT_NUMBERING),
            method=method,
            paid_on=paid_on,
            amount=amount,
            currency=plan.currency,
            handler=handler if handler is not None else actor,
            bank_account=bank_account.strip(),
            reference=reference.strip(),
            note=note,
        )
        payment.place(owner=actor or plan.owner, channel_node=plan.channel_node)
        payment.save()
        for instalment, part in split:
            PaymentAllocation.objects.create(payment=payment, instalment=instalment, amount=part)
            _settle(instalment, part)
        publish("payment.recorded", payment, plan=plan.pk, amount=str(amount))
        return payment


def _oldest_first(
    open_rows: list[PaymentInstalment], amount: Decimal
) -> list[tuple[PaymentInstalment, Decimal]]:
    split, left = [], amount
    for instalment in open_rows:
        if left <= 0:
            break
        part = min(left, instalment.outstanding)
        split.append((instalment, part))
        left -= part
    return split


def _explicit(
    open_rows, allocations: list[Mapping], amount: Decimal
) -> list[tuple[PaymentInstalment, Decimal]]:
    by_pk = {row.pk: row for row in open_rows}
    errors: dict[str, list[str]] = {}
    split, seen = [], set()
    for index, data in enumerate(allocations):
        row_errors: dict[str, str] = {}
        instalment = by_pk.get(pk_of(data.get("instalment")))
        if instalment is None or instalment.pk in seen:
            row_errors["instalment"] = _("Choose an open instalment of this plan, once.")
        part = decimal_or_error(data.get("amount"), "amount", row_errors)
        if part is not None and part <= 0:
            row_errors["amount"] = _("Enter an amount above zero.")
        elif part is not None and instalment is not None and part > instalment.outstanding:
            row_errors["amount"] = _("Only %(open)s is open on this instalment.") % {
                "open": instalment.outstanding
            }
        if instalment is not None:
            seen.add(instalment.pk)
        errors.update({f"allocations[{index}].{name}": [message] for name, message in row_errors.items()})
        if not row_errors:
            split.append((instalment, part))
    if not errors and sum((part for _row, part in split), ZERO) != amount:
        errors["allocations"] = [_("The allocations must add up to the amount received.")]
    if errors:
        raise ValidationError(errors)
    return sorted(split, key=lambda pair: (pair[0].due_date, pair[0].sequence))


def _settle(instalment: PaymentInstalment, change: Decimal) -> None:
    instalment.paid_amount += change
    if instalment.paid_amount == instalment.amount:
        instalment.status = PaymentInstalment.Status.PAID
    elif instalment.paid_amount > 0:
        instalment.status = PaymentInstalment.Status.PARTIALLY_PAID
    else:
        instalment.status = PaymentInstalment.Status.OPEN
    instalment.save(update_fields=["paid_amount", "status"])


def reverse_payment(*, actor, payment, reason: str) -> Payment:
    """Undo a payment recorded in error (bounced cheque, wrong account): its instalments reopen."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the payment is reversed.")]})
    with transaction.atomic(), acting_as(actor, reason=reason):
        payment = get_for(actor, Payment, pk_of(payment), for_update=True)
        if payment.status != Payment.Status.RECORDED:
            raise Conflict(_("This payment is already reversed."))
        allocations = payment.allocations.select_related("instalment").select_for_update(
            of=("self", "instalment")
        )
        for allocation in allocations:
            _settle(allocation.instalment, -allocation.amount)
        payment.status = Payment.Status.REVERSED
        payment.note = "\n".join(filter(None, [payment.note, _("Reversed: %(reason)s") % {"reason": reason}]))
        payment.save(update_fields=["status", "note", "updated_at"])
        publish("payment.reversed", payment, reason=reason)
        return payment
