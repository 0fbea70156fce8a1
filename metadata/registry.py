"""The one registry of objects and fields: standard ones described from code, custom ones read
from the tenant's definitions. Views, filters, validation, APIs, import/export and approvals ask
here, so a custom field behaves like a standard one.

Definitions are loaded once per tenant and metadata version into a `Snapshot` kept in a bounded
per-process cache; `bump_version()` (called by every definition change, in its transaction) makes
every process load the new definitions on its next look-up.
"""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, cached_property

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from crm_platform.lru import BoundedCache
from metadata.fieldtypes import kind_of
from metadata.models import FieldDefinition, MetadataState, ObjectDefinition, ValidationRule

CUSTOM_PREFIX = "custom."
CACHED_SNAPSHOTS = 256
# Columns the engine keeps to itself: paths are copies of the trees, `custom` is the fields below.
HIDDEN_COLUMNS = frozenset({"custom", "org_path", "channel_path", "object"})


@dataclass(frozen=True)
class Field:
    """A field as every consumer sees it, standard or custom."""

    name: str  # the API name: "industry", or a custom field's name
    path: str  # the filter path: "industry", "custom.tier"
    type: str  # a FieldType value: text, number, select, lookup...
    label_en: str
    label_zh: str
    standard: bool
    required: bool = False
    unique: bool = False
    read_only: bool = False
    choices: tuple = ()
    target: str | None = None  # the object a lookup points to
    definition: FieldDefinition | None = None

    def label(self) -> str:
        return self.label_zh if translation.get_language() == "zh-hans" and self.label_zh else self.label_en


@dataclass
class Snapshot:
    """Every definition of one tenant at one metadata version. Read-only once built."""

    version: int
    objects: dict[str, ObjectDefinition]
    fields: dict[str, list[FieldDefinition]]  # object key -> definitions, deleted ones included
    rules: dict[str, list[ValidationRule]]
    compiled: dict = field(default_factory=dict)  # per-object artefacts (JSON Schema validators...)
    stamp: uuid.UUID | None = None  # the version's random stamp: what caches of derived artefacts key on


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    model: type[models.Model]
    label_en: str
    label_zh: str
    custom: bool
    definition: ObjectDefinition | None
    snapshot: Snapshot

    def label(self) -> str:
        return self.label_zh if translation.get_language() == "zh-hans" and self.label_zh else self.label_en

    @cached_property
    def custom_fields(self) -> list[FieldDefinition]:
        """Live custom fields, in their order."""
        return [f for f in self.snapshot.fields.get(self.key, []) if f.deleted_at is None]

    @cached_property
    def deleted_fields(self) -> list[FieldDefinition]:
        return [f for f in self.snapshot.fields.get(self.key, []) if f.deleted_at is not None]

    @cached_property
    def fields(self) -> list[Field]:
        standard = [] if self.custom else list(standard_fields(self.model))
        if self.custom:
            standard = [_name_field()]
        return standard + [custom_field(definition) for definition in self.custom_fields]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def rules(self) -> list[ValidationRule]:
        return [rule for rule in self.snapshot.rules.get(self.key, []) if rule.is_active]

    def queryset(self):
        """Every record of the object (scope is applied by the caller's `visible_to`)."""
        manager = self.model.objects
        return manager.filter(object=self.definition) if self.custom else manager.all()


# --- versions ---------------------------------------------------------------------------------


def current_version() -> tuple[int, uuid.UUID | None]:
    """(version, stamp) of the tenant's metadata."""
    # Every request asks, so without the ORM: building this query costs more than running it.
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        return cursor.fetchone() or (0, None)


_VERSION_SQL = f"SELECT version, stamp FROM {MetadataState._meta.db_table} ORDER BY id LIMIT 1"


def bump_version() -> int:
    """Invalidate every cached definition of this tenant (call inside the changing transaction)."""
    stamp = uuid.uuid4()
    pins = _pinned.get()
    if pins is not None:
        pins.pop(connection.schema_name, None)
    updated = MetadataState.objects.filter(pk=1).update(version=F("version") + 1, stamp=stamp)
    if not updated:
        MetadataState.objects.create(pk=1, version=2, stamp=stamp)
    return current_version()[0]


_cache = BoundedCache(CACHED_SNAPSHOTS)
# Snapshots pinned for the unit of work under way (a request): schema -> Snapshot.
_pinned: ContextVar[dict | None] = ContextVar("metadata_pinned", default=None)


@contextmanager
def pinned():
    """Within this block each tenant's snapshot is read once: a request sees one metadata version
    and pays one version query, however many fields and objects it looks up. A definition
    change inside the block (`bump_version`) unpins, so the change's own work sees it."""
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


def snapshot() -> Snapshot:
    """The current tenant's definitions at its current version."""
    pins = _pinned.get()
    if pins is not None and connection.schema_name in pins:
        return pins[connection.schema_name]
    loaded = _current_snapshot()
    if pins is not None:
        pins[connection.schema_name] = loaded
    return loaded


def _current_snapshot() -> Snapshot:
    version, stamp = current_version()
    key = (connection.schema_name, stamp)
    found = _cache.get(key)
    if found is None:
        found = _load(version, stamp)
        _cache.put(key, found)
    return found


def _load(version: int, stamp=None) -> Snapshot:
    fields: dict[str, list[FieldDefinition]] = {}
    for definition in FieldDefinition.objects.order_by("object_key", "position", "id"):
        fields.setdefault(definition.object_key, []).append(definition)
    rules: dict[str, list[ValidationRule]] = {}
    for rule in ValidationRule.objects.all():
        rules.setdefault(rule.object_key, []).append(rule)
    objects = {definition.key: definition for definition in ObjectDefinition.objects.all()}
    return Snapshot(version, objects, fields, rules, stamp=stamp)


