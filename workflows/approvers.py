"""Who decides a step: the users each approver rule of the step names, in order, once each.

Rules: named users; everyone with a role; the submitter's manager N levels up; the
administrators of the parent dealer (of the record's dealer, or of the submitter's when the
record is not placed on one); a user field of the record. Only active users count. Who stands in
for whom (out of office) is `delegate_of`.
"""

from django.db.models import Q

from accounts.models import User
from channels.models import ChannelMember, ChannelNode
from workflows.models import Delegation

DEALER_ADMIN_ROLE = "dealer_admin"
ADMIN_ROLE = "admin"


def resolve(step: dict, record, submitter) -> list[User]:
    found: dict[int, User] = {}
    for rule in step["approvers"]:
        for user in RULES[rule["type"]](rule, record, submitter):
            if user.is_active:
                found.setdefault(user.pk, user)
    return list(found.values())


def administrators() -> list[User]:
    """Where a step with no approver goes when its policy says "admin"."""
    return list(User.objects.filter(role__code=ADMIN_ROLE, is_active=True).order_by("pk"))


def delegate_of(user: User, process_id: int, at) -> User | None:
    """Who decides for `user` at `at`: their active delegate for this process (or all), if any.
    One hop only: a delegate's own delegation does not pass it on."""
    delegation = (
        Delegation.objects.filter(user=user, starts_at__lte=at, ends_at__gt=at, delegate__is_active=True)
        .filter(Q(process_id=process_id) | Q(process__isnull=True))
        .select_related("delegate")
        .order_by("process_id", "starts_at")  # one for this process first (NULLs sort last)
        .first()
    )
    return delegation.delegate if delegation else None


def delegators_of(user: User, at) -> list[int]:
    """The users `user` currently decides for."""
    return list(
        Delegation.objects.filter(delegate=user, starts_at__lte=at, ends_at__gt=at).values_list(
            "user_id", flat=True
        )
    )


def _named(rule, record, submitter):
    return User.objects.filter(pk=rule["user"])


def _role(rule, record, submitter):
    return User.objects.filter(role__code=rule["role"]).order_by("pk")


def _manager(rule, record, submitter):
    manager = submitter
    for _level in range(rule["level"]):
        manager = manager.manager if manager is not None and manager.manager_id else None
    return [manager] if manager is not None else []


def _dealer_admin(rule, record, submitter):
    node_id = getattr(record, "channel_node_id", None)
    if node_id is None and submitter is not None:
        node_id = ChannelMember.objects.filter(user=submitter).values_list("node_id", flat=True).first()
    parent_id = ChannelNode.objects.filter(pk=node_id).values_list("parent_id", flat=True).first()
    if parent_id is None:
        return []
    return User.objects.filter(channel_membership__node_id=parent_id, role__code=DEALER_ADMIN_ROLE).order_by(
        "pk"
    )


def _field(rule, record, submitter):
    path = rule["field"]
    if path.startswith("custom."):
        value = (record.custom or {}).get(path.removeprefix("custom."))
    else:
        value = getattr(record, f"{path}_id", None)
    return User.objects.filter(pk=value) if isinstance(value, int) else []


RULES = {"user": _named, "role": _role, "manager": _manager, "dealer_admin": _dealer_admin, "field": _field}
