"""The plans a tenant can be on and what each allows. Stripe prices attach to these codes; the
limits are enforced in the service layer (metadata/limits.py for the metadata engine); the API
rate limit by middleware (api/limits.py)."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    custom_fields_per_object: int
    custom_objects: int
    views_per_object: int
    validation_rules_per_object: int
    # Requests per minute to /api/ and /graphql, shared by all of a tenant's callers (api/limits.py).
    # Defaulted so a plan written without it (a test's stand-in plan) gets the standard budget.
    api_requests_per_minute: int = 1200


PLANS = {
    plan.code: plan
    for plan in (
        Plan("free", _("Free"), 50, 3, 20, 10, 120),
        Plan("standard", _("Standard"), 300, 30, 200, 50, 1200),
        Plan("enterprise", _("Enterprise"), 800, 300, 1000, 200, 6000),
    )
}
DEFAULT_PLAN = "standard"


def plan_of(tenant) -> Plan:
    """The tenant's plan; an unknown code (a plan since retired) falls back to the default."""
    return PLANS.get(getattr(tenant, "plan", None) or DEFAULT_PLAN, PLANS[DEFAULT_PLAN])
