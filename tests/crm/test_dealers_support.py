"""Builders shared by the dealer portal tests (no tests here). Call them inside a tenant context."""

import itertools
from datetime import date, timedelta

from accounts.models import Role, User
from channels.models import ChannelMember, ChannelNode
from channels.services import add_channel_node
from crm.customers.models import Account
from crm.dealers.models import DealerPolicy
from crm.dealers.registrations import submit_registration

_serial = itertools.count(1)
# Valid unified social credit codes (checksums verified by python-stdnum).
CREDIT_CODES = ["91330106MA27XK4B86", "91310115MA1K3YJ24P"]


def node(level: str, parent: ChannelNode | None = None) -> ChannelNode:
    serial = next(_serial)
    return add_channel_node(
        name=f"{level} {serial}", code=f"dealer-{level}-{serial}", level=level, parent=parent
    )


def user(role: str, at: ChannelNode | None = None) -> User:
    serial = next(_serial)
    person = User.objects.create(
        email=f"{role}.dealers{serial}@example.test",
        full_name=f"{role} {serial}",
        role=Role.objects.get(code=role),
    )
    if at is not None:
        ChannelMember.objects.create(user=person, node=at)
    return person


def tree():
    """brand -> agent -> (distributor -> retailer, distributor2), with a dealer admin and user each."""
    brand = node("brand")
    agent = node("agent", brand)
    distributor = node("distributor", agent)
    sibling = node("distributor", agent)
    retailer = node("retailer", distributor)
    return {
        "brand": brand,
        "agent": agent,
        "distributor": distributor,
        "sibling": sibling,
        "retailer": retailer,
        "agent_admin": user("dealer_admin", agent),
        "agent_user": user("dealer_user", agent),
        "distributor_admin": user("dealer_admin", distributor),
        "distributor_user": user("dealer_user", distributor),
        "sibling_admin": user("dealer_admin", sibling),
        "sibling_user": user("dealer_user", sibling),
        "retailer_admin": user("dealer_admin", retailer),
        "retailer_user": user("dealer_user", retailer),
    }


def account(name: str, channel_node=None, owner=None, **fields) -> Account:
    from crm.customers import normalize

    customer = Account(name=name, **fields)
    customer.name_key = normalize.company_key(name)
    customer.place(owner=owner, channel_node=channel_node)
    customer.save()
    return customer


def register(actor, company: str = "", **fields):
    fields.setdefault("expected_amount", "100000.00")
    fields.setdefault("expected_close_date", date.today() + timedelta(days=60))
    if "account" not in fields:
        fields.setdefault("company_name", company or f"宁波甬城装饰 {next(_serial)}")
    return submit_registration(actor=actor, **fields)


def policy(**fields) -> DealerPolicy:
    row = DealerPolicy.objects.first() or DealerPolicy()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def sale(actor, at: ChannelNode, total, ordered: date, paid=None, paid_on: date | None = None):
    """A confirmed order worth `total` on `at` with a one-instalment plan, and `paid` received."""
    from crm.finance.payments import record_payment, set_payment_plan
    from tests.crm import test_orders_support as orders

    customer = account(f"客户 {next(_serial)}", channel_node=at)
    order = orders.confirmed(actor, customer, total, order_date=ordered, channel_node=at)
    plan = set_payment_plan(
        actor=actor, order=order, instalments=[{"due_date": ordered + timedelta(days=30), "percentage": 100}]
    )
    payment = None
    if paid is not None:
        payment = record_payment(
            actor=actor, plan=plan, amount=paid, paid_on=paid_on or ordered, method="bank_transfer"
        )
    return order, payment
