"""Operations on the channel tree."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from access import ancestors
from channels.models import ChannelNode


@transaction.atomic
def add_channel_node(*, name: str, code: str, level: str, parent: ChannelNode | None = None) -> ChannelNode:
    """Create a node and materialise its path (the id is needed first, hence two writes). A node at
    a depth the tree did not have asks for that depth's ancestor indexes (access/ancestors.py)."""
    node = ChannelNode.objects.create(name=name, code=code, level=level, parent=parent, path="")
    node.path = f"{parent.path if parent else '/'}{node.pk}/"
    node.save(update_fields=["path"])
    ancestors.request([ancestors.depth_of(node.path)])
    return node


def move_channel_node(*, actor, node, new_parent: ChannelNode):
    """Put a dealer (and everything under it) under another parent. The subtree's paths change at
    once; its records follow, inline or in the background (the returned RescopeJob tells which)."""
    from access import rescope
    from access.permissions import require_access_admin
    from crm.records.audit import acting_as
    from crm.records.inputs import pk_of

    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        node = ChannelNode.objects.select_for_update().get(pk=pk_of(node))
        parent = ChannelNode.objects.filter(pk=pk_of(new_parent)).first()
        if parent is None:
            raise ValidationError({"parent": [_("Choose an existing channel node.")]})
        if parent.path.startswith(node.path):
            raise ValidationError({"parent": [_("A dealer cannot move under itself or its own dealers.")]})
        old, new = node.path, f"{parent.path}{node.pk}/"
        if old == new:
            raise ValidationError({"parent": [_("It is already there.")]})
        ChannelNode.objects.filter(path__startswith=old).update(
            path=Concat(Value(new), Substr("path", len(old) + 1))
        )
        ChannelNode.objects.filter(pk=node.pk).update(parent=parent)
        # The indexes follow the rewritten paths; a subtree moved deeper may reach a new depth.
        ancestors.request(ancestors.tree_depths(under=new))
        return rescope.start(
            actor=actor,
            column="channel_path",
            old_prefix=old,
            new_prefix=new,
            description=f"{node.name} → {parent.name}",
        )
