from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord


@tracked
class FollowUp(StandardRecord):
    """One contact with a customer (跟进记录): a call, a visit, a WeChat chat..., and what came of it.

    `next_follow_up_on` plans the next contact; it counts as done once a later follow-up on the same
    account is logged (`settled_by`), which also closes its reminders.
    """

    class Method(models.TextChoices):
        CALL = "call", _("Phone call")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        MEETING = "meeting", _("Meeting")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")
        NO_CONTACT = "no_contact", _("Could not reach")

    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    occurred_at = models.DateTimeField(_("time"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.NEUTRAL)
    result = models.CharField(_("result"), max_length=300, blank=True)
    details = models.TextField(_("details"), blank=True)
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    settled_by = models.ForeignKey(
        "self",
        verbose_name=_("followed up by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(StandardRecord.Meta):
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["account", "occurred_at"], name="followup_account_time"),
            # The due list and the reminder job read only pending next follow-ups.
            models.Index(
                fields=["owner", "next_follow_up_on"],
                name="followup_pending_next",
                condition=models.Q(next_follow_up_on__isnull=False, settled_by__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.get_method_display()} {self.account_id} {self.occurred_at:%Y-%m-%d}"


@tracked
class VisitPlan(StandardRecord):
    """A customer visit planned ahead (拜访计划); completing it logs the visit as a follow-up."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        MISSED = "missed", _("Missed")

    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="visit_plans"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visit_plans",
    )
    planned_at = models.DateTimeField(_("planned time"))
    purpose = models.CharField(_("purpose"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    follow_up = models.OneToOneField(
        FollowUp,
        verbose_name=_("follow-up"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visit_plan",
    )

    class Meta(StandardRecord.Meta):
        ordering = ["planned_at", "id"]
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(
                fields=["planned_at"],
                name="visitplan_planned",
                condition=models.Q(status="planned"),
            ),
        ]

    def __str__(self):
        return f"{self.purpose} ({self.planned_at:%Y-%m-%d})"
