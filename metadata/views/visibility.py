"""Which saved views a user may see, as one condition on SavedView rows.

- private: the owner (an owner always sees their own views, shared or not);
- role: users with that role, dealers included (portal roles are roles too);
- team: users of that org unit or a unit below it (the unit is on the user's materialised path);
- everyone: every internal user, never a dealer: dealers see only what is meant for the portal;
- dealer_level: dealer users whose channel node is at that level;
- administrators (and the system) see every view.
"""

from django.db.models import Q

from access.permissions import is_access_admin
from access.principal import ancestors, principal_of
from channels.models import ChannelNode
from metadata.views.models import SavedView, Visibility

NOTHING = Q(pk__in=[])


def visible_views(user) -> Q:
    """The condition selecting the views `user` may see."""
    principal = principal_of(user)
    if principal is None or is_access_admin(user):
        return Q()
    if not principal.active:
        return NOTHING
    condition = Q(owner_id=principal.user_id)
    if principal.role_id:
        condition |= Q(visibility=Visibility.ROLE, role_id=principal.role_id)
    if principal.org_path:
        condition |= Q(visibility=Visibility.TEAM, org_unit_id__in=ancestors(principal.org_path))
    if principal.is_dealer:
        level = ChannelNode.objects.filter(pk=principal.node_id).values_list("level", flat=True).first()
        condition |= Q(visibility=Visibility.DEALER_LEVEL, channel_level=level)
    else:
        condition |= Q(visibility=Visibility.EVERYONE)
    return condition


def may_see(user, view: SavedView) -> bool:
    """Whether `user` may see `view`; a built-in (unsaved) view is everyone's."""
    return view.pk is None or SavedView.objects.filter(visible_views(user), pk=view.pk).exists()
