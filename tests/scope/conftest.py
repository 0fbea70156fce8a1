"""A channel world for the isolation tests of every door: brand → agent A → retailer A1 and
brand → agent B → retailer B1, a dealer administrator on each dealer, and records of several
objects (accounts, contacts, opportunities, orders and a custom object) on every node, at the
brand's headquarters (no node) and held by a dealer on a node of its own or another dealer's.

`ChannelWorld.sees` says who should see what: the oracle is written from the scope
rules (access/scope.py's docstring), not from its code.
"""

import dataclasses
from dataclasses import dataclass, field

import pytest
from django_tenants.utils import tenant_context

from access import services as access
from access.principal import forget
from accounts.models import Role, User
from api import tokens
from billing import plans
from channels.models import ChannelMember, ChannelNode
from channels.services import add_channel_node
from crm.customers import services as customers
from crm.customers.models import Account, Contact
from crm.orders.models import Order
from crm.orders.services import create_order
from crm.sales.models import Opportunity
from crm.sales.services import create_opportunity
from metadata import records
from metadata import services as metadata
from metadata.models import CustomRecord
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

PROJECT = "custom.project"
# object key -> (model, GraphQL root field)
OBJECTS = {
    "customers.account": (Account, "account"),
    "customers.contact": (Contact, "contact"),
    "sales.opportunity": (Opportunity, "opportunity"),
    "orders.order": (Order, "order"),
    PROJECT: (CustomRecord, "custom_project"),
}
# Every record's name carries this, so a response can be searched for anything it must not hold.
MARK = "ISO·"
DEALERS = ("agent A", "agent B", "retailer A1", "retailer B1")
FULL = ["create", "read", "update", "delete", "export"]


@dataclass(frozen=True)
class Placed:
    key: str  # object key
    pk: int
    name: str
    path: str  # the channel path the record carries ("" at headquarters)
    owner_id: int | None
    account_id: int | None = None  # the account it belongs to (contacts, deals, orders)


@dataclass(frozen=True)
class Caller:
    name: str
    user: User
    node_path: str | None  # None: brand staff


@dataclass
class ChannelWorld:
    tenant: object
    nodes: dict[str, ChannelNode]
    callers: dict[str, Caller]
    records: list[Placed] = field(default_factory=list)
    other_token: str = ""

    def add(self, key: str, record) -> None:
        name = getattr(record, "name", None) or record.note
        account = getattr(record, "account_id", None)
        self.records.append(Placed(key, record.pk, name, record.channel_path, record.owner_id, account))

    def of(self, key: str) -> list[Placed]:
        return [record for record in self.records if record.key == key]

    def sees(self, caller: Caller, record: Placed, *, children: bool) -> bool:
        """The rules: brand staff see everything; a dealer sees its own node's records, its child
        dealers' records only if the tenant lets parents see children, and records it holds
        anywhere in its subtree; never a sibling's, a parent's or the brand's."""
        if caller.node_path is None:
            return True
        if not record.path.startswith(caller.node_path):
            return False
        return record.path == caller.node_path or children or record.owner_id == caller.user.pk

    def expected(self, caller: Caller, key: str, *, children: bool) -> set[int]:
        return {r.pk for r in self.of(key) if self.sees(caller, r, children=children)}

    def names(self) -> set[str]:
        return {record.name for record in self.records}

    def leaked(self, text: str) -> bool:
        """Whether `text` (an answer) names any record of the world."""
        return any(name in text for name in self.names())


def dealer(email: str, node: ChannelNode) -> User:
    user = User.objects.create(email=email, full_name=email, role=Role.objects.get(code="dealer_admin"))
    ChannelMember.objects.create(user=user, node=node)
    return user


def set_dealer_rights(admin) -> None:
    """Dealer administrators (data level "subtree") get every right on the objects under test that
    the shipped role lacks (delete, the custom object): what they are refused is the scope's doing."""
    role = Role.objects.get(code="dealer_admin")
    for key in ("customers.account", "customers.contact", PROJECT):
        access.set_object_permission(actor=admin, role=role, object=key, actions=FULL)


