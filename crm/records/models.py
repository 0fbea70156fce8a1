from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from access.scope import scope_filter


class RecordQuerySet(models.QuerySet):
    """The only doors to standard records for anyone acting as a user (access/scope.py)."""

    def visible_to(self, user):
        return self.filter(scope_filter(self.model, user))

    def editable_by(self, user):
        return self.filter(scope_filter(self.model, user, action="update"))


class SharedQuerySet(models.QuerySet):
    """The same doors for records every user of the tenant shares (the product catalogue): no
    owner or tree to scope by, so the object permission alone decides."""

    def visible_to(self, user):
        from access.permissions import can

        return self if can(user, self.model, "read") else self.none()

    def editable_by(self, user):
        from access.permissions import can

        return self if can(user, self.model, "update") else self.none()


class StandardRecord(models.Model):
    """Columns every standard object carries: owner, org unit, channel node, custom fields, times.

    `channel_path` and `org_path` copy the nodes' materialised paths so a scope check is an indexed
    prefix match on the record's own table. `custom` holds the tenant's custom fields (metadata).
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    org_path = models.CharField(max_length=500, default="", blank=True, editable=False)
    channel_node = models.ForeignKey(
        "channels.ChannelNode",
        verbose_name=_("channel node"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel_path = models.CharField(max_length=500, default="", blank=True, editable=False)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        abstract = True
        indexes = [
            models.Index(
                fields=["channel_path"],
                name="%(app_label)s_%(class)s_chan",
                opclasses=["text_pattern_ops"],
            ),
            models.Index(
                fields=["org_path"], name="%(app_label)s_%(class)s_org", opclasses=["text_pattern_ops"]
            ),
        ]

    def place(self, *, owner=None, org_unit=None, channel_node=None) -> None:
        """Set owner, unit and node together with the paths copied from them. Unit and node default
        to the owner's: a dealer's new record lands on the dealer's node."""
        self.owner = owner
        self.org_unit = org_unit or getattr(owner, "org_unit", None)
        self.org_path = self.org_unit.path if self.org_unit else ""
        self.channel_node = channel_node or _node_of(owner)
        self.channel_path = self.channel_node.path if self.channel_node else ""

    @classmethod
    def held_by(cls, user_id: int) -> models.Q:
        """The records `user_id` holds personally, which every data level lets them see."""
        return models.Q(owner_id=user_id)

    @classmethod
    def pool_condition(cls) -> models.Q | None:
        """Records of this object every user with read access may see though nobody owns them (the
        customer pool); None for most objects."""
        return None


def _node_of(user):
    if user is None or user.pk is None:
        return None
    from channels.models import ChannelMember

    membership = ChannelMember.objects.filter(user_id=user.pk).select_related("node").first()
    return membership.node if membership else None


class Attachment(models.Model):
    """A file attached to any record (contracts, follow-ups, cases...), stored per tenant."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_record")]

    def __str__(self):
        return self.name


class NumberSequence(models.Model):
    """Configurable auto-numbering, e.g. contracts `HT-{yyyy}{mm}-{seq:04d}`, reset each month."""

    class Reset(models.TextChoices):
        NEVER = "never", _("Never")
        YEARLY = "yearly", _("Every year")
        MONTHLY = "monthly", _("Every month")
        DAILY = "daily", _("Every day")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    pattern = models.CharField(
        _("pattern"),
        max_length=100,
        help_text=_("Placeholders: {yyyy} {yy} {mm} {dd} and {seq}, e.g. {seq:05d} for 00042."),
    )
    reset = models.CharField(_("reset"), max_length=8, choices=Reset.choices, default=Reset.YEARLY)
    period = models.CharField(max_length=8, default="", editable=False)
    last_value = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self):
        return self.key


class Reminder(models.Model):
    """Something a user should act on by a time: a due follow-up, a contract up for renewal...

    Background jobs create reminders idempotently (one per user, kind, record and due time), so a
    job that runs twice reminds once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.SlugField(_("kind"), max_length=50)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    message = models.CharField(_("message"), max_length=300)
    due_at = models.DateTimeField(_("due at"))
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "content_type", "object_id", "due_at"], name="reminder_once"
            )
        ]
        indexes = [models.Index(fields=["user", "done_at", "due_at"], name="reminder_inbox")]

    def __str__(self):
        return self.message
