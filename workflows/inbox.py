"""The approvals inbox: waiting for me (mine and those of people I stand in for), submitted by
me, decided by me, and the full history of one record's approvals (for whoever may see it)."""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from metadata import registry
from workflows.approvers import delegators_of
from workflows.models import ApprovalRequest, ApprovalTask


def waiting_for(user, now=None):
    """Pending tasks `user` may decide, oldest first."""
    approvers = [user.pk, *delegators_of(user, now or timezone.now())]
    return (
        ApprovalTask.objects.filter(approver_id__in=approvers, status=ApprovalTask.Status.PENDING)
        .select_related("request__version__process", "approver", "on_behalf_of")
        .order_by("created_at", "id")
    )


def submitted_by(user):
    return ApprovalRequest.objects.filter(submitted_by=user).select_related("version__process")


def decided_by(user):
    mine = ApprovalTask.objects.filter(request=OuterRef("pk"), decided_by=user)
    return ApprovalRequest.objects.filter(Exists(mine)).select_related("version__process")


def history(user, object_key: str, record_id):
    """Every request of the record with its events, if `user` may see the record (else none)."""
    info = registry.describe(object_key)
    if not info.queryset().visible_to(user).filter(pk=record_id).exists():
        return ApprovalRequest.objects.none()
    return (
        ApprovalRequest.objects.filter(object=info.key, record_id=record_id)
        .select_related("version__process", "submitted_by")
        .prefetch_related("events__actor", "tasks__approver")
    )
