"""Data scope: the one filter (access/scope.py) against real rows in both trees."""

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from access import services as admin_services
from access.models import ScopeSettings
from access.permissions import field_rules, readable_values
from access.principal import forget
from access.sharing import share_record, unshare
from accounts.models import Role, User
from accounts.services import add_org_unit, move_org_unit
from channels.models import ChannelMember
from channels.services import add_channel_node, move_channel_node
from crm.customers import services as customers
from crm.customers.models import Account
from crm.records import audit
from crm_platform.errors import NotFound, PermissionDenied
from tests.conftest import admin_of

_serial = iter(range(1, 10_000))


def person(role: str, *, unit=None, node=None) -> User:
    user = User.objects.create(
        email=f"{role}.{next(_serial)}@scope.example",
        full_name=role,
        role=Role.objects.get(code=role),
        org_unit=unit,
    )
    if node is not None:
        ChannelMember.objects.create(user=user, node=node)
    return user


def account(name: str, *, owner=None, node=None, unit=None) -> Account:
    record = Account(name=name)
    record.place(owner=owner, channel_node=node, org_unit=unit)
    record.save()
    return record


def seen(user) -> set[str]:
    forget(user)  # a new request: rights and settings read afresh
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


@pytest.fixture
def channel(alpha):
    """brand → agents east/west → a retailer under each; an account on every node, one pooled."""
    with tenant_context(alpha):
        brand = add_channel_node(name="华辰", code="brand", level="brand")
        east = add_channel_node(name="华东代理", code="east", level="agent", parent=brand)
        west = add_channel_node(name="华西代理", code="west", level="agent", parent=brand)
        east_shop = add_channel_node(name="杭州门店", code="east-shop", level="retailer", parent=east)
        west_shop = add_channel_node(name="成都门店", code="west-shop", level="retailer", parent=west)
        nodes = {"brand": brand, "east": east, "west": west, "east_shop": east_shop, "west_shop": west_shop}
        users = {
            "admin": admin_of(alpha),
            "east_admin": person("dealer_admin", node=east),
            "west_admin": person("dealer_admin", node=west),
            "east_shop_admin": person("dealer_admin", node=east_shop),
            "east_shop_user": person("dealer_user", node=east_shop),
        }
        for key, node in nodes.items():
            account(f"{key} customer", node=node)
        account("east_shop own", owner=users["east_shop_user"])  # placed on its node by default
        account("pooled")
        yield nodes, users


def test_each_dealer_sees_its_subtree_and_siblings_never_see_each_other(alpha, channel):
    _nodes, users = channel
    with tenant_context(alpha):
        assert seen(users["admin"]) == {
            "brand customer", "east customer", "west customer", "east_shop customer",
            "west_shop customer", "east_shop own", "pooled",
        }  # fmt: skip
        assert seen(users["east_admin"]) == {"east customer", "east_shop customer", "east_shop own"}
        assert seen(users["west_admin"]) == {"west customer", "west_shop customer"}
        assert seen(users["east_shop_admin"]) == {"east_shop customer", "east_shop own"}
        # Data level "own": what the dealer user holds, and its node's unowned customers (its pool).
        assert seen(users["east_shop_user"]) == {"east_shop own", "east_shop customer"}
        account("east_shop taken", owner=users["east_shop_admin"])
        assert "east_shop taken" not in seen(users["east_shop_user"])


def test_the_tenant_decides_whether_parents_see_their_child_dealers(alpha, channel):
    _nodes, users = channel
    with tenant_context(alpha):
        admin_services.update_scope_settings(actor=users["admin"], dealers_see_children=False)
        assert seen(users["east_admin"]) == {"east customer"}
        admin_services.update_scope_settings(actor=users["admin"], brand_sees_channel=False)
        assert seen(users["admin"]) == {"brand customer", "pooled"}
        history = audit.history(ScopeSettings.objects.get())
        assert [change.action for change in history] == ["created", "updated"]
        assert history[-1].changes["brand_sees_channel"] == [True, False]
        with pytest.raises(PermissionDenied):
            admin_services.update_scope_settings(actor=users["east_admin"], dealers_see_children=True)


