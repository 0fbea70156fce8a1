"""Finding and merging duplicate customer profiles.

Matching uses the normalised keys stored on the account (company name key, E.164 phone, lower-case
e-mail, credit code), each an indexed equality, so a check costs a few index probes.
"""

import json
from dataclasses import dataclass

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from crm.customers.models import Account, MergeRecord, PoolPolicy
from crm.records import audit
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import get_for
from crm_platform.errors import Conflict

MATCHED_ON = ("name_key", "phone", "email", "credit_code")


@dataclass(frozen=True)
class Duplicate:
    account: Account
    matched_on: list[str]


def find_duplicates(*, name_key="", phone="", email="", credit_code="", exclude_pk=None) -> list[Duplicate]:
    """Accounts sharing any non-empty key with the given values (for create, update and import)."""
    wanted = {"name_key": name_key, "phone": phone, "email": email, "credit_code": credit_code}
    condition = models.Q()
    for field, value in wanted.items():
        if value:
            condition |= models.Q(**{field: value})
    if not condition:
        return []
    found = Account.objects.filter(condition)
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return [
        Duplicate(account, [f for f in MATCHED_ON if wanted[f] and getattr(account, f) == wanted[f]])
        for account in found.order_by("id")[:20]
    ]


def check_duplicates(account: Account) -> list[Duplicate]:
    """Apply the tenant's policy: 'block' refuses with a field error naming the match, 'warn'
    returns the matches for the caller to show."""
    duplicates = find_duplicates(
        name_key=account.name_key,
        phone=account.phone,
        email=account.email,
        credit_code=account.credit_code,
        exclude_pk=account.pk,
    )
    policy = PoolPolicy.objects.first() or PoolPolicy()
    if duplicates and policy.duplicate_mode == PoolPolicy.DuplicateMode.BLOCK:
        first = duplicates[0]
        field = {"name_key": "name"}.get(first.matched_on[0], first.matched_on[0])
        message = _("Duplicate of the existing customer %(name)s (#%(id)d).") % {
            "name": first.account.name,
            "id": first.account.pk,
        }
        raise ValidationError({field: [ValidationError(message, code="duplicate")]})
    return duplicates


def _references_to_account():
    """Every (model, field) pointing at Account: all apps, present and future, found the same way."""
    for relation in Account._meta.related_objects:
        if relation.many_to_many or relation.related_model is MergeRecord:
            continue
        yield relation.related_model, relation.field.name


def _generic_references():
    """Models holding a generic (content type + id) reference: attachments, reminders..."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.private_fields:
            if isinstance(field, GenericForeignKey):
                yield model, field.ct_field, field.fk_field


def merge_accounts(*, actor, survivor, loser, take_from_loser: tuple[str, ...] = ()) -> Account:
    """Fold `loser` into `survivor`: every row that pointed at the loser points at the survivor,
    the loser's history is re-homed, the fields named in `take_from_loser` take its values, and a
    MergeRecord keeps the loser's last state. The loser is deleted."""
    with transaction.atomic(), acting_as(actor, merge=True):
        survivor = get_for(actor, Account, pk_of(survivor), for_update=True)
        loser = get_for(actor, Account, pk_of(loser), for_update=True)
        if survivor.pk == loser.pk:
            raise Conflict(_("An account cannot be merged into itself."))
        unknown = [f for f in take_from_loser if f not in {x.name for x in Account._meta.concrete_fields}]
        if unknown:
            raise ValidationError({"take_from_loser": _("Unknown fields: %(f)s") % {"f": ", ".join(unknown)}})
        snapshot = json.loads(DjangoJSONEncoder().encode(model_to_dict(loser)))
        moved = {}
        for model, field in _references_to_account():
            count = model._base_manager.filter(**{field: loser}).update(**{field: survivor})
            if count:
                moved[model._meta.label_lower] = moved.get(model._meta.label_lower, 0) + count
        account_type = ContentType.objects.get_for_model(Account)
        for model, ct_field, fk_field in _generic_references():
            count = model._base_manager.filter(**{ct_field: account_type, fk_field: loser.pk}).update(
                **{fk_field: survivor.pk}
            )
            if count:
                moved[model._meta.label_lower] = count
        for field in take_from_loser:
            setattr(survivor, field, getattr(loser, field))
        survivor.save()
        loser_pk = loser.pk
        # Re-home the history before the delete, so the loser's own "deleted" event stays its own.
        moved["history"] = audit.move_history(Account, loser_pk, survivor.pk)
        loser.delete()
        MergeRecord.objects.create(
            survivor=survivor, loser_id=loser_pk, loser_snapshot=snapshot, moved=moved, merged_by=actor
        )
        publish("account.merged", survivor, loser=loser_pk)
        return survivor
