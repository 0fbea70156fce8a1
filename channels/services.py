"""Operations on the channel tree."""

from django.db import transaction

from channels.models import ChannelNode


@transaction.atomic
def add_channel_node(*, name: str, code: str, level: str, parent: ChannelNode | None = None) -> ChannelNode:
    """Create a node and materialise its path (the id is needed first, hence two writes)."""
    node = ChannelNode.objects.create(name=name, code=code, level=level, parent=parent, path="")
    node.path = f"{parent.path if parent else '/'}{node.pk}/"
    node.save(update_fields=["path"])
    return node
