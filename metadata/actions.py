"""The named operations on a record beyond create, update and delete ("actions"): claim an
account from the pool, convert a lead, send a quote, confirm an order, register a payment...

Each action is one service call; this table gives the APIs its name, its arguments as a JSON
Schema (checked before the service runs, and published in the API documents) and the record it
answers with. REST (`POST /api/v1/records/<object>/<id>/<action>`) and GraphQL both run actions
from here, so an action added once appears in both.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker

from crm.contracts import services as contracts
from crm.customers import leads, pool
from crm.finance import payments
from crm.orders import services as orders
from crm.quotes import approval as quote_approval
from crm.quotes import services as quotes
from crm_platform.errors import NotFound
from metadata.values import value_message

TEXT = {"type": "string", "maxLength": 2000}
ID = {"type": "integer", "minimum": 1}
MONEY = {"type": ["string", "number"], "pattern": r"^-?\d+(\.\d+)?$"}
DATE = {"type": "string", "format": "date"}


@dataclass(frozen=True)
class Action:
    name: str
    summary: str
    run: Callable  # run(actor, record, **arguments) -> the record answered with
    arguments: dict = field(default_factory=dict)  # name -> JSON Schema
    required: tuple[str, ...] = ()

    def schema(self) -> dict:
        return {
            "type": "object",
            "properties": self.arguments,
            "required": list(self.required),
            "additionalProperties": False,
        }


def _decisions(record_decision: Callable, argument: str, what: str) -> dict[str, Action]:
    """ "approve" and "decline": one approval service, called with approved true or false."""

    def decide(approved: bool):
        def run(actor, record, comment=""):
            return record_decision(actor=actor, **{argument: record}, approved=approved, comment=comment)

        return run

    return {
        "approve": Action("approve", f"Approve {what}.", decide(True), {"comment": TEXT}),
        "decline": Action("decline", f"Refuse {what}.", decide(False), {"comment": TEXT}),
    }


ACTIONS: dict[str, dict[str, Action]] = {
    "customers.account": {
        "claim": Action(
            "claim",
            "Take an account from the customer pool.",
            lambda actor, record: pool.claim_from_pool(actor=actor, account=record),
        ),
        "release": Action(
            "release",
            "Give an account back to the customer pool.",
            lambda actor, record, reason="": pool.release_to_pool(actor=actor, account=record, reason=reason),
            {"reason": TEXT},
        ),
        "assign": Action(
            "assign",
            "Give an account to a user (managers, outside the claim caps).",
            lambda actor, record, owner, reason="": pool.assign(
                actor=actor, account=record, owner=owner, reason=reason
            ),
            {"owner": ID, "reason": TEXT},
            ("owner",),
        ),
    },
    "customers.lead": {
        "convert": Action(
            "convert",
            "Turn a lead into a contact at a new or existing account, optionally with a deal.",
            lambda actor, record, **arguments: leads.convert_lead(actor=actor, lead=record, **arguments),
            {"account": ID, "opportunity_name": TEXT, "amount": MONEY},
        ),
    },
    "quotes.quote": {
        "send": Action(
            "send", "Send the quote to the customer.", lambda a, r: quotes.send_quote(actor=a, quote=r)
        ),
        "accept": Action(
            "accept", "The customer accepted the quote.", lambda a, r: quotes.accept_quote(actor=a, quote=r)
        ),
        "reject": Action(
            "reject",
            "The customer turned the quote down.",
            lambda a, r, reason="": quotes.reject_quote(actor=a, quote=r, reason=reason),
            {"reason": TEXT},
        ),
        "submit": Action(
            "submit",
            "Ask for price approval.",
            lambda a, r: quote_approval.submit_for_price_approval(actor=a, quote=r),
        ),
        **_decisions(quote_approval.record_price_approval, "quote", "the quote's prices"),
    },
    "contracts.contract": {
        "submit": Action(
            "submit",
            "Ask for the contract's approval.",
            lambda a, r: contracts.submit_contract_for_approval(actor=a, contract=r),
        ),
        **_decisions(contracts.record_contract_approval, "contract", "the contract"),
        "activate": Action(
            "activate",
            "Put a signed contract in force.",
            lambda a, r: contracts.activate_contract(actor=a, contract=r),
        ),
        "terminate": Action(
            "terminate",
            "End an active contract early.",
            lambda a, r, reason, on=None: contracts.terminate_contract(
                actor=a, contract=r, reason=reason, on=on
            ),
            {"reason": TEXT, "on": DATE},
            ("reason",),
        ),
    },
    "orders.order": {
        "confirm": Action(
            "confirm",
            "Confirm the order (credit check).",
            lambda a, r: orders.confirm_order(actor=a, order=r),
        ),
        "cancel": Action(
            "cancel",
            "Cancel an order nothing was delivered, invoiced or paid for yet.",
            lambda a, r, reason="": orders.cancel_order(actor=a, order=r, reason=reason),
            {"reason": TEXT},
        ),
        "close": Action(
            "close", "Close a (partly) delivered order.", lambda a, r: orders.close_order(actor=a, order=r)
        ),
    },
    "finance.paymentplan": {
        "register_payment": Action(
            "register_payment",
            "Record money received against the plan; it is allocated to the instalments due.",
            lambda a, r, **arguments: payments.record_payment(actor=a, plan=r, **arguments),
            {
                "amount": MONEY,
                "paid_on": DATE,
                "method": {"type": "string", "maxLength": 20},
                "bank_account": {"type": "string", "maxLength": 100},
                "reference": {"type": "string", "maxLength": 100},
                "note": TEXT,
            },
            ("amount", "paid_on", "method"),
        ),
    },
}


def actions_of(object_key: str) -> dict[str, Action]:
    return ACTIONS.get(object_key, {})


def action(object_key: str, name: str) -> Action:
    """The action `name` of `object_key`; NotFound if the object has none of that name."""
    found = actions_of(object_key).get(name)
    if found is None:
        raise NotFound(_("This object has no action %(name)s.") % {"name": name})
    return found


def checked_arguments(found: Action, arguments) -> dict:
    """`arguments` (the request body) if they match the action's schema; field errors otherwise."""
    if arguments in (None, ""):
        arguments = {}
    if not isinstance(arguments, dict):
        raise ValidationError({"": [_("Send a JSON object.")]})
    errors: dict[str, list[str]] = {}
    for name in arguments.keys() - found.arguments.keys():
        errors[name] = [_("Unknown field.")]
    for name in found.required:
        if name not in arguments:
            errors[name] = [_("This field is required.")]
    for name, schema in found.arguments.items():
        if name in arguments:
            validator = Draft202012Validator(schema, format_checker=FormatChecker())
            problem = next(iter(validator.iter_errors(arguments[name])), None)
            if problem is not None:
                errors[name] = [value_message(problem)]
    if errors:
        raise ValidationError(errors)
    # Services take dates as dates; the schema has checked the ISO form.
    return {
        name: date.fromisoformat(value) if found.arguments[name].get("format") == "date" else value
        for name, value in arguments.items()
    }
