"""Orders: create, change the lines while still open to change, confirm under credit control, cancel, close.

Deliveries are in crm/orders/deliveries.py; the credit check itself in crm/finance/credit.py.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.catalog.models import Product
from crm.customers.models import Account
from crm.finance import credit
from crm.orders.models import Order, OrderLine
from crm.orders.status import delivery_status
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.money import rounded
from crm.records.services import ensure_placed_within_scope, get_for, next_number
from crm_platform.errors import Conflict

# Numbers follow the day of entry, not the (possibly back-dated) order date: a sequence restarts
# when its period changes, so numbering by document dates out of order would repeat numbers.
ORDER_NUMBERING = ("order", "SO-{yyyy}{mm}-{seq:05d}")
HUNDRED = Decimal("100")


def create_order(
    *,
    actor,
    account,
    lines: Iterable[Mapping],
    currency: str = settings.DEFAULT_CURRENCY,
    order_date=None,
    owner=None,
    channel_node=None,
    note: str = "",
) -> Order:
    """A draft order for `account`. Each line: product, quantity, unit_price (net of tax), and optionally
    discount_percent, tax_rate (default: the product's) and description."""
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account))
        order = Order(
            account=account,
            currency=currency,
            order_date=order_date or timezone.localdate(),
            note=note,
        )
        order.place(owner=owner or actor, channel_node=channel_node or account.channel_node)
        errors = _header_errors(order)
        try:
            new_lines = _priced_lines(lines)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        # Numbered only once valid: a refused order does not burn a number.
        order.number = next_number(*ORDER_NUMBERING)
        _save_with_lines(order, new_lines)
        ensure_placed_within_scope(actor, order)
        publish("order.created", order, total=str(order.total))
        return order


def create_order_from_contract(*, actor, contract, order_date=None, note: str = "") -> Order:
    """A draft order for an active contract's lines, at the contract's prices, discounts and tax,
    linked to the contract and to the quote it came from. Credit control applies on confirmation."""
    from crm.contracts.models import Contract

    with transaction.atomic(), acting_as(actor):
        contract = get_for(actor, Contract, pk_of(contract))
        if contract.status != Contract.Status.ACTIVE:
            raise Conflict(_("Orders are placed against active contracts only."))
        lines = [
            {
                "product": line.product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "tax_rate": line.tax_rate,
                "description": line.description,
            }
            for line in contract.lines.order_by("position")
        ]
        if not lines:
            raise Conflict(_("This contract has no product lines to order."))
        order = create_order(
            actor=actor,
            account=contract.account,
            lines=lines,
            currency=contract.currency,
            order_date=order_date,
            owner=contract.owner,
            channel_node=contract.channel_node,
            note=note,
        )
        order.contract, order.quote = contract, contract.quote
        order.save(update_fields=["contract", "quote", "updated_at"])
        return order


def replace_order_lines(*, actor, order, lines: Iterable[Mapping]) -> Order:
    """Replace all lines of a draft (or credit-held, undelivered) order and recompute its totals."""
    with transaction.atomic(), acting_as(actor):
        order = get_for(actor, Order, pk_of(order), for_update=True)
        if not order.is_editable or order.deliveries.exclude(status="cancelled").exists():
            raise Conflict(_("Only draft or credit-held orders without deliveries can change their lines."))
        if hasattr(order, "payment_plan"):
            raise Conflict(_("This order has a payment plan; remove or change the plan first."))
        new_lines = _priced_lines(lines)
        order.lines.all().delete()
        _save_with_lines(order, new_lines)
        publish("order.lines_replaced", order, total=str(order.total))
        return order


def confirm_order(*, actor, order) -> Order:
    """Confirm a draft (or re-confirm a credit-held) order, subject to the account's credit check.

    When the check fails the order goes to credit hold with the reasons instead (not an error: the
    hold and its log entry are the outcome); see crm/finance/credit.py for release.
    """
    with transaction.atomic(), acting_as(actor):
        order = get_for(actor, Order, pk_of(order), for_update=True)
        if order.status not in (Order.Status.DRAFT, Order.Status.CREDIT_HOLD):
            raise Conflict(_("Only draft or credit-held orders can be confirmed."))
        if not order.lines.exists():
            raise ValidationError({"lines": [_("An order needs at least one line.")]})
        result = credit.enforce_credit(actor=actor, order=order, stage=credit.Stage.CONFIRMATION)
        if result.passed:
            order.status = delivery_status(order)
            order.confirmed_at = timezone.now()
            order.credit_hold_reasons = []
            order.save(update_fields=["status", "confirmed_at", "credit_hold_reasons", "updated_at"])
            publish("order.confirmed", order, total=str(order.total))
        return order


