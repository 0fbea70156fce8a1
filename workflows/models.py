"""Approval processes, their versions, and the requests running through them.

A process (per object) points at its current version; a version's definition is JSON checked by
workflows/definition.py and never changes once written, so a request keeps the version it started
with while admins edit the process. A request walks the version's steps; each visit of a step
creates one task per approver, and every event (submitted, approved, sent back, escalated...)
is a row of the request's history.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked


@tracked
class ApprovalProcess(models.Model):
    key = models.SlugField(_("key"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    object = models.CharField(_("object"), max_length=100, help_text=_("e.g. quotes.quote or custom.project"))
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # When several active processes of one object accept a record, the lowest order starts.
    order = models.PositiveIntegerField(_("order"), default=100)
    current = models.ForeignKey(
        "ProcessVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["object", "order", "id"]
        verbose_name = _("approval process")
        verbose_name_plural = _("approval processes")

    def __str__(self):
        return self.name


class ProcessVersion(models.Model):
    process = models.ForeignKey(ApprovalProcess, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["process", "number"]
        constraints = [models.UniqueConstraint(fields=["process", "number"], name="processversion_once")]

    def __str__(self):
        return f"{self.process} v{self.number}"

    @property
    def steps(self) -> list[dict]:
        return self.definition["steps"]


class ApprovalRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RECALLED = "recalled", _("Recalled")

    version = models.ForeignKey(ProcessVersion, on_delete=models.PROTECT, related_name="requests")
    object = models.CharField(max_length=100)
    record_id = models.BigIntegerField()
    title = models.CharField(_("title"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    step = models.PositiveSmallIntegerField(default=0, help_text="Index of the current step while pending.")
    visit = models.PositiveIntegerField(
        default=0, help_text="Counts step entries: a step sent back to is a new visit."
    )
    locks_record = models.BooleanField(default=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="approval_requests"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        constraints = [
            # One pending request per record: the record lock and the "already submitted" check.
            models.UniqueConstraint(
                fields=["object", "record_id"],
                condition=Q(status="pending"),
                name="approvalrequest_one_pending",
            )
        ]
        indexes = [
            models.Index(fields=["object", "record_id"], name="approvalrequest_record"),
            models.Index(fields=["submitted_by", "status"], name="approvalrequest_submitter"),
        ]

    def __str__(self):
        return self.title

    @property
    def definition(self) -> dict:
        return self.version.definition

    @property
    def current_step(self) -> dict:
        return self.version.steps[self.step]


class ApprovalTask(models.Model):
    """One approver's part in one visit of a step."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("No longer needed")
        ESCALATED = "escalated", _("Escalated")
        REASSIGNED = "reassigned", _("Reassigned")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="tasks")
    step = models.PositiveSmallIntegerField()
    visit = models.PositiveIntegerField()
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_tasks"
    )
    # Set when the task went to a delegate (out of office) or an escalation: for whom they act.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "visit", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "visit", "approver"],
                condition=Q(status="pending"),
                name="approvaltask_one_pending_per_approver",
            )
        ]
        indexes = [
            models.Index(fields=["approver", "status"], name="approvaltask_inbox"),
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="approvaltask_due"),
            models.Index(
                fields=["remind_at"],
                condition=Q(status="pending", reminded_at__isnull=True),
                name="approvaltask_remind",
            ),
        ]

    def __str__(self):
        return f"{self.request} · {self.approver}"


class ApprovalEvent(models.Model):
    """One line of a request's history. Nothing here is ever changed or deleted."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        STEP_STARTED = "step_started", _("Step started")
        STEP_SKIPPED = "step_skipped", _("Step skipped")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SENT_BACK = "sent_back", _("Sent back to an earlier step")
        STEP_APPROVED = "step_approved", _("Step approved")
        NO_APPROVER = "no_approver", _("No approver found")
        RECALLED = "recalled", _("Recalled")
        REASSIGNED = "reassigned", _("Reassigned")
        DELEGATED = "delegated", _("Delegated")
        REMINDED = "reminded", _("Reminder sent")
        ESCALATED = "escalated", _("Escalated")
        COMMENTED = "commented", _("Comment")
        LOCK_OVERRIDDEN = "lock_overridden", _("Changed while locked")
        FINISHED = "finished", _("Decided")
        ACTION_FAILED = "action_failed", _("Final action failed")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["request", "at", "id"]

    def __str__(self):
        return f"{self.request} · {self.kind}"


@tracked
class Delegation(models.Model):
    """Out of office: `delegate` decides for `user` between two times (optionally for one process)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations")
    delegate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    process = models.ForeignKey(
        ApprovalProcess, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "starts_at"]
        indexes = [models.Index(fields=["user", "ends_at"], name="delegation_current")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="delegation_ends_after"
            )
        ]

    def __str__(self):
        return f"{self.user} → {self.delegate}"


class Notification(models.Model):
    """An in-app notice to one user; also e-mailed once, after commit (workflows/notify.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.SlugField(max_length=40)
    request = models.ForeignKey(ApprovalRequest, null=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self):
        return self.subject
