from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord
from crm.records.money import amount_field, currency_field


def quantity_field(verbose_name, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


@tracked
class Order(StandardRecord):
    """A sales order (订单): what the customer buys, delivered in one or more deliveries.

    Amounts are in the order's currency; `total` (价税合计) is the sum of the lines' totals, tax
    included. Lines are frozen once the order is confirmed.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CREDIT_HOLD = "credit_hold", _("Credit hold")
        CONFIRMED = "confirmed", _("Confirmed")
        PARTIALLY_DELIVERED = "partially_delivered", _("Partially delivered")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    # Where the order came from, so quote -> contract -> order -> delivery -> 回款 is one chain.
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    quote = models.ForeignKey(
        "quotes.Quote",
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    currency = currency_field()
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    order_date = models.DateField(_("order date"))
    net_amount = amount_field(_("net amount"))
    tax_amount = amount_field(_("tax"))
    total = amount_field(_("total"))
    credit_hold_reasons = models.JSONField(_("credit hold reasons"), default=list, blank=True)
    credit_released_at = models.DateTimeField(_("credit released at"), null=True, blank=True)
    credit_released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("credit released by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["-order_date", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["account", "status"], name="order_account_status"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.CREDIT_HOLD)


@tracked
class OrderLine(models.Model):
    """One product on an order. Prices are net of tax; tax is added per line at the line's rate."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = quantity_field(_("quantity"))
    unit_price = amount_field(_("unit price"))
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    tax_rate = models.DecimalField(_("tax rate %"), max_digits=5, decimal_places=2, default=Decimal("13"))
    net_amount = amount_field(_("net amount"))
    tax_amount = amount_field(_("tax"))
    line_total = amount_field(_("line total"))
    delivered_quantity = quantity_field(_("delivered quantity"))

    class Meta:
        ordering = ["order", "position"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="order_line_discount_0_100",
            ),
            # The last line of defence against over-delivery, whatever path writes the quantity.
            models.CheckConstraint(
                condition=Q(delivered_quantity__gte=0, delivered_quantity__lte=F("quantity")),
                name="order_line_delivered_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.order_id}#{self.position} {self.product_id} x {self.quantity}"

    @property
    def open_quantity(self) -> Decimal:
        return self.quantity - self.delivered_quantity


@tracked
class Delivery(StandardRecord):
    """A shipment (发货单) of some or all of an order's open quantities.

    The quantities count as delivered from the moment the delivery is created (the goods have left);
    cancelling the delivery gives them back to the order.
    """

    class Status(models.TextChoices):
        SHIPPED = "shipped", _("Shipped")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="deliveries"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SHIPPED)
    shipped_on = models.DateField(_("shipped on"))
    received_on = models.DateField(_("received on"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["-shipped_on", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self):
        return self.number


@tracked
class DeliveryLine(models.Model):
    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="delivery_lines"
    )
    quantity = quantity_field(_("quantity"))

    class Meta:
        ordering = ["delivery", "order_line__position"]
        verbose_name = _("delivery line")
        verbose_name_plural = _("delivery lines")
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "order_line"], name="delivery_line_once_per_order_line"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="delivery_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.delivery_id}: {self.order_line_id} x {self.quantity}"
