"""Records of custom objects, handled exactly like standard records: the object permission and
data scope (access/scope.py), field permissions, validation of the custom values, the audit trail,
and events after commit.

Lookup fields hold record ids. A lookup may only be set to a record the acting user can see
(`lookup_errors`, called from metadata/values.py while a record is cleaned), and
`related_records` follows lookups backwards, within the reader's scope.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from access.models import RecordShare
from access.permissions import check_writable, require
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.services import ensure_placed_within_scope, validated
from crm_platform.errors import NotFound, PermissionDenied
from metadata import registry
from metadata.models import CustomRecord

EDITABLE = ("name", "custom")


def records_of(actor, object_key: str) -> QuerySet:
    """Every record of the custom object `object_key` that `actor` may see."""
    return _custom(object_key).queryset().visible_to(actor)


def get_record(actor, object_key: str, pk, *, for_update: bool = False) -> CustomRecord:
    """The record `pk` of `object_key` if `actor` may see it (with `for_update`: change it, the row
    locked). Missing, of another object and out of scope are one NotFound."""
    return _scoped(actor, _custom(object_key), pk, for_update=for_update)


def create_record(actor, object_key: str, name: str, *, custom=None, owner=None, channel_node=None):
    """A new record of a custom object, owned by `owner` (default: the actor) and placed on the
    owner's unit and node unless `channel_node` is given, which must be within the actor's scope."""
    info = _custom(object_key)
    require(actor, info.key, "create")
    with transaction.atomic(), acting_as(actor):
        record = CustomRecord(object=info.definition, name=name, custom=custom or {})
        record.place(owner=owner or actor, channel_node=channel_node)
        validated(record)  # custom values cleaned for the actor of acting_as: lookups in scope
        record.save()
        ensure_placed_within_scope(actor, record)
        publish(f"{info.key}.created", record, object=info.key)
        return record


def update_record(actor, record: CustomRecord, **changes) -> CustomRecord:
    """Change a record's name and custom values. `custom` is merged into the stored values: a
    field left out keeps its value, a field sent as null is cleared (metadata/values.py)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    info = _custom(registry.object_key_of(record))
    with transaction.atomic(), acting_as(actor):
        record = _scoped(actor, info, record.pk, for_update=True)
        check_writable(actor, info.key, changes)
        for name, value in changes.items():
            setattr(record, name, value)
        validated(record)  # custom values cleaned for the actor of acting_as: lookups in scope
        record.save()
        publish(f"{info.key}.updated", record, object=info.key, fields=sorted(changes))
        return record


def delete_record(actor, record: CustomRecord) -> None:
    """Delete a record and its manual shares. Lookups pointing at it keep the id and read as empty
    (like any lookup to a record the reader cannot see)."""
    info = _custom(registry.object_key_of(record))
    require(actor, info.key, "delete")
    with transaction.atomic(), acting_as(actor):
        record = _scoped(actor, info, record.pk, for_update=True)
        publish(f"{info.key}.deleted", record, object=info.key)
        shares = RecordShare.objects.filter(content_type=ContentType.objects.get_for_model(CustomRecord))
        shares.filter(object_id=record.pk).delete()
        record.delete()


def related_records(actor, record, field_name: str) -> QuerySet:
    """The records whose lookup `field_name` points at `record` (standard or custom), as far as
    `actor` may see them; `record` itself must be visible to them. `field_name` is
    "<object key>.<field>" ("custom.task.project"), or the bare name when only one lookup of
    that name points at the record's object."""
    key = registry.object_key_of(record)
    target = registry.describe(key)
    _scoped(actor, target, record.pk)
    definition = _reverse_lookup(target, field_name)
    source = registry.describe(definition.object_key, snap=target.snapshot)
    return source.queryset().visible_to(actor).filter(**{f"custom__{definition.name}": record.pk})


def lookup_errors(info: registry.ObjectInfo, values: dict, *, previous: dict, actor) -> dict:
    """{"custom.<name>": [message]} for each lookup in `values` naming a record that does not exist
    or that `actor` cannot see: one message for both, so a lookup reveals nothing. Only values
    that change are checked: a lookup set by someone who could see its target stays as it is."""
    errors = {}
    for definition in info.custom_fields:
        value = values.get(definition.name)
        if definition.type != "lookup" or value is None or value == previous.get(definition.name):
            continue
        problem = _lookup_problem(actor, info.snapshot, definition.options.get("target"), value)
        if problem:
            errors[f"custom.{definition.name}"] = [problem]
    return errors


# --- helpers ----------------------------------------------------------------------------------


def _custom(object_key: str) -> registry.ObjectInfo:
    """A known, active custom object (an inactive one is unknown: nobody works with its records)."""
    info = registry.describe(object_key)
    if not info.custom:
        raise registry.unknown_object(object_key)
    return info


def _scoped(actor, info: registry.ObjectInfo, pk, *, for_update: bool = False):
    records = info.queryset()
    queryset = records.editable_by(actor).select_for_update() if for_update else records.visible_to(actor)
    pk = _as_id(pk)
    found = queryset.filter(pk=pk).first() if pk is not None else None
    if found is not None:
        return found
    if for_update and pk is not None and records.visible_to(actor).filter(pk=pk).exists():
        raise PermissionDenied(_("You may not change this %(object)s.") % {"object": info.label()})
    raise NotFound(_("%(object)s not found.") % {"object": capfirst(info.label())})


def _lookup_problem(actor, snap, target: str | None, value) -> str | None:
    try:
        info = registry.describe(target or "", snap=snap)
    except ValidationError:
        return _("%(object)s not found.") % {"object": _("Record")}
    if info.queryset().visible_to(actor).filter(pk=value).exists():
        return None
    return _("%(object)s not found.") % {"object": capfirst(info.label())}


def _reverse_lookup(target: registry.ObjectInfo, field_name: str):
    matches = [
        definition
        for definitions in target.snapshot.fields.values()
        for definition in definitions
        if definition.type == "lookup"
        and definition.deleted_at is None
        and definition.options.get("target") == target.key
        and field_name in (definition.name, f"{definition.object_key}.{definition.name}")
    ]
    if len(matches) != 1:
        message = _("Name one lookup field pointing at this object (object.field if several share the name).")
        raise ValidationError({"field": [message]})
    return matches[0]


def _as_id(pk) -> int | None:
    try:
        number = int(getattr(pk, "pk", pk))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
