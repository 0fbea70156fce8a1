from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


@tracked
class ServicePolicy(models.Model):
    """The tenant's service-level targets: hours from opening to resolution, per priority. One row."""

    low_hours = models.PositiveIntegerField(
        _("low priority: hours"), default=72, validators=[MinValueValidator(1)]
    )
    normal_hours = models.PositiveIntegerField(
        _("normal priority: hours"), default=24, validators=[MinValueValidator(1)]
    )
    high_hours = models.PositiveIntegerField(
        _("high priority: hours"), default=8, validators=[MinValueValidator(1)]
    )
    urgent_hours = models.PositiveIntegerField(
        _("urgent priority: hours"), default=4, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("service policy")
        verbose_name_plural = _("service policies")

    def __str__(self):
        return str(self._meta.verbose_name)

    def hours_for(self, priority: str) -> int:
        return getattr(self, f"{priority}_hours")


@tracked
class Case(StandardRecord):
    """A service case (服务工单): an inquiry, complaint, repair or return, worked to resolution against
    a due time set by its priority."""

    class Kind(models.TextChoices):
        INQUIRY = "inquiry", _("Inquiry")
        COMPLAINT = "complaint", _("Complaint")
        REPAIR = "repair", _("Repair")
        RETURN = "return", _("Return")
        INSTALLATION = "installation", _("Installation")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)

    number = models.CharField(_("number"), max_length=32, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="cases"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"))
    # When the SLA clock started: at opening, again at each reopening.
    sla_started_at = models.DateTimeField(_("SLA clock started"))
    sla_due_at = models.DateTimeField(_("due by"))
    sla_breached_at = models.DateTimeField(_("SLA breached at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("The customer's score from 1 (poor) to 5 (excellent), asked on closing."),
    )
    reopened_count = models.PositiveIntegerField(_("times reopened"), default=0)

    class Meta(StandardRecord.Meta):
        ordering = ["-opened_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["account", "opened_at"], name="case_account_opened"),
            # The breach job reads open, not yet flagged cases by due time.
            models.Index(
                fields=["sla_due_at"],
                name="case_sla_watch",
                # Equalities, not IN (...): a list renders differently once the schema is replayed
                # from a dump (tenants/provisioning/template.py compares the two).
                condition=models.Q(sla_breached_at__isnull=True)
                & (models.Q(status="new") | models.Q(status="in_progress") | models.Q(status="waiting")),
            ),
        ]

    @classmethod
    def held_by(cls, user_id):
        # The engineer working a case sees it, whoever owns the customer.
        return models.Q(owner_id=user_id) | models.Q(assignee_id=user_id)

    def __str__(self):
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES
