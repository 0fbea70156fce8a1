from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord
from crm.records.money import amount_field, currency_field

RENEWAL_NOTICE_DAYS = 30  # default: remind the owner this many days before a contract ends


@tracked
class Contract(StandardRecord):
    """A signed agreement (合同) with a customer: numbered, with terms, lines, signatories and files.

    Life: draft -> (pending approval, optional) -> active once both sides have signed -> expired at
    its end date, terminated early, or renewed by a follow-on contract (`renewed_from`).
    `amount` is the contract value including tax (价税合计); with lines it is their sum.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")
        RENEWED = "renewed", _("Renewed")

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="contracts"
    )
    quote = models.ForeignKey(
        "quotes.Quote",
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
        editable=False,
    )
    renewed_from = models.OneToOneField(
        "self",
        verbose_name=_("renews"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal",
        editable=False,
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = currency_field()
    amount = amount_field(_("contract amount"))
    tax_amount = amount_field(_("tax"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    key_terms = models.TextField(_("key terms"), blank=True)
    payment_terms = models.TextField(_("payment terms"), blank=True)
    renewal_notice_days = models.PositiveSmallIntegerField(
        _("renewal notice (days)"),
        default=RENEWAL_NOTICE_DAYS,
        help_text=_("The owner is reminded this many days before the end date."),
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
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    termination_reason = models.CharField(_("termination reason"), max_length=500, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["-start_date", "-id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="contract_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="contract_amount_not_negative"),
        ]
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["status", "end_date"], name="contract_status_end"),
            models.Index(fields=["account", "status"], name="contract_account_status"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.PENDING_APPROVAL)


@tracked
class ContractLine(models.Model):
    """A product under the contract; prices net of tax, tax added per line at the line's rate."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=2)
    unit_price = amount_field(_("unit price"))
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    tax_rate = models.DecimalField(_("tax rate %"), max_digits=5, decimal_places=2, default=Decimal("13"))
    net_amount = amount_field(_("net amount"))
    tax_amount = amount_field(_("tax"))
    line_total = amount_field(_("line total"))

    class Meta:
        ordering = ["contract", "position"]
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")
        constraints = [
            models.UniqueConstraint(fields=["contract", "position"], name="contract_line_position_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="contract_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.contract_id}#{self.position} {self.product_id} x {self.quantity}"


@tracked
class Signatory(models.Model):
    """Who signs for a side of the contract (ours or the customer's), and when they signed."""

    class Side(models.TextChoices):
        OURS = "ours", _("Our company")
        THEIRS = "theirs", _("Customer")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="signatories"
    )
    side = models.CharField(_("side"), max_length=6, choices=Side.choices)
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)

    class Meta:
        ordering = ["contract", "side", "id"]
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")
        constraints = [
            models.UniqueConstraint(fields=["contract", "side", "name"], name="signatory_once_per_side"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_side_display()})"
