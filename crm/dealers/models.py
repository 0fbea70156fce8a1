from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels.models import ChannelNode
from crm.records.audit import tracked
from crm.records.models import StandardRecord
from crm.records.money import amount_field, currency_field


class DealerPolicy(models.Model):
    """The tenant's rules for deal registrations (报备). One row per tenant; defaults until saved."""

    class ConflictMode(models.TextChoices):
        WARN = "warn", _("Warn the reviewer")
        BLOCK = "block", _("Refuse the registration")

    protection_days = models.PositiveIntegerField(
        _("protection period in days"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("A registration not converted within this many days expires."),
    )
    conflict_mode = models.CharField(
        _("on conflicts"), max_length=5, choices=ConflictMode.choices, default=ConflictMode.WARN
    )

    class Meta:
        verbose_name = _("deal registration policy")
        verbose_name_plural = _("deal registration policies")

    def __str__(self):
        return str(self._meta.verbose_name)


@tracked
class DealRegistration(StandardRecord):
    """A deal a dealer registers to have it protected (报备), placed on the registering user's node.

    The customer is an existing account or a prospect given by name, credit code and phone; the
    normalised keys are kept on the row either way, so conflicts are indexed equality matches.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CONVERTED = "converted", _("Converted")
        EXPIRED = "expired", _("Expired")

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deal_registrations",
    )
    company_name = models.CharField(_("company name"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    # Normalised company name (crm.customers.normalize.company_key) for conflict matching.
    name_key = models.CharField(max_length=200, editable=False, default="")
    products = models.ManyToManyField(
        "catalog.Product", verbose_name=_("products of interest"), blank=True, related_name="+"
    )
    expected_amount = amount_field(_("expected amount"))
    currency = currency_field()
    expected_close_date = models.DateField(_("expected close date"))
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    # What the registration collided with at submission (and at approval): shown to the reviewer.
    conflicts = models.JSONField(_("conflicts"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    expires_on = models.DateField(_("protected until"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deal_registrations",
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("deal registration")
        verbose_name_plural = _("deal registrations")
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["name_key"], name="dealreg_name_key", condition=~Q(name_key="")),
            models.Index(fields=["credit_code"], name="dealreg_credit_code", condition=~Q(credit_code="")),
            models.Index(fields=["phone"], name="dealreg_phone", condition=~Q(phone="")),
            models.Index(fields=["status", "expires_on"], name="dealreg_status_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(expected_amount__gte=0), name="dealreg_amount_not_negative")
        ]

    def __str__(self):
        return f"{self.number} {self.company_name}"

    @property
    def is_protecting(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.APPROVED)


class RebatePeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


@tracked
class RebatePolicy(models.Model):
    """A rebate (返利) on what a node's customers paid in a period, for a channel level or one node.

    `tiers` is a list of {"up_to": amount or null, "rate": percent} in ascending order; the rate of
    the tier the period's paid amount falls into applies to the whole amount (2 % up to 1,000,000,
    3 % above: 1,200,000 paid earns 36,000). A node's own policy wins over its level's.
    """

    name = models.CharField(_("name"), max_length=200)
    channel_level = models.CharField(
        _("channel level"), max_length=16, choices=ChannelNode.Level.choices, blank=True
    )
    channel_node = models.ForeignKey(
        "channels.ChannelNode",
        verbose_name=_("channel node"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    period = models.CharField(_("period"), max_length=8, choices=RebatePeriod.choices)
    tiers = models.JSONField(_("tiers"))
    currency = currency_field()
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("rebate policy")
        verbose_name_plural = _("rebate policies")
        constraints = [
            models.CheckConstraint(
                condition=(Q(channel_level="") & Q(channel_node__isnull=False))
                | (~Q(channel_level="") & Q(channel_node__isnull=True)),
                name="rebatepolicy_level_or_node",
            ),
            # One active policy per target, period and currency: which one applies is never a guess.
            models.UniqueConstraint(
                fields=["channel_level", "period", "currency"],
                condition=Q(is_active=True, channel_node__isnull=True),
                name="rebatepolicy_one_active_per_level",
            ),
            models.UniqueConstraint(
                fields=["channel_node", "period", "currency"],
                condition=Q(is_active=True, channel_node__isnull=False),
                name="rebatepolicy_one_active_per_node",
            ),
        ]

    def __str__(self):
        return self.name


@tracked
class RebateAccrual(StandardRecord):
    """One node's rebate for one period, placed on the node: recomputed while accrued, then frozen."""

    class Status(models.TextChoices):
        ACCRUED = "accrued", _("Accrued")
        CONFIRMED = "confirmed", _("Confirmed")
        PAID = "paid", _("Paid out")

    node = models.ForeignKey(
        "channels.ChannelNode", verbose_name=_("dealer"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("period"), max_length=8, help_text=_("2026-03, 2026-Q1 or 2026."))
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    policy = models.ForeignKey(
        RebatePolicy, verbose_name=_("rebate policy"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    base = amount_field(_("paid amount"))
    rate = models.DecimalField(_("rate %"), max_digits=7, decimal_places=4)
    amount = amount_field(_("rebate"))
    currency = currency_field()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACCRUED)
    computed_at = models.DateTimeField(_("computed at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid out at"), null=True, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["-period_start", "node__path"]
        verbose_name = _("rebate accrual")
        verbose_name_plural = _("rebate accruals")
        constraints = [
            models.UniqueConstraint(fields=["node", "period", "currency"], name="rebateaccrual_once"),
            models.CheckConstraint(
                condition=Q(base__gte=0, amount__gte=0), name="rebateaccrual_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.node_id} {self.period} {self.amount} {self.currency}"