def cancel_order(*, actor, order, reason: str = "") -> Order:
    """Cancel an order nothing has been delivered, invoiced or paid for yet."""
    with transaction.atomic(), acting_as(actor, reason=reason):
        order = get_for(actor, Order, pk_of(order), for_update=True)
        if order.status in (Order.Status.CANCELLED, Order.Status.CLOSED):
            raise Conflict(_("This order is already %(status)s.") % {"status": order.get_status_display()})
        if order.deliveries.exclude(status="cancelled").exists():
            raise Conflict(_("Cancel the order's deliveries first."))
        if order.invoices.filter(status="issued").exists():
            raise Conflict(_("Void the order's invoices first."))
        if hasattr(order, "payment_plan") and order.payment_plan.payments.filter(status="recorded").exists():
            raise Conflict(_("Payments were received for this order; reverse them first."))
        order.status = Order.Status.CANCELLED
        order.save(update_fields=["status", "updated_at"])
        publish("order.cancelled", order, reason=reason)
        return order


def close_order(*, actor, order) -> Order:
    """Close a (partly) delivered order: whatever is still open will not be delivered (short close)."""
    with transaction.atomic(), acting_as(actor):
        order = get_for(actor, Order, pk_of(order), for_update=True)
        if order.status not in (Order.Status.PARTIALLY_DELIVERED, Order.Status.DELIVERED):
            raise Conflict(_("Only delivered or partially delivered orders can be closed."))
        order.status = Order.Status.CLOSED
        order.save(update_fields=["status", "updated_at"])
        publish("order.closed", order)
        return order


def _header_errors(order: Order) -> dict[str, list[str]]:
    errors = {}
    try:
        order.full_clean(exclude=["number", "account", "owner", "org_unit", "channel_node"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not (len(order.currency) == 3 and order.currency.isascii() and order.currency.isupper()):
        errors.setdefault("currency", []).append(_("Use a three-letter ISO currency code, e.g. CNY."))
    return errors


def _save_with_lines(order: Order, new_lines: list[OrderLine]) -> None:
    order.net_amount = sum((line.net_amount for line in new_lines), Decimal("0"))
    order.tax_amount = sum((line.tax_amount for line in new_lines), Decimal("0"))
    order.total = order.net_amount + order.tax_amount
    order.save()
    for line in new_lines:
        line.order = order
    OrderLine.objects.bulk_create(new_lines)


def _priced_lines(lines: Iterable[Mapping]) -> list[OrderLine]:
    """Validated, priced (unsaved) lines; every problem is reported as `lines[i].field`."""
    lines = list(lines)
    if not lines:
        raise ValidationError({"lines": [_("An order needs at least one line.")]})
    products = Product.objects.in_bulk([pk_of(line.get("product")) for line in lines if line.get("product")])
    errors: dict[str, list[str]] = {}
    result = []
    for index, data in enumerate(lines):
        line_errors: dict[str, str] = {}
        product = products.get(pk_of(data.get("product")))
        if product is None:
            line_errors["product"] = _("Choose a product.")
        elif not product.is_active:
            line_errors["product"] = _("This product is no longer sold.")
        quantity = decimal_or_error(data.get("quantity"), "quantity", line_errors)
        unit_price = decimal_or_error(data.get("unit_price"), "unit_price", line_errors)
        discount = decimal_or_error(data.get("discount_percent", 0), "discount_percent", line_errors)
        default_rate = product.tax_rate if product else Decimal("0")
        tax_rate = decimal_or_error(data.get("tax_rate", default_rate), "tax_rate", line_errors)
        if quantity is not None and quantity <= 0:
            line_errors["quantity"] = _("The quantity must be more than zero.")
        if unit_price is not None and unit_price < 0:
            line_errors["unit_price"] = _("The price cannot be negative.")
        if discount is not None and not 0 <= discount <= HUNDRED:
            line_errors["discount_percent"] = _("The discount must be between 0 and 100%.")
        if tax_rate is not None and not 0 <= tax_rate <= HUNDRED:
            line_errors["tax_rate"] = _("The tax rate must be between 0 and 100%.")
        if not line_errors:
            line = _priced(index, product, quantity, unit_price, discount, tax_rate, data)
            try:
                line.full_clean(exclude=["order"], validate_constraints=False)
            except ValidationError as exc:
                line_errors.update({field: messages[0] for field, messages in exc.message_dict.items()})
            result.append(line)
        for field, message in line_errors.items():
            errors[f"lines[{index}].{field}"] = [message]
    if errors:
        raise ValidationError(errors)
    return result


def _priced(index, product, quantity, unit_price, discount, tax_rate, data) -> OrderLine:
    net = rounded(quantity * unit_price * (HUNDRED - discount) / HUNDRED)
    tax = rounded(net * tax_rate / HUNDRED)
    return OrderLine(
        position=index + 1,
        product=product,
        description=str(data.get("description") or "")[:300],
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount,
        tax_rate=tax_rate,
        net_amount=net,
        tax_amount=tax,
        line_total=net + tax,
    )
