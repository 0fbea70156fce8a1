from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from access.stamp import decides_access
from crm.records.audit import tracked


@decides_access
class ChannelNode(models.Model):
    """One dealer (or the brand itself) in the channel tree.

    `path` is the materialised chain of ids from the root (`/1/4/9/`), so "this node and below"
    is an indexed prefix match instead of a recursive query.
    """

    class Level(models.TextChoices):
        BRAND = "brand", _("Brand")
        AGENT = "agent", _("Agent")
        DISTRIBUTOR = "distributor", _("Distributor")
        RETAILER = "retailer", _("Retailer")
        SUB_DEALER = "sub_dealer", _("Sub-dealer")

    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=50, unique=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=500, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="channelnode_path_prefix", opclasses=["text_pattern_ops"])
        ]

    def __str__(self):
        return self.name


@decides_access
@tracked
class ChannelMember(models.Model):
    """A dealer's user and the node they work for; they see that node's subtree at most.

    Kept here, not on the user, because the user table also lives in the public schema, where the
    channel tree does not exist.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_membership"
    )
    node = models.ForeignKey(ChannelNode, on_delete=models.PROTECT, related_name="members")

    def __str__(self):
        return f"{self.user} @ {self.node}"
