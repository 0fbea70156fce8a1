"""Who may do what: object and field permissions per role, sharing, and the tenant's scope settings.

The rules that read these rows live in access/permissions.py (object and field permissions) and
access/scope.py (which records). Every row here is audited: a change of access is a change of data.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from access.stamp import decides_access
from crm.records.audit import tracked


class Access(models.TextChoices):
    READ = "read", _("Read")
    EDIT = "edit", _("Read and edit")


class Action(models.TextChoices):
    CREATE = "create", _("Create")
    READ = "read", _("Read")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")


@decides_access
@tracked
class ObjectPermission(models.Model):
    """One role's rights on one object, overriding the shipped defaults (access/defaults.py).

    `fields` is None when the role may use every field. Otherwise it is an allow-list,
    {field: "read" | "edit"}: a field it does not name is hidden from the role.
    """

    role = models.ForeignKey("accounts.Role", on_delete=models.CASCADE, related_name="object_permissions")
    object = models.CharField(_("object"), max_length=100, help_text=_("e.g. customers.account"))
    can_create = models.BooleanField(_("create"), default=False)
    can_read = models.BooleanField(_("read"), default=False)
    can_update = models.BooleanField(_("update"), default=False)
    can_delete = models.BooleanField(_("delete"), default=False)
    can_export = models.BooleanField(_("export"), default=False)
    fields = models.JSONField(_("field access"), null=True, blank=True)

    class Meta:
        verbose_name = _("object permission")
        verbose_name_plural = _("object permissions")
        constraints = [models.UniqueConstraint(fields=["role", "object"], name="objectpermission_once")]

    def __str__(self):
        return f"{self.role} · {self.object}"


class Grantee(models.Model):
    """Whom a share or a sharing rule opens records to: a user, a role, an org unit or a channel
    node (with `include_below`, also everyone under it). Exactly one is set."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.ForeignKey(
        "accounts.Role", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel_node = models.ForeignKey(
        "channels.ChannelNode", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    include_below = models.BooleanField(_("include units or nodes below"), default=False)
    access = models.CharField(_("access"), max_length=4, choices=Access.choices, default=Access.READ)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    GRANTEES = ("user", "role", "org_unit", "channel_node")

    class Meta:
        abstract = True

    def clean(self):
        chosen = [name for name in self.GRANTEES if getattr(self, f"{name}_id") is not None]
        if self.include_below and not (self.org_unit_id or self.channel_node_id):
            raise ValidationError({"include_below": [_("Only a unit or a node has anything below it.")]})
        if len(chosen) != 1:
            raise ValidationError(
                {"grantee": [_("Choose exactly one user, role, org unit or channel node.")]}
            )


@decides_access
@tracked
class RecordShare(Grantee):
    """Manual sharing: one record opened to one grantee by someone who may edit it."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("record share")
        verbose_name_plural = _("record shares")
        indexes = [models.Index(fields=["content_type", "object_id"], name="recordshare_record")]

    def __str__(self):
        return f"{self.content_type.model} #{self.object_id} ({self.access})"


@decides_access
@tracked
class SharingRule(Grantee):
    """Criteria-based sharing: every record of `object` matching `criteria` (the filter language,
    metadata/filters) is opened to the grantee, now and as records change."""

    object = models.CharField(_("object"), max_length=100)
    name = models.CharField(_("name"), max_length=100)
    criteria = models.JSONField(_("criteria"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("sharing rule")
        verbose_name_plural = _("sharing rules")
        indexes = [models.Index(fields=["object", "is_active"], name="sharingrule_object")]

    def __str__(self):
        return self.name


@decides_access
@tracked
class ScopeSettings(models.Model):
    """The tenant's choices about the channel tree (one row)."""

    dealers_see_children = models.BooleanField(
        _("dealers see their child dealers' records"),
        default=True,
        help_text=_("Off: a dealer sees only records placed on its own node, not on the dealers below it."),
    )
    brand_sees_channel = models.BooleanField(
        _("brand staff see dealers' records"),
        default=True,
        help_text=_("Off: staff whose data level is 'all' see only records not placed on a dealer."),
    )

    class Meta:
        verbose_name = _("scope settings")
        verbose_name_plural = _("scope settings")

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "ScopeSettings":
        return cls.objects.order_by("pk").first() or cls()


class RescopeJob(models.Model):
    """Records re-placed after a tree changed: a dealer moved under another parent, a team moved.

    Small moves finish inside the request; large ones run in the background in batches, and this
    row shows how far they got.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    column = models.CharField(max_length=20)  # channel_path | org_path
    old_prefix = models.CharField(max_length=500)
    new_prefix = models.CharField(max_length=500)
    description = models.CharField(_("description"), max_length=300)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveBigIntegerField(_("records to move"), default=0)
    done = models.PositiveBigIntegerField(_("records moved"), default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("re-scoping job")
        verbose_name_plural = _("re-scoping jobs")

    def __str__(self):
        return self.description

    @property
    def progress(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)


class AccessState(models.Model):
    """One row: the access stamp (access/stamp.py), drawn by triggers, never by hand."""

    stamp = models.UUIDField(null=True)

    def __str__(self):
        return str(self.stamp)


@decides_access
class AncestorIndex(models.Model):
    """One depth of the channel tree whose ancestor indexes were requested, and when they were
    ready (access/ancestors.py). Marking a depth ready draws a new access stamp, so every
    process's principals learn that its dealers' subtrees may be written as the indexed equality."""

    depth = models.PositiveSmallIntegerField(unique=True)
    requested_at = models.DateTimeField(db_default=Now())
    built_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"depth {self.depth}: {'ready' if self.built_at else 'requested'}"
