"""Where an order stands on delivery, derived from its lines' delivered quantities."""

from django.db.models import F

from crm.orders.models import Order

# Orders whose delivery progress decides their status (a held, cancelled or closed order keeps its own).
IN_DELIVERY = (Order.Status.CONFIRMED, Order.Status.PARTIALLY_DELIVERED, Order.Status.DELIVERED)
# Confirmed orders with something still to deliver: their open value counts towards credit exposure.
OPEN_FOR_DELIVERY = (Order.Status.CONFIRMED, Order.Status.PARTIALLY_DELIVERED)


def delivery_status(order: Order) -> str:
    """confirmed (nothing delivered), partially delivered, or delivered (every line in full)."""
    lines = order.lines.all()
    if not lines.filter(delivered_quantity__lt=F("quantity")).exists():
        return Order.Status.DELIVERED
    if lines.filter(delivered_quantity__gt=0).exists():
        return Order.Status.PARTIALLY_DELIVERED
    return Order.Status.CONFIRMED
