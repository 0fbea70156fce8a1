"""Ancestor indexes (access/ancestors.py): a dealer's subtree written as the equality on its node's
id at its depth selects exactly what the prefix match selects; the indexes are built for the depths
a tree has, in the background; and principals learn a ready depth with the next access stamp."""

import dataclasses

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from access import ancestors
from access.models import AccessState, AncestorIndex, ScopeSettings
from access.principal import forget, principal_of
from access.rescope import record_models
from access.scope import _by_level
from accounts.models import Role
from channels.models import ChannelNode
from channels.services import add_channel_node, move_channel_node
from crm.customers.models import Account
from tenants import services
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD, admin_of, wait_until
from tests.scope.conftest import dealer

LEVELS = (Role.DataLevel.OWN, Role.DataLevel.UNIT, Role.DataLevel.SUBTREE)


def _tree(depth: int, children: int) -> list[ChannelNode]:
    """A brand and `children` dealers under every node down to `depth`."""
    nodes = [add_channel_node(name="brand", code="anc-1", level="brand")]
    above = nodes
    for level in range(2, depth + 1):
        below = []
        for parent in above:
            for n in range(children):
                code = f"anc-{level}-{parent.pk}-{n}"
                below.append(add_channel_node(name=code, code=code, level="retailer", parent=parent))
        nodes += below
        above = below
    return nodes


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname ~ %s",
            [ancestors.SUFFIX + "[0-9]+$"],
        )
        return {name for (name,) in cursor.fetchall()}


def _stamp():
    return AccessState.objects.values_list("stamp", flat=True).get()


def test_the_equality_selects_what_the_prefix_selects(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        nodes = _tree(depth=6, children=2)  # 63 nodes
        dealers = {node.pk: dealer(f"anc-{node.pk}@alpha.example", node) for node in nodes[1:31]}
        holders = list(dealers.values())
        accounts = [Account(name="at headquarters")]
        accounts[0].place(owner=None)
        for i, node in enumerate(nodes):
            # Unowned (the pool), the admin's, and a dealer's (often placed outside its subtree).
            for owner in (None, admin, holders[i % len(holders)]):
                account = Account(name=f"at {node.path}")
                account.place(owner=owner, channel_node=node)
                accounts.append(account)
        Account.objects.bulk_create(accounts)
        every = {node.pk: node.path for node in nodes}
        compared = 0
        for node_id, user in dealers.items():
            path = every[node_id]
            assert 2 <= ancestors.depth_of(path) <= 5
            prefix = set(Account.objects.filter(channel_path__startswith=path).values_list("pk", flat=True))
            equal = set(Account.objects.filter(ancestors.subtree(path)).values_list("pk", flat=True))
            assert prefix == equal and prefix
            principal = principal_of(user)
            assert principal.indexed_depths == frozenset()  # nothing built yet: the prefix
            for level in LEVELS:
                for children in (True, False):
                    settings = ScopeSettings(dealers_see_children=children)
                    by_prefix = dataclasses.replace(principal, data_level=level)
                    by_equality = dataclasses.replace(by_prefix, indexed_depths=frozenset(range(2, 7)))
                    condition = _by_level(Account, by_equality, settings)
                    assert "split_part" in str(Account.objects.filter(condition).query)
                    expected = Account.objects.filter(_by_level(Account, by_prefix, settings))
                    assert set(Account.objects.filter(condition).values_list("pk", flat=True)) == set(
                        expected.values_list("pk", flat=True)
                    )
                    compared += 1
        assert compared == 30 * len(LEVELS) * 2


def test_a_new_depth_is_requested_once_and_built_on_every_record_table(
    alpha, django_capture_on_commit_callbacks
):
    with tenant_context(alpha):
        with django_capture_on_commit_callbacks() as queued:
            brand = add_channel_node(name="brand", code="b", level="brand")
            east = add_channel_node(name="east", code="e", level="agent", parent=brand)
            west = add_channel_node(name="west", code="w", level="agent", parent=brand)
            shop = add_channel_node(name="shop", code="s", level="retailer", parent=east)
        # Depth 1 wants none; depths 2 and 3 asked once each, one build queued per asking.
        assert len(queued) == 2
        assert dict(AncestorIndex.objects.values_list("depth", "built_at")) == {2: None, 3: None}
        assert _indexes() == set()

        stamp = _stamp()
        from access.tasks import build_ancestor_indexes

        assert build_ancestor_indexes(alpha.schema_name) == [2, 3]  # the task's body, here
        tables = [model._meta.db_table for model in record_models()]
        assert _indexes() == {ancestors.index_name(t, d) for t in tables for d in (2, 3)}
        assert not AncestorIndex.objects.filter(built_at__isnull=True).exists()
        assert _stamp() != stamp  # every process's principals learn it
        assert build_ancestor_indexes(alpha.schema_name) == []  # idempotent

        # A move that makes the tree deeper asks for the new depth.
        with django_capture_on_commit_callbacks() as queued:
            move_channel_node(actor=None, node=east, new_parent=west)
        assert len(queued) == 1
        assert AncestorIndex.objects.get(depth=4).built_at is None
        assert build_ancestor_indexes(alpha.schema_name) == [4]
        assert ancestors.index_name(Account._meta.db_table, 4) in _indexes()
        shop.refresh_from_db()
        assert ancestors.depth_of(shop.path) == 4


def test_a_dealer_principal_switches_to_the_equality_with_the_next_stamp(alpha):
    with tenant_context(alpha):
        brand = add_channel_node(name="brand", code="b", level="brand")
        agent = add_channel_node(name="agent", code="a", level="agent", parent=brand)
        shop = add_channel_node(name="shop", code="s", level="retailer", parent=agent)
        user = dealer("shop@alpha.example", shop)
        forget(user)
        assert principal_of(user).indexed_depths == frozenset()
        assert "split_part" not in str(Account.objects.visible_to(user).query)

        ancestors.build()
        assert principal_of(user).indexed_depths == frozenset()  # cached on the user (one request)
        forget(user)  # the next request: a new stamp, so a new principal
        assert principal_of(user).indexed_depths == frozenset({2, 3})
        assert "split_part" in str(Account.objects.visible_to(user).query)


@pytest.fixture
def deep_tenant(committed_db):
    tenant = services.sign_up(
        company_name="Deep 深", slug="deep", admin_name="Dee", email="dee@deep.example", password=PASSWORD
    )
    yield tenant
    connection.set_schema_to_public()
    template.drop_schema(tenant.schema_name)
    Tenant.objects.filter(pk=tenant.pk).delete()


def test_a_worker_builds_the_indexes_concurrently_after_commit(deep_tenant, live_worker):
    with tenant_context(deep_tenant):
        brand = add_channel_node(name="品牌", code="brand", level="brand")
        add_channel_node(name="华东", code="east", level="agent", parent=brand)

    def ready():
        with tenant_context(deep_tenant):
            return AncestorIndex.objects.filter(depth=2, built_at__isnull=False).exists()

    wait_until(ready)
    with tenant_context(deep_tenant):
        assert ancestors.index_name(Account._meta.db_table, 2) in _indexes()
