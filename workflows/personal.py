"""A user's own approval housekeeping: their delegations (list, withdraw) and notifications
(list, unread first; mark read). Someone else's row is not found, as if it did not exist."""

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access.permissions import is_access_admin
from crm.records.audit import acting_as
from crm_platform.errors import NotFound
from workflows.models import Delegation, Notification


def delegations_of(user):
    """The delegations `user` gave (who decides for them, when), earliest first."""
    return Delegation.objects.filter(user=user).order_by("starts_at", "id")


def withdraw_delegation(*, actor, delegation) -> None:
    """Delete a delegation: the user who gave it, or an administrator."""
    with transaction.atomic(), acting_as(actor):
        found = _own(Delegation.objects.select_for_update(), actor, delegation, admin_too=True)
        if found is None:
            raise NotFound(_("Delegation not found."))
        found.delete()


def notifications_of(user):
    """`user`'s notifications, unread first, newest first within each; `unread` is annotated."""
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return Notification.objects.filter(user=user).annotate(unread=unread).order_by("-unread", "-id")


def mark_read(*, actor, notification) -> Notification:
    """Mark one of the actor's notifications read (again: nothing changes)."""
    found = _own(Notification.objects.all(), actor, notification)
    if found is None:
        raise NotFound(_("Notification not found."))
    if found.read_at is None:
        found.read_at = timezone.now()
        found.save(update_fields=["read_at"])
    return found


def _own(rows, actor, pk, *, admin_too: bool = False):
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
        return None
    if not (admin_too and is_access_admin(actor)):
        rows = rows.filter(user_id=getattr(actor, "pk", None))
    return rows.filter(pk=pk).first()
