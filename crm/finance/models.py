from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord
from crm.records.money import amount_field, currency_field


def percent_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=5, decimal_places=2, **kwargs)


@tracked
class PaymentPlan(StandardRecord):
    """How an order is to be paid (分期回款): instalments whose amounts add up to the order total."""

    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="payment_plans"
    )
    order = models.OneToOneField(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_plan",
    )
    currency = currency_field()
    total = amount_field(_("total"))
    note = models.TextField(_("note"), blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")

    def __str__(self):
        return f"{self.order or self.pk} ({self.total} {self.currency})"


@tracked
class PaymentInstalment(models.Model):
    """One instalment (期) of a plan; `paid_amount` is what payments have allocated to it so far."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")

    plan = models.ForeignKey(
        PaymentPlan, verbose_name=_("payment plan"), on_delete=models.CASCADE, related_name="instalments"
    )
    sequence = models.PositiveSmallIntegerField(_("instalment"))
    due_date = models.DateField(_("due date"))
    amount = amount_field()
    percentage = percent_field(_("percentage"), default=Decimal("0"))
    paid_amount = amount_field(_("paid amount"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["plan", "sequence"]
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="instalment_sequence_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
            # Overpayment is refused by the service; the database refuses it too.
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0, paid_amount__lte=F("amount")),
                name="instalment_paid_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["due_date", "status"], name="instalment_due_status")]

    def __str__(self):
        return f"{self.plan_id}/{self.sequence} {self.due_date} {self.amount}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount


@tracked
class Payment(StandardRecord):
    """Money received from a customer (回款), allocated to the instalments of one plan."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        ALIPAY = "alipay", _("Alipay")
        WECHAT_PAY = "wechat_pay", _("WeChat Pay")
        ACCEPTANCE_BILL = "acceptance_bill", _("Acceptance bill")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        REVERSED = "reversed", _("Reversed")

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="payments"
    )
    plan = models.ForeignKey(
        PaymentPlan, verbose_name=_("payment plan"), on_delete=models.PROTECT, related_name="payments"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECORDED)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    paid_on = models.DateField(_("paid on"))
    amount = amount_field()
    currency = currency_field()
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    bank_account = models.CharField(_("receiving bank account"), max_length=100, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["-paid_on", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self):
        return self.number


@tracked
class PaymentAllocation(models.Model):
    """The part of a payment applied to one instalment."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.CASCADE, related_name="allocations"
    )
    instalment = models.ForeignKey(
        PaymentInstalment, verbose_name=_("instalment"), on_delete=models.PROTECT, related_name="allocations"
    )
    amount = amount_field()

    class Meta:
        ordering = ["payment", "instalment__sequence"]
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        constraints = [
            models.UniqueConstraint(fields=["payment", "instalment"], name="allocation_once_per_instalment"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self):
        return f"{self.payment_id} -> {self.instalment_id}: {self.amount}"


@tracked
class Invoice(StandardRecord):
    """A VAT invoice (增值税发票) issued against an order, optionally for one delivery.

    `amount` is net of tax (金额), `tax_amount` the VAT (税额), `total` both (价税合计), which is what
    counts against the order total.
    """

    class Kind(models.TextChoices):
        VAT_SPECIAL = "vat_special", _("VAT special invoice")
        VAT_NORMAL = "vat_normal", _("VAT normal invoice")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        VOID = "void", _("Void")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    number = models.CharField(_("invoice number"), max_length=40)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="invoices"
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="invoices"
    )
    delivery = models.ForeignKey(
        "orders.Delivery",
        verbose_name=_("delivery"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ISSUED)
    issue_date = models.DateField(_("issue date"))
    amount = amount_field()
    tax_amount = amount_field(_("tax"))
    total = amount_field(_("total"))
    currency = currency_field()
    void_reason = models.CharField(_("void reason"), max_length=300, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["-issue_date", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=Q(status="issued"), name="invoice_number_unique_when_issued"
            ),
            models.CheckConstraint(
                condition=Q(total=F("amount") + F("tax_amount")), name="invoice_total_adds_up"
            ),
        ]

    def __str__(self):
        return self.number


@tracked
class CreditProfile(models.Model):
    """An account's credit terms (信用额度): the limit and when overdue payments block new business."""

    class RiskClass(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    account = models.OneToOneField(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="credit_profile",
    )
    credit_limit = amount_field(
        _("credit limit"),
        null=True,
        blank=True,
        default=None,
        help_text=_("Empty: no limit; the overdue rules and the block still apply."),
    )
    currency = currency_field()
    risk_class = models.CharField(
        _("risk class"), max_length=8, choices=RiskClass.choices, default=RiskClass.MEDIUM
    )
    overdue_days_threshold = models.PositiveIntegerField(
        _("overdue days threshold"),
        null=True,
        blank=True,
        help_text=_("Block when the oldest overdue instalment is more days overdue than this."),
    )
    overdue_percent_threshold = percent_field(
        _("overdue percentage threshold"),
        null=True,
        blank=True,
        help_text=_("Block when more than this share of the open instalments is overdue."),
    )
    blocked = models.BooleanField(_("blocked"), default=False)
    block_reason = models.CharField(_("block reason"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("credit profile")
        verbose_name_plural = _("credit profiles")
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="credit_limit_not_negative"),
            models.CheckConstraint(
                condition=Q(overdue_percent_threshold__isnull=True)
                | Q(overdue_percent_threshold__gte=0, overdue_percent_threshold__lte=100),
                name="credit_overdue_percent_0_100",
            ),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.credit_limit} {self.currency}"


class CreditCheck(models.Model):
    """The credit log: every check (passed or blocked) and every release, with the figures behind it.

    Rows are only ever added, so the log itself is the audit trail; it is not @tracked.
    """

    class Stage(models.TextChoices):
        CONFIRMATION = "confirmation", _("Order confirmation")
        DELIVERY = "delivery", _("Delivery")
        MANUAL = "manual", _("Manual check")
        RELEASE = "release", _("Release")

    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        BLOCKED = "blocked", _("Blocked")
        RELEASED = "released", _("Released")

    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="credit_checks"
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="credit_checks",
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    currency = currency_field()
    exposure = amount_field(_("exposure"))
    additional_amount = amount_field(_("additional amount"))
    credit_limit = amount_field(_("credit limit"), null=True, blank=True)
    overdue_amount = amount_field(_("overdue amount"))
    oldest_overdue_days = models.PositiveIntegerField(_("oldest overdue days"), default=0)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = _("credit check")
        verbose_name_plural = _("credit checks")
        indexes = [models.Index(fields=["account", "checked_at"], name="credit_check_account_time")]

    def __str__(self):
        return f"{self.account_id} {self.stage} {self.result}"
