"""Widening access on purpose: one record shared by hand, or every record matching a rule.

Both are rows (RecordShare, SharingRule) read by the scope filter (access/scope.py) and audited
like any record, so every access granted through sharing can be traced to who granted it and when.
"""

import logging

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from access.models import Access, RecordShare, SharingRule
from access.permissions import require_access_admin
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.models import StandardRecord
from crm.records.services import get_for, validated

logger = logging.getLogger(__name__)


def share_record(*, actor, record: StandardRecord, access: str = Access.READ, reason: str = "", **grantee):
    """Open one record to a user, role, org unit or channel node (`include_below=True` for
    everyone under the unit or node). Whoever may change the record may share it."""
    model = type(record)
    with transaction.atomic(), acting_as(actor, reason=reason):
        record = get_for(actor, model, pk_of(record), for_update=True)
        share = RecordShare(
            content_type=ContentType.objects.get_for_model(model),
            object_id=record.pk,
            access=access,
            reason=reason[:200],
            granted_by=actor,
            **grantee,
        )
        validated(share, exclude=["content_type", "granted_by"])
        share.save()
        publish("record.shared", record, share=share.pk, access=access)
        return share


def unshare(*, actor, share: RecordShare) -> None:
    with transaction.atomic(), acting_as(actor):
        share = RecordShare.objects.select_for_update().get(pk=pk_of(share))
        model = share.content_type.model_class()
        record = get_for(actor, model, share.object_id, for_update=True)
        share.delete()
        publish("record.unshared", record)


def shares_of(record: models.Model):
    return RecordShare.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
    ).select_related("user", "role", "org_unit", "channel_node", "granted_by")


def record_model(key: str):
    """The model holding the records of `key`: a standard object ("customers.account") or, for a
    custom one ("custom.project"), CustomRecord once the object is known and active; a field error
    otherwise."""
    if key.startswith("custom."):
        from metadata.registry import describe

        try:
            return describe(key).model
        except ValidationError:
            raise _unknown(key) from None
    try:
        model = apps.get_model(key)
    except (LookupError, ValueError):
        model = None
    if model is None or not issubclass(model, StandardRecord):
        raise _unknown(key)
    return model


def _unknown(key: str) -> ValidationError:
    return ValidationError({"object": [_("Unknown object %(key)s.") % {"key": key}]})


def create_sharing_rule(
    *, actor, object: str, name: str, criteria: dict, access: str = Access.READ, **grantee
) -> SharingRule:
    """Share every record of `object` matching `criteria` (the filter language) with a grantee."""
    from metadata.filters import validate_filter
    from metadata.resolver import resolver_for

    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        model = record_model(object)
        try:
            criteria = validate_filter(criteria, model, resolver=resolver_for(object))
        except ValidationError as error:
            raise ValidationError({"criteria": error.messages}) from None
        rule = SharingRule(
            object=object, name=name, criteria=criteria, access=access, granted_by=actor, **grantee
        )
        validated(rule, exclude=["granted_by"])
        rule.save()
        publish("sharing_rule.created", rule, object=object)
        return rule


def deactivate_sharing_rule(*, actor, rule: SharingRule) -> SharingRule:
    require_access_admin(actor)
    with transaction.atomic(), acting_as(actor):
        rule = SharingRule.objects.select_for_update().get(pk=pk_of(rule))
        rule.is_active = False
        rule.save(update_fields=["is_active"])
        publish("sharing_rule.deactivated", rule)
        return rule


def rule_condition(rule: SharingRule, model, user) -> models.Q:
    """The rule's criteria as a condition (on a custom object's records, within that object). A
    rule broken by a later metadata change opens nothing (and is logged) rather than failing every
    read of the object."""
    from metadata.filters import FilterContext, compile_filter
    from metadata.registry import describe
    from metadata.resolver import resolver_for

    try:
        info = describe(rule.object)
        condition = compile_filter(
            rule.criteria, model, context=FilterContext(user=user), resolver=resolver_for(rule.object)
        )
    except ValidationError:
        logger.warning("sharing rule %s (%s) no longer compiles; it grants nothing", rule.pk, rule.object)
        return models.Q(pk__in=[])
    return condition & models.Q(object_id=info.definition.pk) if info.custom else condition
