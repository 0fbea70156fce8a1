"""Operations every domain app shares: scoped lookups, validation, numbering, reminders, files."""

from datetime import date, datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.records.models import Attachment, NumberSequence, Reminder
from crm_platform.errors import Conflict, NotFound, PermissionDenied

# Per-file cap for attachments; larger files belong in object storage.
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


def get_for(principal, model: type[models.Model], pk, *, for_update: bool = False):
    """The record `pk` if `principal` may see it; with `for_update`, if they may change it (the row
    locked). Missing and invisible are the same NotFound; visible but not theirs to change is
    PermissionDenied."""
    if for_update:
        queryset = model.objects.editable_by(principal).select_for_update()
    else:
        queryset = model.objects.visible_to(principal)
    try:
        return queryset.get(pk=pk)
    except (ValueError, TypeError):
        pass
    except model.DoesNotExist:
        if for_update and model.objects.visible_to(principal).filter(pk=pk).exists():
            raise PermissionDenied(
                _("You may not change this %(object)s.") % {"object": model._meta.verbose_name}
            ) from None
    raise NotFound(_("%(object)s not found.") % {"object": model._meta.verbose_name})


def ensure_placed_within_scope(principal, record: models.Model) -> None:
    """After saving a new or re-placed record: refuse (and so roll back) a record the actor could
    not see themselves, e.g. a dealer placing a customer on another dealer's node."""
    if not type(record).objects.visible_to(principal).filter(pk=record.pk).exists():
        raise PermissionDenied(_("You may not place records outside your own scope."))


def validated(instance: models.Model, *, exclude=None) -> models.Model:
    """Run the model's field and constraint validation, and for records the custom field values
    (metadata/values.py: normalised in place, computed fields filled); errors come back per field,
    all of them at once."""
    errors: dict[str, list] = {}
    try:
        instance.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as error:
        errors.update(error.message_dict)
    if _has_custom_fields(instance) and "custom" not in (exclude or ()):
        from metadata.values import clean_record

        try:
            clean_record(instance)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return instance


def _has_custom_fields(instance: models.Model) -> bool:
    from metadata.registry import standard_models

    label = instance._meta.label_lower
    return label == "metadata.customrecord" or label in standard_models()


def _period(reset: str, today: date) -> str:
    return {"never": "", "yearly": f"{today:%Y}", "monthly": f"{today:%Y%m}", "daily": f"{today:%Y%m%d}"}[
        reset
    ]


def configure_numbering(key: str, pattern: str, reset: str = NumberSequence.Reset.YEARLY) -> NumberSequence:
    """Create or change a sequence. The pattern is checked by formatting a sample number."""
    try:
        pattern.format(yyyy="2026", yy="26", mm="01", dd="01", seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationError(
            {"pattern": _("Unknown placeholder or format: %(error)s") % {"error": exc}}
        ) from exc
    sequence, _created = NumberSequence.objects.update_or_create(
        key=key, defaults={"pattern": pattern, "reset": reset}
    )
    return validated(sequence)


@transaction.atomic
def next_number(key: str, default_pattern: str, today: date | None = None) -> str:
    """The next number of sequence `key` (created with `default_pattern` on first use).

    The row lock serialises concurrent callers, and the number is taken inside the caller's
    transaction, so a rolled-back save does not burn a number.
    """
    today = today or timezone.localdate()
    NumberSequence.objects.get_or_create(key=key, defaults={"pattern": default_pattern})
    sequence = NumberSequence.objects.select_for_update().get(key=key)
    period = _period(sequence.reset, today)
    sequence.last_value = sequence.last_value + 1 if sequence.period == period else 1
    sequence.period = period
    sequence.save(update_fields=["last_value", "period"])
    return sequence.pattern.format(
        yyyy=f"{today:%Y}", yy=f"{today:%y}", mm=f"{today:%m}", dd=f"{today:%d}", seq=sequence.last_value
    )


def remind(user, kind: str, record: models.Model, message: str, due_at: datetime) -> Reminder:
    """Remind `user` once of `record` by `due_at`; calling again for the same reminder changes nothing."""
    reminder, _created = Reminder.objects.get_or_create(
        user=user,
        kind=kind,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        due_at=due_at,
        defaults={"message": message[:300]},
    )
    return reminder


def dismiss_reminders(records, kind: str | None = None, at: datetime | None = None) -> int:
    """Mark the open reminders of `records` (one model) done; returns how many."""
    records = list(records)
    if not records:
        return 0
    reminders = Reminder.objects.filter(
        content_type=ContentType.objects.get_for_model(records[0]),
        object_id__in=[record.pk for record in records],
        done_at__isnull=True,
    )
    if kind is not None:
        reminders = reminders.filter(kind=kind)
    return reminders.update(done_at=at or timezone.now())


def open_reminders(user, until: datetime | None = None):
    reminders = Reminder.objects.filter(user=user, done_at__isnull=True)
    if until is not None:
        reminders = reminders.filter(due_at__lte=until)
    return reminders


def attach(record: models.Model, uploaded_file, *, by=None) -> Attachment:
    """Store an uploaded file against `record`."""
    if uploaded_file.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {"file": _("Files may be at most %(mb)d MB.") % {"mb": MAX_ATTACHMENT_BYTES // 2**20}}
        )
    return Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        file=uploaded_file,
        name=uploaded_file.name[:255],
        size=uploaded_file.size,
        uploaded_by=by,
    )


def attachments_of(record: models.Model):
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    )


def delete_record(principal, model: type[models.Model], pk, *, object_key: str | None = None) -> None:
    """Delete a standard record `principal` may delete, publishing "<object>.deleted" after
    commit. A record others still point at (a contact with follow-ups, an account with
    contracts) is refused as a conflict, naming what holds it, and nothing is deleted."""
    from access.permissions import require
    from crm.records.audit import acting_as
    from crm.records.events import publish
    from tenants.services import require_writable

    require_writable()
    key = object_key or model._meta.label_lower
    require(principal, key, "delete")
    with transaction.atomic(), acting_as(principal):
        record = get_for(principal, model, pk, for_update=True)
        publish(f"{model._meta.model_name}.deleted", record)  # delivered only if the delete commits
        try:
            with transaction.atomic():
                record.delete()
        except models.ProtectedError as error:
            held_by = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
            raise Conflict(
                _("Other records still refer to this one: %(objects)s.") % {"objects": ", ".join(held_by)}
            ) from None