# --- objects ----------------------------------------------------------------------------------


@cache
def standard_models() -> dict[str, type[models.Model]]:
    """Every standard object: concrete models with a `custom` JSON column, keyed "app.model".
    The audit trail's event models copy that column but are history, not objects."""
    from pghistory.models import Event

    found = {}
    for model in apps.get_models():
        if model._meta.label_lower == "metadata.customrecord" or issubclass(model, Event):
            continue
        try:
            column = model._meta.get_field("custom")
        except FieldDoesNotExist:
            continue
        if isinstance(column, models.JSONField):
            found[model._meta.label_lower] = model
    return found


def describe(key: str, *, snap: Snapshot | None = None) -> ObjectInfo:
    """The object `key` ("customers.account", "custom.project"); a field error on "object" if unknown."""
    snap = snap or snapshot()
    # One ObjectInfo per snapshot, so its fields are built once per metadata version, not per request.
    found = snap.compiled.get(("object", key))
    if found is None:
        found = snap.compiled[("object", key)] = _described(key, snap)
    return found


def _described(key: str, snap: Snapshot) -> ObjectInfo:
    if key.startswith(CUSTOM_PREFIX):
        definition = snap.objects.get(key)
        if definition is None or not definition.is_active:
            raise unknown_object(key)
        from metadata.models import CustomRecord

        return ObjectInfo(key, CustomRecord, definition.label_en, definition.label_zh, True, definition, snap)
    model = standard_models().get(key)
    if model is None:
        raise unknown_object(key)
    label_en, label_zh = _labels(model._meta.verbose_name)
    return ObjectInfo(key, model, label_en, label_zh, False, None, snap)


def objects() -> list[ObjectInfo]:
    snap = snapshot()
    keys = sorted(standard_models()) + sorted(k for k, d in snap.objects.items() if d.is_active)
    return [describe(key, snap=snap) for key in keys]


def object_key_of(record: models.Model) -> str:
    """The object a record belongs to: its model's key, or its custom object's."""
    if record._meta.label_lower == "metadata.customrecord":
        return CUSTOM_PREFIX + record.object.name
    return record._meta.label_lower


def unknown_object(key: str) -> ValidationError:
    return ValidationError({"object": [_("Unknown object %(key)s.") % {"key": key}]})


# --- fields -----------------------------------------------------------------------------------


# Custom objects describe only their name; their records still have an id to find them by.
ID_FIELD = Field("id", "id", "number", "ID", "ID", standard=True, read_only=True)


def custom_field(definition: FieldDefinition) -> Field:
    kind = kind_of(definition.type)
    return Field(
        name=definition.name,
        path=f"custom.{definition.name}",
        type=definition.type,
        label_en=definition.label_en,
        label_zh=definition.label_zh,
        standard=False,
        required=definition.required,
        unique=definition.unique,
        read_only=kind.computed,
        choices=tuple(kind.filter_choices(definition.options) or ()),
        target=definition.options.get("target") if definition.type == "lookup" else None,
        definition=definition,
    )


@cache
def standard_fields(model: type[models.Model]) -> tuple[Field, ...]:
    """The model's own columns a client may see, typed with the custom fields' type names. Built
    from code alone (the model and its translated labels), so once per process."""
    return tuple(_standard_fields(model))


def _standard_fields(model: type[models.Model]):
    for model_field in model._meta.concrete_fields:
        if model_field.name in HIDDEN_COLUMNS or model_field.name.endswith("_path"):
            continue
        type_name = _standard_type(model_field)
        if type_name is None:
            continue
        label_en, label_zh = _labels(model_field.verbose_name)
        target = None
        if model_field.is_relation:
            target = model_field.related_model._meta.label_lower
        yield Field(
            name=model_field.name,
            path=model_field.name,
            type=type_name,
            label_en=label_en,
            label_zh=label_zh,
            standard=True,
            required=not (model_field.blank or model_field.null or model_field.has_default()),
            unique=model_field.unique and not model_field.primary_key,
            read_only=not model_field.editable or model_field.primary_key,
            choices=tuple(value for value, _label in model_field.flatchoices) if model_field.choices else (),
            target=target,
        )


def _standard_type(model_field: models.Field) -> str | None:
    if model_field.is_relation:
        if model_field.many_to_one or model_field.one_to_one:
            user = model_field.related_model._meta.label == settings.AUTH_USER_MODEL
            return "user" if user else "lookup"
        return None
    if model_field.choices:
        return "select"
    # Order matters: subclasses first.
    for django_type, type_name in (
        (models.BooleanField, "boolean"),
        (models.DateTimeField, "datetime"),
        (models.DateField, "date"),
        (models.DecimalField, "decimal"),
        (models.FloatField, "decimal"),
        (models.AutoField, "number"),
        (models.BigAutoField, "number"),
        (models.IntegerField, "number"),
        (models.EmailField, "email"),
        (models.URLField, "url"),
        (models.TextField, "long_text"),
        (models.CharField, "text"),
    ):
        if isinstance(model_field, django_type):
            return type_name
    return None


def _name_field() -> Field:
    return Field("name", "name", "text", "Name", "名称", standard=True, required=True)


def _labels(text) -> tuple[str, str]:
    with translation.override("en"):
        english = str(text)
    with translation.override("zh-hans"):
        chinese = str(text)
    return english, chinese
