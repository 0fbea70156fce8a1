"""Administering approval processes and delegations: the service layer the APIs and the admin call.

Saving a process with a changed definition writes a new version and makes it current; requests
already running keep the version they started with.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.permissions import is_access_admin, require_access_admin
from accounts.models import User
from crm.records.audit import acting_as
from crm.records.inputs import pk_of
from crm_platform.errors import NotFound, PermissionDenied
from workflows import definition as definitions
from workflows.models import ApprovalProcess, Delegation, ProcessVersion


def save_process(
    *, actor, key: str, object: str, name: str, definition, description: str = "", is_active=True, order=100
) -> ApprovalProcess:
    """Create the process `key`, or change it (a new version when the definition changed)."""
    require_access_admin(actor)
    errors = {}
    if not (name or "").strip():
        errors["name"] = [_("This is required.")]
    try:
        definition = definitions.checked(object, definition)
    except ValidationError as error:
        errors.update({f"definition.{k}" if k != "object" else k: v for k, v in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor):
        process = ApprovalProcess.objects.select_for_update().filter(key=key).first()
        if process is None:
            process = ApprovalProcess(key=key, object=object)
        elif process.object != object:
            raise ValidationError({"object": [_("A process keeps the object it was made for.")]})
        process.name, process.description, process.is_active, process.order = (
            name,
            description,
            is_active,
            order,
        )
        process.full_clean(exclude=["current"])
        process.save()
        current = process.current
        if current is None or current.definition != definition:
            number = (current.number if current else 0) + 1
            version = ProcessVersion.objects.create(
                process=process, number=number, definition=definition, created_by=actor
            )
            process.current = version
            process.save(update_fields=["current"])
        return process


def delegate(*, actor, user, to, starts_at, ends_at, process=None) -> Delegation:
    """Let `to` decide for `user` between two times (out of office); by the user or an administrator."""
    user = User.objects.filter(pk=pk_of(user)).first()
    if user is None:
        raise NotFound(_("User not found."))
    if user.pk != getattr(actor, "pk", None) and not is_access_admin(actor):
        raise PermissionDenied(_("Only the user or an administrator may delegate their approvals."))
    errors = {}
    target = User.objects.filter(pk=pk_of(to), is_active=True).first()
    if target is None:
        errors["to"] = [_("No active user has this id.")]
    elif target.pk == user.pk:
        errors["to"] = [_("Delegate to someone else.")]
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        errors["ends_at"] = [_("The end must come after the start.")]
    elif ends_at <= timezone.now():
        errors["ends_at"] = [_("This period is already over.")]
    found = None
    if process is not None:
        found = ApprovalProcess.objects.filter(pk=pk_of(process)).first()
        if found is None:
            errors["process"] = [_("No such approval process.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor):
        return Delegation.objects.create(
            user=user, delegate=target, process=found, starts_at=starts_at, ends_at=ends_at
        )
