from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord
from crm.records.money import amount_field, currency_field
from crm_platform.i18n import Labels


class Pipeline(models.Model):
    """An ordered set of sales stages. Every tenant starts with one default pipeline."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    labels = models.JSONField(_("labels"))
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self):
        return Labels(self.labels).current() or self.code


class Stage(models.Model):
    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    code = models.SlugField(_("code"), max_length=50)
    labels = models.JSONField(_("labels"))
    position = models.PositiveSmallIntegerField(_("position"))
    probability = models.PositiveSmallIntegerField(
        _("probability"), help_text=_("Win probability in percent, for the forecast.")
    )
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.OPEN)

    class Meta:
        ordering = ["pipeline", "position"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "code"], name="stage_code_unique_in_pipeline"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_max_100"
            ),
        ]

    def __str__(self):
        return Labels(self.labels).current() or self.code


@tracked
class Opportunity(StandardRecord):
    """A deal (商机) moving through a pipeline's stages."""

    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="opportunities"
    )
    name = models.CharField(_("name"), max_length=200)
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    amount = amount_field()
    currency = currency_field()
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")

    def __str__(self):
        return self.name
