from django.conf import settings
from django.core.validators import MaxValueValidator
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


@tracked
class Stage(models.Model):
    """A step of a pipeline with its win probability. Each pipeline has exactly one won and one lost
    stage; the open stages come in `position` order and form the funnel."""

    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    code = models.SlugField(_("code"), max_length=50)
    labels = models.JSONField(_("labels"))
    position = models.PositiveSmallIntegerField(_("position"))
    probability = models.PositiveSmallIntegerField(
        _("probability"),
        validators=[MaxValueValidator(100)],
        help_text=_("Win probability in percent, for the forecast."),
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
    close_date = models.DateField(_("close date"), null=True, blank=True)
    loss_reason = models.CharField(_("loss reason"), max_length=300, blank=True)
    probability_override = models.PositiveSmallIntegerField(
        _("probability override"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Win probability in percent for this deal, instead of its stage's."),
    )
    stage_entered_at = models.DateTimeField(_("in stage since"), null=True, blank=True)
    contacts = models.ManyToManyField(
        "customers.Contact", verbose_name=_("contacts"), blank=True, related_name="opportunities"
    )

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["expected_close_date"], name="opportunity_expected_close"),
        ]

    def __str__(self):
        return self.name

    @property
    def probability(self) -> int:
        """The win probability the forecast uses: 100 once won, 0 once lost, else override or stage."""
        if self.stage.outcome != Stage.Outcome.OPEN:
            return 100 if self.stage.outcome == Stage.Outcome.WON else 0
        return self.stage.probability if self.probability_override is None else self.probability_override


class OpportunityStageChange(models.Model):
    """One move of an opportunity between stages (the first row: where it started)."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from stage"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    days_in_previous_stage = models.PositiveIntegerField(_("days in previous stage"), null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["opportunity", "at"], name="stagechange_opportunity")]

    def __str__(self):
        return f"{self.opportunity_id}: {self.from_stage_id} -> {self.to_stage_id}"
