"""VAT invoices (开票) against orders: never more than the order total, voided rather than deleted."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.finance.models import Invoice
from crm.orders.models import Delivery, Order
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.money import rounded
from crm.records.services import get_for
from crm_platform.errors import Conflict

INVOICEABLE = (
    Order.Status.CONFIRMED,
    Order.Status.PARTIALLY_DELIVERED,
    Order.Status.DELIVERED,
    Order.Status.CLOSED,
)


def issue_invoice(
    *,
    actor,
    order,
    kind: str,
    number: str,
    amount,
    tax_amount,
    issue_date: date | None = None,
    delivery=None,
) -> Invoice:
    """Record an invoice issued for an order (optionally for one of its deliveries).

    `amount` is net of tax, `tax_amount` the VAT; their sum, with the order's other issued invoices,
    may not exceed the order total (error on `amount`).
    """
    with transaction.atomic(), acting_as(actor):
        order = get_for(actor, Order, pk_of(order), for_update=True)
        if order.status not in INVOICEABLE:
            raise Conflict(_("Only confirmed orders can be invoiced."))
        errors: dict[str, str] = {}
        number = (number or "").strip()
        issue_date = issue_date or timezone.localdate()
        if kind not in Invoice.Kind.values:
            errors["kind"] = _("Choose the kind of invoice.")
        if not number:
            errors["number"] = _("Enter the invoice number.")
        elif Invoice.objects.filter(number=number, status=Invoice.Status.ISSUED).exists():
            errors["number"] = _("An invoice with this number was already issued.")
        if issue_date < order.order_date:
            errors["issue_date"] = _("An invoice cannot predate its order.")
        amount = decimal_or_error(amount, "amount", errors)
        tax_amount = decimal_or_error(tax_amount, "tax_amount", errors)
        if amount is not None and (amount <= 0 or amount != rounded(amount)):
            errors["amount"] = _("Enter an amount above zero, in cents at most.")
        if tax_amount is not None and (tax_amount < 0 or tax_amount != rounded(tax_amount)):
            errors["tax_amount"] = _("Enter a tax amount of zero or more, in cents at most.")
        if delivery is not None:
            delivery = Delivery.objects.filter(pk=pk_of(delivery), order=order).first()
            if delivery is None or delivery.status == Delivery.Status.CANCELLED:
                errors["delivery"] = _("Choose a delivery of this order that was not cancelled.")
        if not errors.keys() & {"amount", "tax_amount"}:
            invoiced = (
                order.invoices.filter(status=Invoice.Status.ISSUED).aggregate(total=Sum("total"))["total"]
                or 0
            )
            if invoiced + amount + tax_amount > order.total:
                errors["amount"] = _(
                    "Invoices may not exceed the order total of %(total)s; %(left)s is left to invoice."
                ) % {"total": order.total, "left": order.total - invoiced}
        if errors:
            raise ValidationError({name: [message] for name, message in errors.items()})
        invoice = Invoice(
            kind=kind,
            number=number,
            account_id=order.account_id,
            order=order,
            delivery=delivery,
            issue_date=issue_date,
            amount=amount,
            tax_amount=tax_amount,
            total=amount + tax_amount,
            currency=order.currency,
        )
        invoice.place(owner=actor or order.owner, channel_node=order.channel_node)
        invoice.save()
        publish("invoice.issued", invoice, order=order.pk, total=str(invoice.total))
        return invoice


def void_invoice(*, actor, invoice, reason: str) -> Invoice:
    """Void (作废) an issued invoice; its amount no longer counts against the order."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the invoice is voided.")]})
    with transaction.atomic(), acting_as(actor, reason=reason):
        invoice = get_for(actor, Invoice, pk_of(invoice), for_update=True)
        if invoice.status != Invoice.Status.ISSUED:
            raise Conflict(_("This invoice is already void."))
        invoice.status = Invoice.Status.VOID
        invoice.void_reason = reason.strip()[:300]
        invoice.save(update_fields=["status", "void_reason", "updated_at"])
        publish("invoice.voided", invoice, reason=reason)
        return invoice
