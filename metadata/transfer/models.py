"""An import running in the background: the file, its options, and how far it got."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One file imported by one user into one object. The file is kept in the row (imports are
    CSV text, bounded by the upload limit), so a redelivered task resumes from `processed`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    object_key = models.CharField(_("object"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(_("mode"), max_length=8, default="create")
    key = models.CharField(_("key field"), max_length=100, blank=True)
    content = models.TextField(_("file content"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows processed"), default=0)
    created = models.PositiveIntegerField(_("records created"), default=0)
    updated = models.PositiveIntegerField(_("records updated"), default=0)
    failed = models.PositiveIntegerField(_("rows failed"), default=0)
    errors = models.JSONField(_("errors"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self):
        return f"import {self.pk} into {self.object_key}"

    @property
    def progress(self) -> float:
        """The share of rows processed, 0.0 to 1.0."""
        return self.processed / self.total if self.total else 1.0
