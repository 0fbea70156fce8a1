"""What tenant admins configure: custom objects, custom fields, and the version that keys caches.

Definitions are rows in the tenant's schema; values live in JSONB (`custom` on every record), so
adding a field never runs DDL on a record table. Every change to a definition bumps
`MetadataState.version` in the same transaction, which invalidates every compiled schema, filter
resolver and API type built from the old definitions, in every process.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"


class MetadataState(models.Model):
    """One row: the tenant's metadata version, and a stamp drawn anew with every change. Caches
    key on the stamp: a version can repeat after a rolled-back change, a random stamp cannot."""

    version = models.PositiveBigIntegerField(default=1)
    stamp = models.UUIDField(default=uuid.uuid4)

    class Meta:
        verbose_name = _("metadata state")

    def __str__(self):
        return f"metadata v{self.version}"


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Number")
    DECIMAL = "decimal", _("Decimal")
    CURRENCY = "currency", _("Currency")
    PERCENT = "percent", _("Percent")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes/no")
    SELECT = "select", _("Single select")
    MULTI_SELECT = "multi_select", _("Multi select")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    URL = "url", _("URL")
    LOOKUP = "lookup", _("Lookup")
    USER = "user", _("User")
    FILE = "file", _("File")
    AUTO_NUMBER = "auto_number", _("Auto-number")
    FORMULA = "formula", _("Formula")
    ROLLUP = "rollup", _("Roll-up")


class IndexStatus(models.TextChoices):
    NONE = "none", _("No index")
    PENDING = "pending", _("Waiting to build")
    BUILDING = "building", _("Building")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    DROPPING = "dropping", _("Being removed")


@tracked
class ObjectDefinition(models.Model):
    """A custom object. Its records are `CustomRecord` rows; its key is "custom.<name>"."""

    name = models.CharField(_("API name"), max_length=63, unique=True)
    label_en = models.CharField(_("label (English)"), max_length=100)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    plural_en = models.CharField(_("plural label (English)"), max_length=100, blank=True)
    plural_zh = models.CharField(_("plural label (Chinese)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("custom object")
        verbose_name_plural = _("custom objects")

    def __str__(self):
        return self.label_en

    @property
    def key(self) -> str:
        return f"custom.{self.name}"


@tracked
class FieldDefinition(models.Model):
    """A custom field of a standard object ("customers.account") or a custom one ("custom.project").

    `options` holds what only some types use: choices, min/max, lengths, pattern, decimal places,
    currency, the lookup target, the formula or roll-up, the auto-number format. Deleting a field
    sets `deleted_at`: its values stay in the records until it is purged.
    """

    object_key = models.CharField(_("object"), max_length=100)
    name = models.CharField(_("API name"), max_length=63)
    type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    label_en = models.CharField(_("label (English)"), max_length=100)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    help_en = models.CharField(_("help text (English)"), max_length=500, blank=True)
    help_zh = models.CharField(_("help text (Chinese)"), max_length=500, blank=True)
    required = models.BooleanField(_("required"), default=False)
    unique = models.BooleanField(_("unique"), default=False)
    filterable = models.BooleanField(_("filterable (indexed)"), default=False)
    sortable = models.BooleanField(_("sortable (indexed)"), default=False)
    default = models.JSONField(_("default value"), null=True, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    index_status = models.CharField(max_length=10, choices=IndexStatus.choices, default=IndexStatus.NONE)
    index_error = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["object_key", "position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            models.UniqueConstraint(fields=["object_key", "name"], name="field_definition_unique_name"),
        ]
        indexes = [models.Index(fields=["object_key", "deleted_at"], name="field_definition_object")]

    def __str__(self):
        return f"{self.object_key}.{self.name}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


@tracked
class CustomRecord(StandardRecord):
    """A record of a custom object: owner, unit, node and paths like any record, its values in
    `custom`, so scope, filters, indexes and validation treat it as they treat a standard one."""

    object = models.ForeignKey(ObjectDefinition, on_delete=models.PROTECT, related_name="records")
    name = models.CharField(_("name"), max_length=200)

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("custom record")
        verbose_name_plural = _("custom records")
        indexes = [
            *StandardRecord.Meta.indexes,
            models.Index(fields=["object", "id"], name="custom_record_object"),
        ]

    def __str__(self):
        return self.name


@tracked
class ValidationRule(models.Model):
    """A rule across fields, in the formula language: the record is refused when `condition` is
    true, with `message` attached to `field` (or to the record as a whole)."""

    object_key = models.CharField(_("object"), max_length=100)
    name = models.CharField(_("API name"), max_length=63)
    condition = models.TextField(_("error condition"))
    message_en = models.CharField(_("message (English)"), max_length=300)
    message_zh = models.CharField(_("message (Chinese)"), max_length=300, blank=True)
    field = models.CharField(_("field shown with the error"), max_length=63, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["object_key", "name"]
        verbose_name = _("validation rule")
        verbose_name_plural = _("validation rules")
        constraints = [
            models.UniqueConstraint(fields=["object_key", "name"], name="validation_rule_unique_name"),
        ]

    def __str__(self):
        return f"{self.object_key}.{self.name}"


from metadata.transfer.models import ImportJob  # noqa: E402,F401
from metadata.views.models import SavedView  # noqa: E402,F401
