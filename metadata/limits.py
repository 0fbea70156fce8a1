"""Plan limits on the metadata a tenant may define, refused with a clear error naming the limit."""

from django.db import connection
from django.utils.translation import gettext as _

from billing.plans import plan_of
from crm_platform.errors import LimitReached
from metadata.models import ObjectDefinition


def _plan():
    return plan_of(getattr(connection, "tenant", None))


def require_room_for_field(info) -> None:
    """Deleted fields count until purged: their values still sit in the records."""
    plan = _plan()
    used = len(info.custom_fields) + len(info.deleted_fields)
    if used >= plan.custom_fields_per_object:
        raise LimitReached(
            _("The %(plan)s plan allows %(limit)s custom fields per object; %(object)s has %(used)s.")
            % {
                "plan": plan.name,
                "limit": plan.custom_fields_per_object,
                "object": info.label(),
                "used": used,
            }
        )


def require_room_for_object() -> None:
    plan = _plan()
    used = ObjectDefinition.objects.count()
    if used >= plan.custom_objects:
        raise LimitReached(
            _("The %(plan)s plan allows %(limit)s custom objects; you have %(used)s.")
            % {"plan": plan.name, "limit": plan.custom_objects, "used": used}
        )


def require_room_for_rule(info, used: int) -> None:
    plan = _plan()
    if used >= plan.validation_rules_per_object:
        raise LimitReached(
            _("The %(plan)s plan allows %(limit)s validation rules per object.")
            % {"plan": plan.name, "limit": plan.validation_rules_per_object}
        )


def require_room_for_view(info) -> None:
    """Every view of the object counts, private ones included: each is a row the tenant keeps."""
    from metadata.views.models import SavedView

    plan = _plan()
    used = SavedView.objects.filter(object_key=info.key).count()
    if used >= plan.views_per_object:
        raise LimitReached(
            _("The %(plan)s plan allows %(limit)s saved views per object; %(object)s has %(used)s.")
            % {"plan": plan.name, "limit": plan.views_per_object, "object": info.label(), "used": used}
        )
