"""Leads (线索) and their conversion into account, contact and opportunity."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.customers import normalize
from crm.customers.models import Account, Lead
from crm.customers.services import add_contact, create_account
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import ensure_placed_within_scope, get_for, validated
from crm_platform.errors import Conflict


def create_lead(
    *, actor, person: str, company: str = "", phone: str = "", email: str = "", source: str = ""
) -> Lead:
    with transaction.atomic(), acting_as(actor):
        lead = Lead(
            person=person,
            company=company,
            phone=normalize.phone(phone),
            email=normalize.email(email),
            source=source,
        )
        lead.place(owner=actor, channel_node=None)
        validated(lead)
        lead.save()
        ensure_placed_within_scope(actor, lead)
        publish("lead.created", lead)
        return lead


def convert_lead(*, actor, lead, account=None, opportunity_name: str = "", amount=None):
    """Turn a lead into a contact at a new account (duplicate-checked) or at `account`, and
    optionally an opportunity on the default pipeline's first stage, all or nothing."""
    from crm.sales.models import Opportunity, Pipeline

    with transaction.atomic(), acting_as(actor):
        lead = get_for(actor, Lead, pk_of(lead), for_update=True)
        if lead.status == Lead.Status.CONVERTED:
            raise Conflict(_("This lead was already converted."))
        if lead.status == Lead.Status.UNQUALIFIED:
            raise Conflict(_("An unqualified lead cannot be converted."))
        if account is not None:
            account = get_for(actor, Account, pk_of(account))
        else:
            if not lead.company:
                raise ValidationError({"company": _("A company name is needed to create the customer.")})
            account = create_account(
                actor=actor,
                owner=lead.owner or actor,
                channel_node=lead.channel_node,
                name=lead.company,
                phone=lead.phone,
                email=lead.email,
                source=lead.source,
            ).account
        contact = add_contact(
            actor=actor, account=account, name=lead.person, phone=lead.phone, email=lead.email
        )
        opportunity = None
        if opportunity_name:
            first_stage = Pipeline.objects.get(is_default=True).stages.order_by("position").first()
            opportunity = Opportunity(
                account=account, name=opportunity_name, stage=first_stage, amount=amount or 0
            )
            opportunity.place(owner=account.owner, channel_node=account.channel_node)
            validated(opportunity)
            opportunity.save()
        lead.status = Lead.Status.CONVERTED
        lead.account, lead.contact, lead.opportunity = account, contact, opportunity
        lead.converted_at = timezone.now()
        lead.save()
        publish("lead.converted", lead, account=account.pk)
        return lead