def test_a_denied_write_changes_nothing(alpha, channel):
    _nodes, users = channel
    with tenant_context(alpha):
        target = Account.objects.get(name="east customer")
        with pytest.raises(NotFound):
            customers.update_account(actor=users["west_admin"], account=target, name="被改了")
        assert Account.objects.get(pk=target.pk).name == "east customer"
        # Visible but not the user's to change: a clear refusal, still nothing written.
        admin_services.set_object_permission(
            actor=users["admin"], role=Role.objects.get(code="dealer_admin"), object="customers.account",
            actions=["read"],
        )  # fmt: skip
        with pytest.raises(PermissionDenied):
            customers.update_account(actor=users["east_admin"], account=target, name="被改了")
        assert Account.objects.get(pk=target.pk).name == "east customer"


def test_a_dealer_cannot_place_a_customer_on_another_dealers_node(alpha, channel):
    nodes, users = channel
    with tenant_context(alpha):
        made = customers.create_account(actor=users["east_shop_admin"], name="西湖茶社").account
        assert made.channel_node == nodes["east_shop"]  # a dealer's record lands on its node
        with pytest.raises(PermissionDenied):
            customers.create_account(actor=users["east_admin"], name="越界客户", channel_node=nodes["west"])
        assert not Account.objects.filter(name="越界客户").exists()


def test_object_permissions_gate_reading_at_all(alpha, channel):
    _nodes, users = channel
    with tenant_context(alpha):
        auditor = Role.objects.create(code="auditor", labels={"en": "Auditor"}, data_level="all")
        watcher = User.objects.create(email="watch@scope.example", full_name="watch", role=auditor)
        assert seen(watcher) == set()  # a role the tenant made starts with nothing
        admin_services.set_object_permission(
            actor=users["admin"], role=auditor, object="customers.account", actions=["read"]
        )
        assert len(seen(watcher)) == 7
        changes = audit.history(auditor.object_permissions.get())
        assert changes[0].action == "created" and changes[0].user_id == users["admin"].pk


def test_the_org_tree_gives_managers_their_teams(alpha):
    with tenant_context(alpha):
        sales = add_org_unit(name="销售中心")
        east, south = add_org_unit(name="华东组", parent=sales), add_org_unit(name="华南组", parent=sales)
        boss = person("sales_manager", unit=sales)
        lead = person("sales_manager", unit=east)
        zhang, chen = person("sales_rep", unit=east), person("sales_rep", unit=south)
        desk = person("service", unit=east)
        account("张的客户", owner=zhang)
        account("陈的客户", owner=chen)
        account("公海客户")
        assert seen(boss) == {"张的客户", "陈的客户", "公海客户"}
        assert seen(lead) == {"张的客户", "公海客户"}
        assert seen(zhang) == {"张的客户", "公海客户"}  # own, and the pool to claim from
        assert seen(desk) == {"张的客户", "公海客户"}  # data level "unit"
        # A rep moving team takes their customers along: the new lead sees them, the old one not.
        admin = admin_of(alpha)
        admin_services.move_user(actor=admin, user=chen, org_unit=east)
        assert seen(lead) == {"张的客户", "陈的客户", "公海客户"}
        # A whole team moving under another parent: its records follow the new path.
        other = add_org_unit(name="大客户部")
        job = move_org_unit(actor=admin, unit=east, new_parent=other)
        assert (job.status, job.total, job.done) == ("done", 2, 2)
        assert seen(boss) == {"公海客户"}
        assert seen(lead) == {"张的客户", "陈的客户", "公海客户"}
        changes = [c.changes for c in audit.history(chen) if c.action == "updated"]
        assert changes == [{"org_unit_id": [south.pk, east.pk]}]


