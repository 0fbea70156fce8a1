"""Ready approval processes: quote price approval, contract approval, credit-hold release.

`install(actor, name, **settings)` saves one as an ordinary process (admins edit it like any
other afterwards). The domain modules ask for approval by publishing an event
("quote.approval_requested"...); once its transaction commits, the handler here submits the
record to the installed process, and the process's final actions hand the outcome back through
the object's hook (quote.price_approval...). Without an installed, active process nothing
starts, and the record waits for a manual decision as before.

The quote rule (a discount beyond the submitter's role limit, `Role.max_discount_percent`) is
decided by crm/quotes/approval.py before the event: the process decides who approves.
"""

import logging
from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from crm.records.events import Event, subscribe
from workflows import outcomes, services

logger = logging.getLogger(__name__)

QUOTE, CONTRACT, ORDER = "quotes.quote", "contracts.contract", "orders.order"


def _quote_price(*, director_above=Decimal("200000"), sla_hours=24) -> dict:
    return {
        "steps": [
            {
                "name": "Sales manager 销售经理",
                "approvers": [{"type": "manager", "level": 1}],
                "when_no_approver": "admin",
                "sla_hours": sla_hours,
                "remind_before_hours": sla_hours / 4,
                "on_overdue": "escalate",
            },
            {
                "name": "Sales director 销售总监",
                "criteria": {"field": "grand_total", "op": "gt", "value": str(director_above)},
                "approvers": [{"type": "manager", "level": 2}],
                "when_no_approver": "admin",
                "sla_hours": sla_hours,
                "on_overdue": "escalate",
            },
        ],
        "on_approve": [{"type": "hook", "name": "quote.price_approval"}],
        "on_reject": [{"type": "hook", "name": "quote.price_approval"}],
        "on_recall": [{"type": "hook", "name": "quote.price_approval"}],
    }


def _contract(
    *, finance_above=Decimal("100000"), legal_above=Decimal("500000"), legal_role="legal", sla_hours=48
):
    return {
        "steps": [
            {
                "name": "Sales manager 销售经理",
                "approvers": [{"type": "manager", "level": 1}],
                "when_no_approver": "admin",
                "sla_hours": sla_hours,
                "on_overdue": "escalate",
            },
            {
                "name": "Finance 财务",
                "criteria": {"field": "amount", "op": "gt", "value": str(finance_above)},
                "approvers": [{"type": "role", "role": "finance"}],
                "mode": "any",
                "when_no_approver": "admin",
                "sla_hours": sla_hours,
            },
            {
                "name": "Legal 法务",
                "criteria": {"field": "amount", "op": "gt", "value": str(legal_above)},
                "approvers": [{"type": "role", "role": legal_role}],
                "when_no_approver": "admin",
                "sla_hours": sla_hours,
            },
        ],
        "on_approve": [{"type": "hook", "name": "contract.approval"}],
        "on_reject": [{"type": "hook", "name": "contract.approval"}],
        "on_recall": [{"type": "hook", "name": "contract.approval"}],
    }


def _credit_release(*, sla_hours=8) -> dict:
    return {
        "steps": [
            {
                "name": "Finance 财务",
                "approvers": [{"type": "role", "role": "finance"}],
                "when_no_approver": "admin",
                "sla_hours": sla_hours,
                "on_overdue": "escalate",
            }
        ],
        "on_approve": [{"type": "hook", "name": "order.credit_release"}],
    }


TEMPLATES = {
    # name: (object, process key, title, definition builder, the event that starts it)
    "quote_price": (
        QUOTE,
        "quote_price",
        _("Quote price approval"),
        _quote_price,
        "quote.approval_requested",
    ),
    "contract": (CONTRACT, "contract", _("Contract approval"), _contract, "contract.approval_requested"),
    "credit_release": (
        ORDER,
        "credit_release",
        _("Credit hold release"),
        _credit_release,
        "order.credit_release_requested",
    ),
}
STARTED_BY = {event: (obj, key) for obj, key, _title, _build, event in TEMPLATES.values()}


def install(*, actor, name: str, **settings):
    """Save template `name` as the tenant's process (settings: thresholds, SLA hours, legal role).
    The contract template's legal role is created if the tenant has none yet."""
    object_key, key, title, build, _event = TEMPLATES[name]
    if name == "contract":
        _ensure_legal_role(actor, settings.get("legal_role", "legal"))
    return services.save_process(
        actor=actor, key=key, object=object_key, name=str(title), definition=build(**settings)
    )


@subscribe
def start_requested_approval(event: Event) -> None:
    """After a domain module asked for approval: submit the record to the installed process."""
    if event.name not in STARTED_BY:
        return
    from accounts.models import User
    from workflows import engine
    from workflows.models import ApprovalProcess

    object_key, key = STARTED_BY[event.name]
    with schema_context(event.schema):
        if not ApprovalProcess.objects.filter(key=key, object=object_key, is_active=True).exists():
            return
        submitter_id = event.data.get("submitted_by") or event.data.get("requested_by")
        submitter = User.objects.filter(pk=submitter_id).first() if submitter_id else None
        try:
            engine.submit(actor=submitter, object_key=object_key, record_id=event.pk, process=key)
        except Exception:
            logger.exception(
                "could not start approval %s for %s#%s in %s",
                key,
                object_key,
                event.pk,
                connection.schema_name,
            )


# --- the objects' outcomes -------------------------------------------------------------------


@outcomes.hook(QUOTE, "quote.price_approval")
def _quote_outcome(record, outcome: str, comment: str) -> None:
    from crm.quotes.approval import record_price_approval

    record_price_approval(actor=None, quote=record, approved=outcome == "approved", comment=comment)


@outcomes.hook(CONTRACT, "contract.approval")
def _contract_outcome(record, outcome: str, comment: str) -> None:
    from crm.contracts.services import record_contract_approval

    record_contract_approval(actor=None, contract=record, approved=outcome == "approved", comment=comment)


@outcomes.hook(ORDER, "order.credit_release")
def _credit_outcome(record, outcome: str, comment: str) -> None:
    from crm.finance.credit import release_credit_hold

    if outcome == "approved":
        release_credit_hold(actor=None, order=record, comment=comment or _("Released by approval."))


def _ensure_legal_role(actor, code: str) -> None:
    from access.permissions import require_access_admin
    from accounts.models import Role

    require_access_admin(actor)
    Role.objects.get_or_create(
        code=code, defaults={"labels": {"en": "Legal", "zh-hans": "法务"}, "data_level": Role.DataLevel.ALL}
    )
