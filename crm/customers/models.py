from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord


@tracked
class Account(StandardRecord):
    """A customer profile (客户), kept centrally so it stays when a sales rep leaves.

    An account without an owner is in the customer pool (公海), free to be claimed.
    """

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    class Size(models.TextChoices):
        MICRO = "micro", _("1-9 employees")
        SMALL = "small", _("10-99 employees")
        MEDIUM = "medium", _("100-499 employees")
        LARGE = "large", _("500+ employees")

    class Source(models.TextChoices):
        REFERRAL = "referral", _("Referral")
        EXHIBITION = "exhibition", _("Exhibition")
        WEBSITE = "website", _("Website")
        COLD_CALL = "cold_call", _("Cold call")
        CHANNEL = "channel", _("Channel partner")
        OTHER = "other", _("Other")

    class ValueClass(models.TextChoices):
        A = "A", _("A: important")
        B = "B", _("B: ordinary")
        C = "C", _("C: potential")

    class Lifecycle(models.TextChoices):
        POTENTIAL = "potential", _("Potential")
        FIRST_PURCHASE = "first_purchase", _("First purchase")
        REPEAT = "repeat", _("Repeat purchase")
        LOYAL = "loyal", _("Loyal")
        CHURNED = "churned", _("Churned")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.COMPANY)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    value_class = models.CharField(
        _("value class"), max_length=1, choices=ValueClass.choices, default=ValueClass.C
    )
    value_class_overridden = models.BooleanField(_("value class set by hand"), default=False)
    lifecycle = models.CharField(
        _("lifecycle stage"), max_length=16, choices=Lifecycle.choices, default=Lifecycle.POTENTIAL
    )
    lifecycle_overridden = models.BooleanField(_("lifecycle stage set by hand"), default=False)
    # Normalised company name (no spaces, half-width, legal suffix dropped): duplicate matching.
    name_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    # Denormalised for the pool's return rules: one indexed comparison per account.
    last_activity_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    last_deal_at = models.DateTimeField(_("last deal"), null=True, blank=True)
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["phone"], name="account_phone", condition=~models.Q(phone="")),
            models.Index(fields=["email"], name="account_email", condition=~models.Q(email="")),
            models.Index(
                fields=["credit_code"], name="account_credit_code", condition=~models.Q(credit_code="")
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None

    @classmethod
    def pool_condition(cls):
        # The pool is shared: whoever may read accounts may see, and claim, the unowned ones.
        return models.Q(owner__isnull=True)


@tracked
class Contact(StandardRecord):
    """A person at a customer."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    @classmethod
    def pool_condition(cls):
        # A pooled account's contacts are unowned too and go with it.
        return models.Q(owner__isnull=True)

    def __str__(self):
        return self.name


class PoolPolicy(models.Model):
    """The tenant's rules for the customer pool (公海) and duplicates. One row per tenant."""

    class DuplicateMode(models.TextChoices):
        WARN = "warn", _("Warn")
        BLOCK = "block", _("Block")

    daily_claim_cap = models.PositiveIntegerField(_("claims per rep per day"), default=20)
    holding_cap = models.PositiveIntegerField(_("accounts a rep may hold"), default=200)
    return_without_follow_up_days = models.PositiveIntegerField(
        _("return after days without a follow-up"), default=30
    )
    return_without_deal_days = models.PositiveIntegerField(_("return after days without a deal"), default=90)
    cooldown_days = models.PositiveIntegerField(_("days before a rep may reclaim"), default=7)
    warn_days_before_return = models.PositiveIntegerField(_("warn days before a return"), default=3)
    duplicate_mode = models.CharField(
        _("on duplicates"), max_length=5, choices=DuplicateMode.choices, default=DuplicateMode.WARN
    )

    class Meta:
        verbose_name = _("customer pool policy")
        verbose_name_plural = _("customer pool policies")

    def __str__(self):
        return str(self._meta.verbose_name)


class PoolEvent(models.Model):
    """Every movement of an account into, out of or within ownership."""

    class Action(models.TextChoices):
        CLAIM = "claim", _("Claimed from the pool")
        RELEASE = "release", _("Released to the pool")
        RETURN = "return", _("Returned to the pool automatically")
        ASSIGN = "assign", _("Assigned")
        TRANSFER = "transfer", _("Transferred")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="pool_events")
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The rep who gained or lost the account.",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("pool event")
        verbose_name_plural = _("pool events")
        indexes = [models.Index(fields=["user", "action", "at"], name="poolevent_user_action")]

    def __str__(self):
        return f"{self.action} {self.account_id}"


class MergeRecord(models.Model):
    """What a merge removed: the loser's last state, kept with who merged it into which survivor."""

    survivor = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="merges")
    loser_id = models.BigIntegerField()
    loser_snapshot = models.JSONField()
    moved = models.JSONField(help_text="Rows moved per related model.")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("merge record")
        verbose_name_plural = _("merge records")

    def __str__(self):
        return f"{self.loser_id} -> {self.survivor_id}"


@tracked
class Lead(StandardRecord):
    """A prospect not yet qualified (线索); conversion turns it into account, contact and deal."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        WORKING = "working", _("Working")
        QUALIFIED = "qualified", _("Qualified")
        UNQUALIFIED = "unqualified", _("Unqualified")
        CONVERTED = "converted", _("Converted")

    company = models.CharField(_("company"), max_length=200, blank=True)
    person = models.CharField(_("contact person"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    source = models.CharField(_("source"), max_length=12, choices=Account.Source.choices, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("converted to account"),
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("converted to contact"),
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("converted to opportunity"),
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")

    def __str__(self):
        return self.person
