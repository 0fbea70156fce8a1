"""The saved view: one row per view of one object, its definition in JSON columns checked by
metadata/views/definition.py before every save."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from channels.models import ChannelNode
from crm.records.audit import tracked


class ViewKind(models.TextChoices):
    TABLE = "table", _("Table")
    KANBAN = "kanban", _("Kanban")
    CALENDAR = "calendar", _("Calendar")


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Only me")
    ROLE = "role", _("A role")
    TEAM = "team", _("An org unit and below")
    EVERYONE = "everyone", _("Every internal user")
    DEALER_LEVEL = "dealer_level", _("Dealers of one channel level")


@tracked
class SavedView(models.Model):
    """A named way to look at an object's records, private to its owner or shared.

    `is_default` makes the view the default of `role` for the object (visibility "role"): at most
    one per (object, role), enforced by a partial unique index.
    """

    object_key = models.CharField(_("object"), max_length=100)
    name = models.CharField(_("API name"), max_length=63)
    label_en = models.CharField(_("label (English)"), max_length=100)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ViewKind.choices, default=ViewKind.TABLE)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    filter = models.JSONField(_("filter"), null=True, blank=True)
    sort = models.JSONField(_("sort"), default=list, blank=True)
    group_by = models.CharField(_("group by"), max_length=200, blank=True)
    kanban_field = models.CharField(_("kanban field"), max_length=200, blank=True)
    calendar_field = models.CharField(_("calendar field"), max_length=200, blank=True)
    aggregates = models.JSONField(_("aggregates"), default=list, blank=True)
    visibility = models.CharField(
        _("visible to"), max_length=12, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    # Kept when the owner leaves: a shared view outlives its author; a private one then only
    # shows to administrators, who may delete it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    role = models.ForeignKey(
        "accounts.Role", verbose_name=_("role"), null=True, blank=True, on_delete=models.CASCADE
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), null=True, blank=True, on_delete=models.CASCADE
    )
    channel_level = models.CharField(
        _("channel level"), max_length=16, choices=ChannelNode.Level.choices, blank=True
    )
    is_default = models.BooleanField(_("default view of the role"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["object_key", "label_en", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(
                fields=["object_key", "role"],
                condition=models.Q(is_default=True),
                name="saved_view_one_default_per_role",
            ),
            models.CheckConstraint(
                condition=models.Q(is_default=False) | models.Q(visibility="role", role__isnull=False),
                name="saved_view_default_is_a_role_view",
            ),
        ]
        indexes = [models.Index(fields=["object_key", "visibility"], name="saved_view_object")]

    def __str__(self):
        return f"{self.object_key}: {self.label_en}"

    def label(self) -> str:
        from django.utils import translation

        return self.label_zh if translation.get_language() == "zh-hans" and self.label_zh else self.label_en
