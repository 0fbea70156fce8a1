"""Conflicts of a deal registration: open opportunities and other dealers' live registrations for
the same customer (same account, or same normalised company name, credit code or phone).

Conflicts span the whole tenant, whoever submits: they are looked up as the system. What is stored
on the registration names each conflict for the reviewer.
"""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.customers.duplicates import find_duplicates
from crm.sales.models import Opportunity, Stage

SYSTEM = None  # the system sees every record of the tenant
# The registration field a block-mode error is reported on, by what matched.
FIELD_OF = {"account": "account", "name": "company_name", "credit_code": "credit_code", "phone": "phone"}
KEYS = (("name", "name_key"), ("credit_code", "credit_code"), ("phone", "phone"))


def find_conflicts(registration, today=None) -> list[dict]:
    """Every conflict of `registration` (saved or not), opportunities first, oldest first."""
    return _opportunity_conflicts(registration) + _registration_conflicts(registration, today)


def _opportunity_conflicts(registration) -> list[dict]:
    matched: dict[int, list[str]] = {}
    if registration.account_id:
        matched[registration.account_id] = ["account"]
    duplicates = find_duplicates(
        name_key=registration.name_key, phone=registration.phone, credit_code=registration.credit_code
    )
    for duplicate in duplicates:
        if duplicate.account.pk not in matched:
            matched[duplicate.account.pk] = [
                {"name_key": "name"}.get(field, field) for field in duplicate.matched_on
            ]
    if not matched:
        return []
    opportunities = (
        Opportunity.objects.visible_to(SYSTEM)
        .filter(account_id__in=list(matched), stage__outcome=Stage.Outcome.OPEN)
        .exclude(channel_node_id=registration.channel_node_id)
        .select_related("channel_node")
        .order_by("id")
    )
    return [
        {
            "kind": "opportunity",
            "id": opportunity.pk,
            "label": opportunity.name,
            "node": opportunity.channel_node.name if opportunity.channel_node else "",
            "matched_on": matched[opportunity.account_id],
        }
        for opportunity in opportunities
    ]


def _registration_conflicts(registration, today) -> list[dict]:
    from crm.dealers.models import DealRegistration

    today = today or timezone.localdate()
    same = Q(account_id=registration.account_id) if registration.account_id else Q(pk__in=[])
    for _name, column in KEYS:
        value = getattr(registration, column)
        if value:
            same |= Q(**{column: value})
    others = (
        DealRegistration.objects.visible_to(SYSTEM)
        .filter(same)
        .filter(status__in=LIVE, expires_on__gte=today)
        .exclude(channel_node_id=registration.channel_node_id)
        .select_related("channel_node")
        .order_by("submitted_at", "id")
    )
    if registration.pk:
        others = others.exclude(pk=registration.pk)
    conflicts = []
    for other in others:
        matched_on = (
            ["account"] if registration.account_id and other.account_id == registration.account_id else []
        )
        matched_on += [
            name
            for name, column in KEYS
            if getattr(registration, column) and getattr(other, column) == getattr(registration, column)
        ]
        conflicts.append(
            {
                "kind": "registration",
                "id": other.pk,
                "label": f"{other.number} {other.company_name}",
                "node": other.channel_node.name if other.channel_node else "",
                "status": other.status,
                "expires_on": other.expires_on.isoformat(),
                "matched_on": matched_on,
            }
        )
    return conflicts


LIVE = ("submitted", "approved")


def describe(conflict: dict) -> str:
    """One line for a person: what the registration collides with."""
    if conflict["kind"] == "opportunity":
        return _("An open opportunity exists for this customer: %(label)s (#%(id)d).") % conflict
    return _("Already registered by another dealer: %(label)s, protected until %(expires_on)s.") % conflict
