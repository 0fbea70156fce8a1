"""Who reviews a deal registration: the dealer one level up, or the brand's sales staff.

The rule lives here and nowhere else; services ask `may_review` and refuse everyone else.
"""

from django.db.models import Q, QuerySet

from accounts.models import User
from channels.models import ChannelMember, ChannelNode

DEALER_REVIEWER_ROLE = "dealer_admin"
BRAND_REVIEWER_ROLES = frozenset({"sales_manager", "admin"})


def reviewers_of(registration) -> QuerySet[User]:
    """The users who may approve or reject `registration`.

    A dealer's registration goes to the dealer administrators of its parent node. When the parent is
    the brand (or there is none), the brand's own staff with a sales manager or admin role review:
    users outside the channel tree, or members of a brand-level node, never a portal role.
    """
    node = registration.channel_node
    parent = node.parent if node is not None else None
    active = User.objects.filter(is_active=True)
    if parent is None or parent.level == ChannelNode.Level.BRAND:
        brand_side = Q(channel_membership__isnull=True) | Q(
            channel_membership__node__level=ChannelNode.Level.BRAND
        )
        return active.filter(brand_side, role__code__in=BRAND_REVIEWER_ROLES, role__is_portal=False)
    return active.filter(role__code=DEALER_REVIEWER_ROLE, channel_membership__node=parent)


def may_review(user, registration) -> bool:
    return user is not None and reviewers_of(registration).filter(pk=user.pk).exists()


def node_of(user) -> ChannelNode | None:
    """The channel node `user` works for, or None for brand staff outside the tree."""
    if user is None or user.pk is None:
        return None
    membership = ChannelMember.objects.filter(user_id=user.pk).select_related("node").first()
    return membership.node if membership else None
