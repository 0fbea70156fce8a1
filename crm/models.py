from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_platform.i18n import Labels


class Pipeline(models.Model):
    """An ordered set of sales stages. Every tenant starts with one default pipeline."""

    code = models.SlugField(max_length=50, unique=True)
    labels = models.JSONField()
    is_default = models.BooleanField(default=False)

    def __str__(self):
        return Labels(self.labels).current() or self.code


class Stage(models.Model):
    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    code = models.SlugField(max_length=50)
    labels = models.JSONField()
    position = models.PositiveSmallIntegerField()
    probability = models.PositiveSmallIntegerField(help_text="Win probability in percent, for the forecast.")
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OPEN)

    class Meta:
        ordering = ["pipeline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "code"], name="stage_code_unique_in_pipeline"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_max_100"
            ),
        ]

    def __str__(self):
        return Labels(self.labels).current() or self.code


class OwnedRecord(models.Model):
    """Columns every standard object carries: owner, channel node (with its path), custom fields."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    channel_node = models.ForeignKey(
        "channels.ChannelNode", null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Copied from channel_node.path so a dealer's scope is one indexed prefix match on this table.
    channel_path = models.CharField(max_length=500, default="", db_index=True)
    custom = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Account(OwnedRecord):
    """A customer profile (客户), kept centrally so it stays when a sales rep leaves."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.COMPANY)
    industry = models.CharField(max_length=100, blank=True)
    province = models.CharField(max_length=50, blank=True)
    city = models.CharField(max_length=50, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class Opportunity(OwnedRecord):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="opportunities")
    name = models.CharField(max_length=200)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="CNY")
    expected_close_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "opportunities"

    def __str__(self):
        return self.name
