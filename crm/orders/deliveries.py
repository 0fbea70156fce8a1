"""Deliveries (发货): ship some or all of an order's open quantities, confirm receipt, cancel.

Every write to delivered quantities first locks the order row, so two deliveries of the same order
are serialised and cannot both take the last units.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.finance import credit
from crm.orders.models import Delivery, DeliveryLine, Order
from crm.orders.status import IN_DELIVERY, OPEN_FOR_DELIVERY, delivery_status
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.services import get_for, next_number
from crm_platform.errors import Conflict

DELIVERY_NUMBERING = ("delivery", "DN-{yyyy}{mm}-{seq:05d}")


def create_delivery(
    *,
    actor,
    order,
    lines: Iterable[Mapping],
    shipped_on=None,
    carrier: str = "",
    tracking_number: str = "",
    note: str = "",
) -> Delivery:
    """Ship quantities of a confirmed order; each line: order_line and quantity.

    A line may ship at most what is still open on its order line (field error `lines[i].quantity`).
    The account's credit is checked again first (SAP's check at delivery): when it fails, the order
    goes to credit hold, the hold and its log entry are kept, and `credit.CreditBlocked` is raised.
    """
    blocked = None
    with transaction.atomic(), acting_as(actor):
        order = get_for(actor, Order, pk_of(order), for_update=True)
        if order.status not in OPEN_FOR_DELIVERY:
            raise Conflict(_("Only confirmed orders with open quantities can be delivered."))
        shipped_on = shipped_on or timezone.localdate()
        wanted = _validated_lines(order, lines, shipped_on)
        result = credit.enforce_credit(actor=actor, order=order, stage=credit.Stage.DELIVERY)
        if not result.passed:
            blocked = result
        else:
            delivery = Delivery(
                order=order,
                number=next_number(*DELIVERY_NUMBERING),
                shipped_on=shipped_on,
                carrier=carrier.strip(),
                tracking_number=tracking_number.strip(),
                note=note,
            )
            delivery.place(owner=actor or order.owner, channel_node=order.channel_node)
            delivery.save()
            for order_line, quantity in wanted:
                DeliveryLine.objects.create(delivery=delivery, order_line=order_line, quantity=quantity)
                order_line.delivered_quantity += quantity
                order_line.save(update_fields=["delivered_quantity"])
            _refresh_status(order)
            publish("delivery.created", delivery, order=order.pk)
    if blocked is not None:
        # Raised outside the block so the hold and its credit log entry stay written.
        raise credit.CreditBlocked(blocked)
    return delivery


def mark_delivery_received(*, actor, delivery, received_on=None) -> Delivery:
    """The customer confirmed receipt (签收)."""
    with transaction.atomic(), acting_as(actor):
        delivery = get_for(actor, Delivery, pk_of(delivery), for_update=True)
        if delivery.status != Delivery.Status.SHIPPED:
            raise Conflict(_("Only shipped deliveries can be marked received."))
        received_on = received_on or timezone.localdate()
        if received_on < delivery.shipped_on:
            raise ValidationError({"received_on": [_("A delivery cannot arrive before it was shipped.")]})
        delivery.status = Delivery.Status.RECEIVED
        delivery.received_on = received_on
        delivery.save(update_fields=["status", "received_on", "updated_at"])
        publish("delivery.received", delivery, order=delivery.order_id)
        return delivery


def cancel_delivery(*, actor, delivery, reason: str = "") -> Delivery:
    """Cancel a delivery (goods returned or never left): its quantities go back to the order."""
    with transaction.atomic(), acting_as(actor, reason=reason):
        delivery = get_for(actor, Delivery, pk_of(delivery))
        order = get_for(actor, Order, delivery.order_id, for_update=True)
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == Delivery.Status.CANCELLED:
            raise Conflict(_("This delivery is already cancelled."))
        if order.status in (Order.Status.CANCELLED, Order.Status.CLOSED):
            raise Conflict(_("The order is closed; its deliveries can no longer change."))
        if delivery.invoices.filter(status="issued").exists():
            raise Conflict(_("Void the invoices issued for this delivery first."))
        for line in delivery.lines.select_related("order_line"):
            line.order_line.delivered_quantity -= line.quantity
            line.order_line.save(update_fields=["delivered_quantity"])
        delivery.status = Delivery.Status.CANCELLED
        delivery.cancelled_at = timezone.now()
        delivery.save(update_fields=["status", "cancelled_at", "updated_at"])
        _refresh_status(order)
        publish("delivery.cancelled", delivery, order=order.pk, reason=reason)
        return delivery


def _validated_lines(order: Order, lines: Iterable[Mapping], shipped_on) -> list[tuple]:
    lines = list(lines)
    if not lines:
        raise ValidationError({"lines": [_("A delivery needs at least one line.")]})
    order_lines = {line.pk: line for line in order.lines.select_for_update()}
    errors: dict[str, list[str]] = {}
    if shipped_on < order.order_date:
        errors["shipped_on"] = [_("A delivery cannot ship before the order date.")]
    elif shipped_on > timezone.localdate():
        errors["shipped_on"] = [_("Record a delivery once it has shipped.")]
    wanted, seen = [], set()
    for index, data in enumerate(lines):
        line_errors: dict[str, str] = {}
        order_line = order_lines.get(pk_of(data.get("order_line")))
        if order_line is None:
            line_errors["order_line"] = _("Choose a line of this order.")
        elif order_line.pk in seen:
            line_errors["order_line"] = _("Each order line may appear once per delivery.")
        quantity = decimal_or_error(data.get("quantity"), "quantity", line_errors)
        if quantity is not None and quantity <= 0:
            line_errors["quantity"] = _("The quantity must be more than zero.")
        elif quantity is not None and quantity != quantity.quantize(Decimal("0.01")):
            line_errors["quantity"] = _("Use at most two decimal places.")
        elif quantity is not None and order_line is not None and quantity > order_line.open_quantity:
            line_errors["quantity"] = _(
                "Only %(open)s left to deliver on this line (ordered %(ordered)s)."
            ) % {
                "open": order_line.open_quantity.normalize(),
                "ordered": order_line.quantity.normalize(),
            }
        if order_line is not None:
            seen.add(order_line.pk)
        if line_errors:
            errors.update({f"lines[{index}].{field}": [message] for field, message in line_errors.items()})
        else:
            wanted.append((order_line, quantity))
    if errors:
        raise ValidationError(errors)
    return wanted


def _refresh_status(order: Order) -> None:
    """Partially delivered / delivered / back to confirmed; a held order keeps its hold."""
    if order.status in IN_DELIVERY:
        order.status = delivery_status(order)
        order.save(update_fields=["status", "updated_at"])
