"""The record lock: a record with a pending request of a process that locks is not edited.

Checked where user edits enter (metadata/writers.py: the APIs, GraphQL, the importer), not on
every save: the record's own bookkeeping (last activity, rollups) goes on while it waits. An
administrator may override; the change is written into the request's history. The engine's own
final actions run `unlocked()`.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone
from django.utils.translation import gettext as _

from access.permissions import is_access_admin
from crm_platform.errors import ServiceError
from workflows.models import ApprovalEvent, ApprovalRequest

_bypass: ContextVar[bool] = ContextVar("approval_lock_bypass", default=False)


class RecordLocked(ServiceError):
    status = 409
    kind = "record-locked"
    title = _("Waiting for approval")


def pending_request(object_key: str, record_id) -> ApprovalRequest | None:
    return (
        ApprovalRequest.objects.filter(
            object=object_key, record_id=record_id, status=ApprovalRequest.Status.PENDING, locks_record=True
        )
        .select_related("version__process")
        .first()
    )


def ensure_editable(actor, object_key: str, record_id, *, override: bool = False, change: str = "") -> None:
    """Refuse a change to a locked record, unless an administrator overrides (recorded)."""
    if _bypass.get():
        return
    request = pending_request(object_key, record_id)
    if request is None:
        return
    if override and is_access_admin(actor):
        ApprovalEvent.objects.create(
            request=request,
            kind=ApprovalEvent.Kind.LOCK_OVERRIDDEN,
            step=request.step,
            actor=actor,
            data={"change": change},
            at=timezone.now(),
        )
        return
    raise RecordLocked(
        _(
            "This record is waiting for approval (%(process)s) and cannot be changed until it is "
            "decided or recalled."
        )
        % {"process": request.version.process.name}
    )


@contextmanager
def unlocked():
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)
