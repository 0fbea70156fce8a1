"""Principals are cached across requests under the tenant's access stamp (access/stamp.py): a
request pays one query for its rights, and any change of access, whichever way it is written, is
seen by the next request."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, tenant_context

from access.models import AccessState, ObjectPermission, ScopeSettings
from access.principal import principal_of
from accounts.models import Role, User
from channels.models import ChannelNode
from crm.customers.models import Account
from tests.scope.test_scope import channel, person  # noqa: F401 (fixture)


def fresh(user) -> User:
    """The user as the next request loads it: a new object, nothing cached on it."""
    return User.objects.get(pk=user.pk)


def names(user) -> set[str]:
    return set(Account.objects.visible_to(fresh(user)).values_list("name", flat=True))


def test_a_request_pays_one_query_for_its_rights(alpha, channel):  # noqa: F811
    _nodes, users = channel
    with tenant_context(alpha):
        principal_of(fresh(users["east_admin"]))
        user = fresh(users["east_admin"])
        with CaptureQueriesContext(connection) as queries:
            principal = principal_of(user)
        assert principal.node_path and principal.is_dealer
        assert [q["sql"] for q in queries] == [
            'SELECT "access_accessstate"."stamp" AS "stamp" FROM "access_accessstate" '
            'ORDER BY "access_accessstate"."id" ASC LIMIT 1'
        ]


def test_bulk_writes_and_raw_sql_draw_a_new_stamp(alpha, channel):  # noqa: F811
    nodes, users = channel
    east = users["east_admin"]
    with tenant_context(alpha):
        before = names(east)
        assert "east_shop customer" in before and "west customer" not in before

        # A queryset update sends no signal: the trigger still sees it.
        ScopeSettings.objects.update_or_create(pk=ScopeSettings.current().pk, defaults={})
        ScopeSettings.objects.all().update(dealers_see_children=False)
        assert "east_shop customer" not in names(east)

        # The channel tree rewritten by raw SQL: east now sits under west (paths included).
        west = nodes["west"]
        stamp = AccessState.objects.get().stamp
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE channels_channelnode SET path = %s || substr(path, %s) WHERE path LIKE %s",
                [west.path, len(nodes["brand"].path) + 1, nodes["east"].path + "%"],
            )
        assert AccessState.objects.get().stamp != stamp
        moved = ChannelNode.objects.get(pk=nodes["east"].pk)
        assert principal_of(fresh(east)).node_path == moved.path != nodes["east"].path

        # Losing the right to read accounts: nothing visible from the next request on.
        role = Role.objects.get(code="dealer_admin")
        ObjectPermission.objects.bulk_create([ObjectPermission(role=role, object="customers.account")])
        assert names(east) == set()


def test_a_change_of_the_user_row_needs_no_stamp(alpha):
    with tenant_context(alpha):
        user = person("sales_rep")
        principal_of(fresh(user))
        stamp = AccessState.objects.get().stamp
        User.objects.filter(pk=user.pk).update(role=Role.objects.get(code="sales_manager"))
        assert AccessState.objects.get().stamp == stamp
        assert principal_of(fresh(user)).role_code == "sales_manager"
        User.objects.filter(pk=user.pk).update(is_active=False)
        assert not principal_of(fresh(user)).active


def test_roles_in_the_public_schema_change_without_error(db):
    with schema_context("public"):
        Role.objects.filter(code="__none__").update(data_level="all")
        assert Role.objects.filter(code="__none__").count() == 0