def test_moving_a_dealer_rescopes_its_subtree(alpha, channel):
    nodes, users = channel
    with tenant_context(alpha):
        job = move_channel_node(actor=users["admin"], node=nodes["east_shop"], new_parent=nodes["west"])
        assert (job.status, job.done) == ("done", 2)
        assert seen(users["east_admin"]) == {"east customer"}
        assert seen(users["west_admin"]) == {
            "west customer",
            "west_shop customer",
            "east_shop customer",
            "east_shop own",
        }
        assert seen(users["east_shop_admin"]) == {"east_shop customer", "east_shop own"}
        moved = Account.objects.get(name="east_shop customer")
        assert moved.channel_path == f"{nodes['west'].path}{nodes['east_shop'].pk}/"
        with pytest.raises(ValidationError) as refused:  # under its own dealer: a loop
            move_channel_node(actor=users["admin"], node=nodes["east_shop"], new_parent=nodes["east_shop"])
        assert set(refused.value.message_dict) == {"parent"}
        with pytest.raises(PermissionDenied):
            move_channel_node(actor=users["west_admin"], node=nodes["west_shop"], new_parent=nodes["east"])


def test_field_permissions_are_an_allow_list_once_set(alpha, channel):
    _nodes, users = channel
    with tenant_context(alpha):
        east_admin = users["east_admin"]
        target = Account.objects.get(name="east customer")
        admin_services.set_object_permission(
            actor=users["admin"],
            role=Role.objects.get(code="dealer_admin"),
            object="customers.account",
            actions=["read", "update"],
            fields={"name": "edit", "phone": "read"},
        )
        forget(east_admin)
        rules = field_rules(east_admin, Account)
        assert rules.readable("name") and rules.readable("phone") and rules.readable("id")
        assert not rules.readable("credit_code")  # not named: hidden
        assert rules.writable("name") and not rules.writable("phone")
        with pytest.raises(ValidationError) as refused:
            customers.update_account(actor=east_admin, account=target, phone="13800000000", credit_code="x")
        assert set(refused.value.message_dict) == {"phone", "credit_code"}
        assert Account.objects.get(pk=target.pk).phone == ""
        customers.update_account(actor=east_admin, account=target, name="华东新名")
        assert Account.objects.get(pk=target.pk).name == "华东新名"
        assert readable_values(east_admin, target, ["name", "credit_code"]) == {"name": "east customer"}
        with pytest.raises(ValidationError) as bad:
            admin_services.set_object_permission(
                actor=users["admin"],
                role=Role.objects.get(code="dealer_admin"),
                object="customers.account",
                actions=["read", "fly"],
                fields={"nonsense": "edit", "name": "admin"},
            )
        assert set(bad.value.message_dict) == {"actions", "fields"}


def test_a_shared_record_opens_to_its_grantee_only_as_far_as_granted(alpha, channel):
    nodes, users = channel
    with tenant_context(alpha):
        west_admin = users["west_admin"]
        target = Account.objects.get(name="east_shop customer")
        share = share_record(actor=users["east_admin"], record=target, user=west_admin, reason="联合投标")
        assert "east_shop customer" in seen(west_admin)
        with pytest.raises(PermissionDenied):  # shared to read, not to change
            customers.update_account(actor=west_admin, account=target, name="x")
        # A node share with "include below" reaches the node's dealers too.
        share_record(actor=users["admin"], record=Account.objects.get(name="brand customer"),
                     channel_node=nodes["west"], include_below=True, access="edit")  # fmt: skip
        assert "brand customer" in seen(users["west_admin"])
        west_shop_admin = person("dealer_admin", node=nodes["west_shop"])
        assert "brand customer" in seen(west_shop_admin)
        assert "brand customer" not in seen(users["east_admin"])
        unshare(actor=users["east_admin"], share=share)
        assert "east_shop customer" not in seen(west_admin)
        trail = [change.action for change in audit.history(share)]
        assert trail == ["created", "deleted"]  # who opened it, and who closed it again, are kept
        with pytest.raises(NotFound):  # nobody shares what they cannot change
            share_record(actor=west_admin, record=Account.objects.get(name="east customer"), user=west_admin)
