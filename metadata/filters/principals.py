"""The principals a filter may name as a set: "my_team" and "my_subtree".

On a user reference they are the users of the acting user's org unit (or, for a dealer user, of
their channel node), and of that unit or node and everything below it; on an org unit or channel
node reference they are the unit or node itself, and it with everything below. Each is a subquery
on the materialised paths (an indexed prefix match), never a recursive query.
"""

from django.conf import settings

SET_VARIABLES = ("my_team", "my_subtree")
TARGETS = ("accounts.OrgUnit", "channels.ChannelNode")


def fits_set(target) -> bool:
    """Whether a set variable can stand for values of a reference to `target`."""
    return target is not None and (
        target._meta.label == settings.AUTH_USER_MODEL or target._meta.label in TARGETS
    )


def members(name: str, user, target):
    """A queryset of the ids `name` stands for on a reference to `target`; None when the acting user
    has no place to start from (no user, no unit, no node)."""
    from accounts.models import OrgUnit, User
    from channels.models import ChannelMember, ChannelNode

    if user is None or getattr(user, "pk", None) is None:
        return None
    below = name == "my_subtree"
    membership = ChannelMember.objects.filter(user_id=user.pk).select_related("node").first()
    if target._meta.label == "channels.ChannelNode" or (membership and target is not OrgUnit):
        node = membership.node if membership else None
        if node is None:
            return None
        nodes = (
            ChannelNode.objects.filter(path__startswith=node.path)
            if below
            else ChannelNode.objects.filter(pk=node.pk)
        )
        if target is ChannelNode:
            return nodes.values("pk")
        return ChannelMember.objects.filter(node__in=nodes).values("user_id")
    unit = OrgUnit.objects.filter(pk=getattr(user, "org_unit_id", None)).first()
    if unit is None:
        return None
    units = (
        OrgUnit.objects.filter(path__startswith=unit.path) if below else OrgUnit.objects.filter(pk=unit.pk)
    )
    if target is OrgUnit:
        return units.values("pk")
    return User.objects.filter(org_unit__in=units).values("pk")
