"""The plan's limit on saved views per object, refused with an error naming the limit."""

from django.db import connection
from django.utils.translation import gettext as _

from billing.plans import plan_of
from crm_platform.errors import LimitReached
from metadata.views.models import SavedView


def require_room_for_view(info) -> None:
    """Every view of the object counts, private ones included: each is a row the tenant keeps."""
    plan = plan_of(getattr(connection, "tenant", None))
    used = SavedView.objects.filter(object_key=info.key).count()
    if used >= plan.views_per_object:
        raise LimitReached(
            _("The %(plan)s plan allows %(limit)s saved views per object; %(object)s has %(used)s.")
            % {"plan": plan.name, "limit": plan.views_per_object, "object": info.label(), "used": used}
        )
