"""Saved views: who sees which view, defaults per role, running them (filter, sort, keyset pages,
columns), group-by aggregates, kanban, calendar, scope, refused definitions and the plan limit."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from accounts.services import add_org_unit
from billing.plans import Plan
from channels.models import ChannelMember
from channels.services import add_channel_node
from crm.customers.models import Account
from crm_platform.errors import LimitReached, NotFound, PermissionDenied
from metadata import services as metadata
from metadata.views import services
from metadata.views.groups import kanban_board, view_groups
from metadata.views.run import calendar_entries, run_view
from tests.conftest import admin_of

_serial = iter(range(1, 10_000))


@pytest.fixture
def admin(alpha):
    user = admin_of(alpha)
    with tenant_context(alpha):
        yield user


def person(role: str, *, unit=None, node=None) -> User:
    user = User.objects.create(
        email=f"{role}.{next(_serial)}@views.example",
        full_name=role,
        role=Role.objects.get(code=role),
        org_unit=unit,
    )
    if node is not None:
        ChannelMember.objects.create(user=user, node=node)
    return user


def account(name: str, *, owner=None, **fields) -> Account:
    record = Account(name=name, **fields)
    record.place(owner=owner)
    record.save()
    return record


def view(actor, **data):
    data.setdefault("name", f"view_{next(_serial)}")
    data.setdefault("label_en", data["name"].title())
    return services.create_view(actor=actor, object_key="customers.account", **data)


def refused(actor, language="en", **data) -> dict:
    with translation.override(language), pytest.raises(ValidationError) as raised:
        view(actor, **data)
    return raised.value.message_dict


def custom_fields(admin):
    field = metadata.add_field
    key = "customers.account"
    field(actor=admin, object_key=key, name="score", type="number", label_en="Score")
    field(actor=admin, object_key=key, name="revenue", type="decimal", label_en="Revenue")
    field(actor=admin, object_key=key, name="signed", type="date", label_en="Signed")
    tiers = {"choices": [{"value": "gold", "label_zh": "金"}, {"value": "silver"}]}
    field(actor=admin, object_key=key, name="tier", type="select", label_en="Tier", options=tiers)
    lines = {"choices": [{"value": "tv"}, {"value": "fridge"}]}
    field(actor=admin, object_key=key, name="lines", type="multi_select", label_en="Lines", options=lines)


def names(page) -> list[str]:
    return [row["name"] for row in page.rows]


# --- who sees which view ----------------------------------------------------------------------


def test_each_visibility_reaches_exactly_its_audience(admin, beta):
    east = add_org_unit(name="East")
    east_team = add_org_unit(name="East team", parent=east)
    west = add_org_unit(name="West")
    agent = add_channel_node(name="Agent", code="agent", level="agent")
    shop = add_channel_node(name="Shop", code="shop", level="retailer", parent=agent)
    rep = person("sales_rep", unit=east_team)
    other_rep = person("sales_rep", unit=west)
    manager = person("sales_manager", unit=east)
    retailer = person("dealer_admin", node=shop)
    agent_user = person("dealer_admin", node=agent)

    private = view(rep, name="mine")
    by_role = view(rep, name="reps", visibility="role", role=rep.role)
    team = view(admin, name="east", visibility="team", org_unit=east)
    everyone = view(admin, name="all", visibility="everyone")
    shops = view(admin, name="shops", visibility="dealer_level", channel_level="retailer")

    def seen(user) -> set[str]:
        return {v.name for v in services.views_for(user, "customers.account")}

    assert seen(rep) == {"mine", "reps", "east", "all"}
    assert seen(other_rep) == {"reps", "all"}  # another unit: not the east team's view
    assert seen(manager) == {"east", "all"}  # the unit itself counts as "and below"
    assert seen(retailer) == {"shops"}  # dealers never get "everyone"
    assert seen(agent_user) == set()
    assert seen(admin) == {"mine", "reps", "east", "all", "shops"}
    assert (
        by_role.role_id == rep.role_id and team.org_unit_id == east.pk and shops.channel_level == "retailer"
    )

    with pytest.raises(NotFound):
        services.get_view_for(other_rep, private)
    with pytest.raises(NotFound):
        run_view(other_rep, private)
    with pytest.raises(NotFound):
        services.change_view(actor=other_rep, view=private, label_en="Taken")
    with pytest.raises(PermissionDenied):
        services.delete_view(actor=other_rep, view=by_role)  # seen, but not theirs
    services.change_view(actor=admin, view=private, label_en="Renamed by admin")
    services.delete_view(actor=rep, view=by_role)
    assert seen(other_rep) == {"all"}
    assert everyone.visibility == "everyone"

    with tenant_context(beta):
        assert services.views_for(admin_of(beta), "customers.account") == []
        with pytest.raises(NotFound):
            services.get_view_for(admin_of(beta), everyone.pk)


def test_only_admins_share_widely_and_reps_share_within_their_role_and_unit(admin):
    east = add_org_unit(name="East")
    west = add_org_unit(name="West")
    rep = person("sales_rep", unit=east)
    manager_role = Role.objects.get(code="sales_manager")
    assert refused(rep, visibility="everyone") == {
        "visibility": ["Only an administrator may share a view this widely."]
    }
    assert refused(rep, visibility="role", role=manager_role) == {
        "role": ["You may share a view only with your own role."]
    }
    assert refused(rep, visibility="team", org_unit=west) == {
        "org_unit": ["You may share a view only with your own unit or a unit below it."]
    }
    assert refused(rep, visibility="team") == {"org_unit": ["Choose an org unit."]}
    assert view(rep, visibility="team", org_unit=east).org_unit_id == east.pk


def test_a_role_has_one_default_view_else_the_built_in_one(admin):
    rep = person("sales_rep")
    manager = person("sales_manager")
    built_in = services.default_view_for(rep, "customers.account")
    assert built_in.pk is None and built_in.columns[0] == "name"
    assert built_in.sort == [{"field": "created_at", "direction": "desc"}]
    assert "id" not in built_in.columns and len(built_in.columns) == services.BUILT_IN_COLUMNS

    first = view(admin, visibility="role", role=rep.role, is_default=True)
    assert services.default_view_for(rep, "customers.account") == first
    second = view(admin, visibility="role", role=rep.role, is_default=True)
    first.refresh_from_db()
    assert not first.is_default  # replaced, not refused
    assert services.default_view_for(rep, "customers.account") == second
    assert services.default_view_for(manager, "customers.account").pk is None
    assert refused(admin, visibility="everyone", is_default=True) == {
        "is_default": ["Only a view shared with a role can be its default."]
    }
    assert refused(rep, visibility="role", role=rep.role, is_default=True) == {
        "is_default": ["Only an administrator may choose a role's default view."]
    }
    assert [row.pk for row in run_view(rep, built_in).rows] == []


# --- running a view ---------------------------------------------------------------------------


def test_filter_and_sort_mix_standard_and_custom_fields(admin):
    custom_fields(admin)
    account("Alpha", value_class="A", custom={"tier": "silver", "score": 30})
    account("Bravo", value_class="B", custom={"tier": "gold", "score": 10})
    account("Charlie", value_class="A", custom={"tier": "gold", "score": 20})
    account("Delta", value_class="C", custom={"tier": "gold", "score": 50})  # filtered out: class C
    account("Echo", value_class="B", custom={"tier": "gold", "score": 5})  # filtered out: score
    account("Foxtrot", value_class="A", custom={"score": 40})  # no tier: sorts last
    saved = view(
        admin,
        columns=["name", "value_class", "custom.tier", "custom.score"],
        filter={
            "and": [
                {"field": "value_class", "op": "in", "value": ["A", "B"]},
                {"field": "custom.score", "op": "gte", "value": "10"},
            ]
        },
        sort=[{"field": "custom.tier"}, {"field": "custom.score", "direction": "desc"}],
    )
    assert saved.filter["and"][1]["value"] == 10  # stored normalised
    assert saved.sort[0] == {"field": "custom.tier", "direction": "asc"}
    with CaptureQueriesContext(connection) as queries:
        page = run_view(admin, saved)
    assert names(page) == ["Charlie", "Bravo", "Alpha", "Foxtrot"]
    assert page.rows[0] == {
        "id": page.rows[0]["id"],
        "name": "Charlie",
        "value_class": "A",
        "custom.tier": "gold",
        "custom.score": 20,
    }
    assert page.next_cursor is None
    listing = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and "customers_account" in q["sql"])
    # The custom number sorts by the compiler's typed expression (selected, then ordered by its
    # position, which PostgreSQL resolves to the same expression), the one the sortable index is on.
    select, order = listing.split("ORDER BY")
    assert "jsonb_typeof" in select and "::numeric" in select and "DESC NULLS LAST" in order


def test_keyset_pages_cover_every_row_once_across_ties_and_blanks(admin):
    custom_fields(admin)
    scores = [30, 10, 30, None, 20, 30, None, 10, 20]
    for i, score in enumerate(scores):
        account(f"A{i}", custom={} if score is None else {"score": score})
    saved = view(admin, columns=["name"], sort=[{"field": "custom.score", "direction": "desc"}])
    seen, after, pages = [], None, 0
    while True:
        page = run_view(admin, saved, after=after, limit=2)
        seen += names(page)
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    records = Account.objects.filter(name__in=[f"A{i}" for i in range(len(scores))]).order_by("pk")
    ranked = sorted(
        records, key=lambda a: (a.custom.get("score") is None, -(a.custom.get("score") or 0), a.pk)
    )
    assert seen == [a.name for a in ranked] and pages == 5
    assert run_view(admin, saved, limit=10_000).next_cursor is None  # capped at 200, all fit

    other = view(admin, columns=["name"], sort=[{"field": "name"}])
    first = run_view(admin, saved, limit=2)
    with pytest.raises(ValidationError) as raised:
        run_view(admin, other, after=first.next_cursor)
    assert raised.value.message_dict == {"after": ["This cursor is invalid or belongs to another sort."]}
    with pytest.raises(ValidationError):
        run_view(admin, saved, after="not-a-cursor")


def test_groups_count_sum_and_average_exactly_in_one_query(admin):
    custom_fields(admin)
    account("a1", value_class="A", custom={"revenue": 0.1, "score": 1})
    account("a2", value_class="A", custom={"revenue": 0.2, "score": 2})
    account("b1", value_class="B", custom={"revenue": 1000.05})
    account("c1", value_class="C", custom={"score": 7})
    saved = view(
        admin,
        group_by="value_class",
        aggregates=[
            {"function": "count"},
            {"function": "sum", "field": "custom.revenue"},
            {"function": "avg", "field": "custom.revenue"},
            {"function": "avg", "field": "custom.score"},
        ],
    )
    with CaptureQueriesContext(connection) as queries:
        groups = view_groups(admin, saved)
    assert sum("GROUP BY" in q["sql"] for q in queries) == 1
    by_value = {g.value: g for g in groups}
    assert [g.value for g in groups] == ["A", "B", "C"]
    assert by_value["A"].count == 2
    assert by_value["A"].totals["sum:custom.revenue"] == Decimal("0.3")
    assert by_value["A"].totals["avg:custom.revenue"] == Decimal("0.15")
    assert by_value["A"].totals["avg:custom.score"] == Decimal("1.5")
    assert by_value["A"].totals["count"] == 2
    assert by_value["B"].totals["sum:custom.revenue"] == Decimal("1000.05")
    assert by_value["C"].totals["sum:custom.revenue"] is None


def test_kanban_columns_follow_the_choices_with_their_first_cards(admin):
    custom_fields(admin)
    for name, tier in [("g1", "gold"), ("g2", "gold"), ("g3", "gold"), ("s1", "silver"), ("n1", None)]:
        account(name, custom={"tier": tier} if tier else {})
    saved = view(
        admin,
        kind="kanban",
        kanban_field="custom.tier",
        columns=["name"],
        sort=[{"field": "name", "direction": "desc"}],
        aggregates=[{"function": "count"}],
    )
    with translation.override("zh-hans"):
        board = kanban_board(admin, saved, per_column=2)
    assert [(c.value, c.label, c.count) for c in board] == [
        ("gold", "金", 3),
        ("silver", "silver", 1),
        (None, "", 1),
    ]
    assert [card["name"] for card in board[0].cards] == ["g3", "g2"]
    assert [card["name"] for card in board[2].cards] == ["n1"]

    standard = view(admin, kind="kanban", kanban_field="value_class", columns=["name"])
    with translation.override("en"):
        columns = kanban_board(admin, standard)
    assert [(c.value, c.label) for c in columns][:3] == [
        ("A", "A: important"),
        ("B", "B: ordinary"),
        ("C", "C: potential"),
    ]
    assert sum(c.count for c in columns) == Account.objects.count()


def test_calendar_lists_records_whose_date_falls_in_the_range(admin):
    custom_fields(admin)
    for name, signed in [
        ("before", "2026-02-28"),
        ("first", "2026-03-01"),
        ("last", "2026-03-31"),
        ("after", "2026-04-01"),
    ]:
        account(name, custom={"signed": signed})
    saved = view(admin, kind="calendar", calendar_field="custom.signed", columns=["name"])
    entries = calendar_entries(admin, saved, date(2026, 3, 1), date(2026, 4, 1))
    assert [(e["name"], e["calendar_date"]) for e in entries] == [
        ("first", date(2026, 3, 1)),
        ("last", date(2026, 3, 31)),
    ]


def test_a_view_shows_only_what_the_viewers_scope_allows(admin):
    rep = person("sales_rep")
    colleague = person("sales_rep")
    account("mine", owner=rep, value_class="A")
    account("theirs", owner=colleague, value_class="A")
    shared = view(
        admin, visibility="everyone", columns=["name"], sort=[{"field": "name"}], group_by="value_class"
    )
    assert names(run_view(rep, shared)) == ["mine"]
    assert {"mine", "theirs"} <= set(names(run_view(admin, shared, limit=200)))
    assert [(g.value, g.count) for g in view_groups(rep, shared)] == [("A", 1)]


# --- refused definitions ----------------------------------------------------------------------


def test_a_bad_shape_is_refused_per_location(admin):
    assert refused(
        admin,
        kind="gantt",
        columns=["name", 7],
        sort=[{"field": "name", "direction": "up"}, {"order": "x"}],
        aggregates=[{"function": "max", "field": "custom.score"}],
        filter=[],
    ) == {
        "kind": ["Not one of the allowed values."],
        "columns[1]": ["Expected text."],
        "sort[0].direction": ["Not one of the allowed values."],
        "sort[1].field": ["This is required."],
        "sort[1].order": ["Unknown key."],
        "aggregates[0].function": ["Not one of the allowed values."],
        "filter": ["Expected an object."],
    }


def test_fields_unknown_or_unfit_for_their_use_are_refused_one_by_one(admin):
    custom_fields(admin)
    errors = refused(
        admin,
        kind="kanban",
        kanban_field="industry",
        columns=["name", "custom.nope", "custom.tier", "nope"],
        sort=[{"field": "custom.lines"}, {"field": "custom.score"}],
        group_by="created_at",
        calendar_field="custom.signed",
        aggregates=[
            {"function": "sum", "field": "name"},
            {"function": "count", "field": "custom.score"},
            {"function": "avg"},
        ],
        filter={"field": "custom.score", "op": "contains", "value": 1},
    )
    assert errors == {
        "columns[1]": ["Unknown field."],
        "columns[3]": ["Unknown field."],
        "sort[0].field": ["This field cannot be sorted."],
        "group_by": ["This field cannot be grouped by."],
        "kanban_field": ["Choose a single-select field."],
        "calendar_field": ["Only a calendar view uses this."],
        "aggregates[0].field": ["Choose a number field."],
        "aggregates[1].field": ["A count takes no field."],
        "aggregates[2].field": ["This is required."],
        "filter.op": ["This operator does not apply to a field of this type."],
    }
    assert refused(admin, "zh-hans", kind="calendar") == {"calendar_field": ["此项必填。"]}
    assert refused(admin, columns=["nope"], language="zh-hans") == {"columns[0]": ["未知字段。"]}


def test_the_plan_limits_views_per_object(admin, monkeypatch):
    tiny = Plan("tiny", "Tiny", 50, 3, 2, 10)
    monkeypatch.setattr("metadata.limits.plan_of", lambda tenant: tiny)
    view(admin)
    view(admin)
    with translation.override("en"), pytest.raises(LimitReached) as raised:
        view(admin)
    assert "allows 2 saved views per object" in str(raised.value)