def _place_records(world: ChannelWorld, admin) -> None:
    product = build.product()
    places = {"HQ": None, **world.nodes}
    for label, node in places.items():
        account = Account(name=f"{MARK}account@{label}")
        account.place(owner=None, channel_node=node)  # in the pool: claimable where visible
        account.save()
        contact = customers.add_contact(actor=admin, account=account, name=f"{MARK}contact@{label}")
        deal = create_opportunity(actor=admin, account=account, name=f"{MARK}opportunity@{label}")
        order = create_order(
            actor=admin,
            account=account,
            lines=[{"product": product, "quantity": 1, "unit_price": "100"}],
            note=f"{MARK}order@{label}",
        )
        project = records.create_record(admin, PROJECT, f"{MARK}project@{label}", channel_node=node)
        for key, record in (
            ("customers.account", account),
            ("customers.contact", contact),
            ("sales.opportunity", deal),
            ("orders.order", order),
            (PROJECT, project),
        ):
            world.add(key, record)
    # Held by agent A: below its node (seen even when parents do not see children), and on a
    # sibling's node (never seen: what a dealer holds outside its subtree stays out of reach).
    agent_a = world.callers["agent A"].user
    for label, node in (("A1 held by A", world.nodes["A1"]), ("B held by A", world.nodes["B"])):
        account = Account(name=f"{MARK}account@{label}")
        account.place(owner=agent_a, channel_node=node)
        account.save()
        world.add("customers.account", account)
        name = f"{MARK}project@{label}"
        world.add(PROJECT, records.create_record(admin, PROJECT, name, owner=agent_a, channel_node=node))
    # Contacts agent A holds at customers it may not see: its retailer's (seen only when parents
    # see children) and its sibling's. The contact is A's; the customer behind it is not.
    for label, node in (("A1", world.nodes["A1"]), ("B", world.nodes["B"])):
        account = Account.objects.get(name=f"{MARK}account@{label}")
        contact = Contact(account=account, name=f"{MARK}contact of {label} held by A")
        contact.place(owner=agent_a, channel_node=world.nodes["A"] if label == "B" else node)
        contact.save()
        world.add("customers.contact", contact)


@pytest.fixture
def unmetered(monkeypatch):
    """No API rate limit: the matrix sends thousands of requests a minute, and the budget is not
    what it tests (tests/api/test_limits.py does)."""
    for code, plan in list(plans.PLANS.items()):
        monkeypatch.setitem(plans.PLANS, code, dataclasses.replace(plan, api_requests_per_minute=10**9))


@pytest.fixture
def channel_world(alpha, beta, unmetered) -> ChannelWorld:
    admin = admin_of(alpha)
    with tenant_context(alpha):
        brand = add_channel_node(name="Brand", code="iso-brand", level="brand")
        a = add_channel_node(name="Agent A", code="iso-a", level="agent", parent=brand)
        b = add_channel_node(name="Agent B", code="iso-b", level="agent", parent=brand)
        a1 = add_channel_node(name="Retailer A1", code="iso-a1", level="retailer", parent=a)
        b1 = add_channel_node(name="Retailer B1", code="iso-b1", level="retailer", parent=b)
        nodes = {"brand": brand, "A": a, "B": b, "A1": a1, "B1": b1}
        callers = {"brand": Caller("brand", admin, None)}
        for name, node in zip(DEALERS, (a, b, a1, b1), strict=True):
            callers[name] = Caller(name, dealer(f"{name.replace(' ', '-')}@iso.example", node), node.path)
        metadata.create_object(actor=admin, name="project", label_en="Project")
        set_dealer_rights(admin)
        world = ChannelWorld(alpha, nodes, callers)
        _place_records(world, admin)
        for caller in callers.values():
            forget(caller.user)
    with tenant_context(beta):
        _token, world.other_token = tokens.issue_token(admin_of(beta), name="beta", scopes=["read", "write"])
    return world


def allow_children(world: ChannelWorld, children: bool) -> None:
    """Set whether dealers see their child dealers' records (the tenant's ScopeSettings)."""
    with tenant_context(world.tenant):
        access.update_scope_settings(actor=world.callers["brand"].user, dealers_see_children=children)
