"""Scoped lookups of approval rows, for the APIs: a process, a request or a task as one user may
reach it, or one NotFound whether it is missing or not theirs (nothing tells the two apart).

Who sees a request: administrators; its submitter; anyone who holds, held or decided one of its
tasks, or stands in for someone who holds one now; and anyone who may see its record.
"""

import re

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access.permissions import is_access_admin
from crm_platform.errors import NotFound
from metadata import registry
from workflows.approvers import delegators_of
from workflows.models import ApprovalProcess, ApprovalRequest, ApprovalTask, ProcessVersion

KEY = re.compile(r"[-a-zA-Z0-9_]{1,60}")


def processes():
    """Every approval process, with its current version. Any signed-in user may read them: a
    submitter chooses one by key."""
    return ApprovalProcess.objects.select_related("current")


def get_process(key) -> ApprovalProcess:
    found = processes().filter(key=key).first() if is_key(key) else None
    if found is None:
        raise NotFound(_("No such approval process."))
    return found


def versions_of(process: ApprovalProcess):
    return ProcessVersion.objects.filter(process=process).order_by("number")


def get_request_for(actor, request_id) -> ApprovalRequest:
    """The request `request_id` if `actor` may see it; NotFound otherwise."""
    found = None
    if _is_id(request_id):
        found = ApprovalRequest.objects.select_related("version__process").filter(pk=request_id).first()
    if found is None or not may_see(actor, found):
        raise NotFound(_("Approval request not found."))
    return found


def get_task_for(actor, task_id) -> ApprovalTask:
    """The task `task_id` if `actor` may see its request; NotFound otherwise. Whether they may act
    on it is the engine's to decide."""
    found = None
    if _is_id(task_id):
        found = ApprovalTask.objects.select_related("request__version__process").filter(pk=task_id).first()
    if found is None or not may_see(actor, found.request):
        raise NotFound(_("Approval task not found."))
    return found


def may_see(actor, request: ApprovalRequest) -> bool:
    if involved(actor, request):
        return True
    try:
        info = registry.describe(request.object)
    except ValidationError:  # the object is gone (a deactivated custom object): only those involved
        return False
    return info.queryset().visible_to(actor).filter(pk=request.record_id).exists()


def involved(actor, request: ApprovalRequest) -> bool:
    """Whether the request involves `actor`: the system or an administrator, its submitter, one of
    its approvers (or for whom one acted), or who stands in for a current approver."""
    if actor is None or is_access_admin(actor):
        return True
    if request.submitted_by_id == actor.pk:
        return True
    mine = Q(approver_id=actor.pk) | Q(on_behalf_of_id=actor.pk) | Q(decided_by_id=actor.pk)
    standing_in_for = delegators_of(actor, timezone.now())
    if standing_in_for:
        mine |= Q(approver_id__in=standing_in_for, status=ApprovalTask.Status.PENDING)
    return request.tasks.filter(mine).exists()


def is_key(value) -> bool:
    """Could `value` be a process key (a slug, as the model keeps it)?"""
    return isinstance(value, str) and KEY.fullmatch(value) is not None


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
