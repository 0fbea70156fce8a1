from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord
from crm.records.money import amount_field, currency_field


def percent_field(verbose_name, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(verbose_name, max_digits=5, decimal_places=2, **kwargs)


@tracked
class Quote(StandardRecord):
    """A quote (报价单) to a customer, priced from the price books, in versions.

    A revision is a new row with the same number and the next version; the revised one is marked
    superseded. Amounts (all net of tax except `tax_amount` and `grand_total`):
    list_amount      quantities at list price
    subtotal         after the lines' own discounts
    discount_amount  everything below list price: line discounts plus the whole-quote discount
    net_amount       after the whole-quote discount; the tax base
    grand_total      net_amount + tax_amount (价税合计)
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        SUPERSEDED = "superseded", _("Superseded")

    number = models.CharField(_("number"), max_length=40, editable=False)
    version = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    revises = models.OneToOneField(
        "self",
        verbose_name=_("revises"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revised_by",
        editable=False,
    )
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    currency = currency_field()
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    discount_percent = percent_field(_("quote discount %"))
    list_amount = amount_field(_("list amount"))
    subtotal = amount_field(_("subtotal"))
    discount_amount = amount_field(_("total discount"))
    net_amount = amount_field(_("net amount"))
    tax_amount = amount_field(_("tax"))
    grand_total = amount_field(_("grand total"))
    terms = models.TextField(_("terms"), blank=True)
    note = models.TextField(_("note"), blank=True)
    # Whose discount limit applies: the person who last priced the quote (saved its lines).
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approval_comment = models.CharField(_("approval comment"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="quote_number_version_unique"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="quote_discount_0_100",
            ),
        ]
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["account", "status"], name="quote_account_status"),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid_until"),
        ]

    def __str__(self):
        return f"{self.number} v{self.version}"

    @property
    def is_editable(self) -> bool:
        """Lines and header may change until the quote goes out; approval is voided by a change."""
        return self.status in (self.Status.DRAFT, self.Status.PENDING_APPROVAL, self.Status.APPROVED)

    @property
    def overall_discount_percent(self) -> Decimal:
        """Everything below list price, as a percentage of the list amount."""
        if not self.list_amount:
            return Decimal("0")
        return self.discount_amount * 100 / self.list_amount


@tracked
class QuoteLine(models.Model):
    """One product on a quote, at the price book's list price less the line's discount."""

    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=2)
    unit = models.ForeignKey(
        "catalog.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    list_price = amount_field(_("list price"))
    discount_percent = percent_field(_("discount %"))
    net_price = amount_field(_("net price"), help_text=_("Unit price after the line's discount."))
    line_total = amount_field(_("line total"), help_text=_("Quantity at net price, before tax."))
    net_amount = amount_field(
        _("net amount"), help_text=_("The line total less its share of the quote discount; the tax base.")
    )
    tax_rate = percent_field(_("tax rate %"))
    tax_amount = amount_field(_("tax"))

    class Meta:
        ordering = ["quote", "position"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = [
            models.UniqueConstraint(fields=["quote", "position"], name="quote_line_position_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="quote_line_quantity_positive"),
            models.CheckConstraint(condition=Q(list_price__gte=0), name="quote_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="quote_line_discount_0_100",
            ),
        ]

    def __str__(self):
        return f"{self.quote_id}#{self.position} {self.product_id} x {self.quantity}"

    @property
    def list_amount(self) -> Decimal:
        return self.quantity * self.list_price
