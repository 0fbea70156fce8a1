"""The filter language and its compiler, against real rows in a tenant schema."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context
from jsonschema import Draft202012Validator

from accounts.models import Role, User
from accounts.services import add_org_unit
from crm.customers.models import Account, Contact
from crm.sales.models import Opportunity, Stage
from metadata.filters import (
    FILTER_SCHEMA,
    MAX_CONDITIONS,
    MAX_DEPTH,
    FilterContext,
    ModelFieldResolver,
    compile_filter,
    validate_filter,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CUSTOM = ModelFieldResolver(
    custom_fields={
        "score": "number",
        "signed": "date",
        "visited_at": "datetime",
        "vip": "boolean",
        "note": "text",
        "tier": {"type": "choice", "choices": ["gold", "silver"]},
        "lines": {"type": "multi", "choices": ["tv", "fridge", "aircon"]},
    }
)


@pytest.fixture
def tenant(alpha):
    with tenant_context(alpha):
        yield alpha


def rep(email: str, unit=None) -> User:
    return User.objects.create(
        email=email, full_name=email, role=Role.objects.get(code="sales_rep"), org_unit=unit
    )


def account(name: str, owner=None, **fields) -> Account:
    record = Account(name=name, **fields)
    record.place(owner=owner)
    record.save()
    return record


def opportunity(name: str, of: Account, **fields) -> Opportunity:
    stage = Stage.objects.get(pipeline__is_default=True, code=fields.pop("stage", "won"))
    return Opportunity.objects.create(account=of, name=name, stage=stage, **fields)


def names(spec, model=Account, **options) -> list[str]:
    return sorted(model.objects.filter(compile_filter(spec, model, **options)).values_list("name", flat=True))


def errors(spec, model=Account, language="en", **options) -> dict:
    with translation.override(language), pytest.raises(ValidationError) as raised:
        validate_filter(spec, model, **options)
    return raised.value.message_dict


def test_text_operators_match_exactly_the_expected_rows(tenant):
    account("Huachen Appliances", industry="Retail")
    account("Huaxin Electric", industry="retail wholesale")
    account("Blue Sky Hotel", industry="")
    assert names({"field": "industry", "op": "eq", "value": "Retail"}) == ["Huachen Appliances"]
    assert names({"field": "industry", "op": "ne", "value": "Retail"}) == [
        "Blue Sky Hotel",
        "Huaxin Electric",
    ]
    assert names({"field": "name", "op": "in", "value": ["Blue Sky Hotel", "Nobody"]}) == ["Blue Sky Hotel"]
    assert names({"field": "name", "op": "not_in", "value": ["Blue Sky Hotel"]}) == [
        "Huachen Appliances",
        "Huaxin Electric",
    ]
    assert names({"field": "industry", "op": "contains", "value": "retail"}) == ["Huaxin Electric"]
    assert names({"field": "industry", "op": "icontains", "value": "RETAIL"}) == [
        "Huachen Appliances",
        "Huaxin Electric",
    ]
    assert names({"field": "name", "op": "starts_with", "value": "Hua"}) == [
        "Huachen Appliances",
        "Huaxin Electric",
    ]
    assert names({"field": "industry", "op": "is_null", "value": True}) == ["Blue Sky Hotel"]
    assert names({"field": "industry", "op": "is_null", "value": False}) == [
        "Huachen Appliances",
        "Huaxin Electric",
    ]


def test_choices_booleans_and_references_compare_by_value_and_id(tenant):
    zhang, li = rep("zhang@alpha.example"), rep("li@alpha.example")
    account("A1", owner=zhang, value_class="A", value_class_overridden=True)
    account("B1", owner=li, value_class="B")
    account("Pooled", value_class="C")
    assert names({"field": "value_class", "op": "in", "value": ["A", "B"]}) == ["A1", "B1"]
    assert names({"field": "value_class", "op": "ne", "value": "A"}) == ["B1", "Pooled"]
    assert names({"field": "value_class_overridden", "op": "eq", "value": True}) == ["A1"]
    assert names({"field": "owner", "op": "eq", "value": zhang.pk}) == ["A1"]
    # A reference's `ne` includes records with nobody there, as "not Zhang's" reads.
    assert names({"field": "owner", "op": "ne", "value": zhang.pk}) == ["B1", "Pooled"]
    assert names({"field": "owner", "op": "in", "value": [zhang.pk, str(li.pk)]}) == ["A1", "B1"]
    assert names({"field": "owner", "op": "is_null", "value": True}) == ["Pooled"]


def test_numbers_compare_as_numbers_with_bounds_inclusive(tenant):
    customer = account("Huachen")
    for name, amount in (("small", "9.50"), ("ten", "10"), ("large", "1200.00")):
        opportunity(name, customer, amount=Decimal(amount))
    Opportunity.objects.filter(name="ten").update(probability_override=40)

    def deals(op, value):
        return names({"field": "amount", "op": op, "value": value}, Opportunity)

    assert deals("lt", 10) == ["small"]
    assert deals("lte", "10") == ["small", "ten"]
    assert deals("gt", 9.5) == ["large", "ten"]
    assert deals("gte", 1200) == ["large"]
    assert deals("between", [9.5, 10]) == ["small", "ten"]
    assert deals("eq", "1200.0") == ["large"]
    assert names({"field": "probability_override", "op": "is_null", "value": False}, Opportunity) == ["ten"]
    assert names({"field": "probability_override", "op": "in", "value": [40, 50]}, Opportunity) == ["ten"]


def test_one_and_two_hops_through_relations(tenant):
    north = add_org_unit(name="华北")
    zhang = rep("zhang@alpha.example", unit=north)
    big = account("Big", owner=zhang, value_class="A")
    small = account("Small", value_class="C")
    opportunity("big deal", big)
    opportunity("small deal", small)
    Contact.objects.create(account=big, name="黄磊")
    assert names({"field": "account.value_class", "op": "eq", "value": "A"}, Opportunity) == ["big deal"]
    two_hops = {"field": "account.owner.org_unit", "op": "eq", "value": north.pk}
    assert names(two_hops, Opportunity) == ["big deal"]
    assert names({"field": "account.owner.email", "op": "starts_with", "value": "zhang@"}, Contact) == [
        "黄磊"
    ]
    three_hops = {"field": "account.owner.org_unit.name", "op": "eq", "value": "华北"}
    assert errors(three_hops, Opportunity) == {"filter.field": ["Follow at most 2 relations."]}


def test_custom_numbers_compare_numerically_and_odd_values_never_match_nor_fail(tenant):
    for name, score in (("nine", 9), ("ten", 10), ("hundred", 100.5), ("text", "5"), ("list", [1])):
        account(name, custom={"score": score})
    account("none", custom={})
    account("null", custom={"score": None})

    def scored(op, value):
        return names({"field": "custom.score", "op": op, "value": value}, resolver=CUSTOM)

    assert scored("lt", 10) == ["nine"]  # as text "10" < "9", and "100.5" < "9"
    assert scored("gt", 9) == ["hundred", "ten"]
    assert scored("between", [9, 10]) == ["nine", "ten"]
    assert scored("eq", "100.50") == ["hundred"]
    assert scored("in", [9, 100.5]) == ["hundred", "nine"]
    # Like a NULL column, a missing or non-numeric value is "not 9" and empty.
    assert scored("ne", 9) == ["hundred", "list", "none", "null", "ten", "text"]
    assert scored("is_null", True) == ["list", "none", "null", "text"]
    not_below_ten = {"not": {"field": "custom.score", "op": "lt", "value": 10}}
    assert names(not_below_ten, resolver=CUSTOM) == ["hundred", "list", "none", "null", "ten", "text"]


def test_custom_dates_datetimes_booleans_text_choices_and_lists(tenant):
    account(
        "a",
        custom={
            "signed": "2026-03-09",
            "visited_at": "2026-03-10T08:00:00+08:00",
            "vip": True,
            "note": "50% off",
            "tier": "gold",
            "lines": ["tv", "fridge"],
        },
    )
    account(
        "b",
        custom={
            "signed": "2026-03-10",
            "visited_at": "2026-03-10T01:00:00Z",
            "vip": False,
            "lines": ["aircon"],
        },
    )
    account("broken", custom={"signed": "2026-02-31", "visited_at": "yesterday", "vip": "yes", "lines": "tv"})

    def match(field, op, value=None):
        spec = {"field": f"custom.{field}", "op": op, **({} if value is None else {"value": value})}
        return names(spec, resolver=CUSTOM)

    assert match("signed", "gt", "2026-03-09") == ["b"]  # a date, not text: "2026-02-31" never matches
    assert match("signed", "lte", "2026-03-10") == ["a", "b"]
    # 08:00 in Shanghai is 00:00 UTC, an hour before b's visit.
    assert match("visited_at", "lt", "2026-03-10T00:30:00Z") == ["a"]
    assert match("visited_at", "gte", "2026-03-10T09:00") == ["b"]  # tenant time without an offset
    assert match("vip", "eq", True) == ["a"]
    assert match("vip", "ne", True) == ["b", "broken"]
    assert match("note", "starts_with", "50%") == ["a"]
    assert match("note", "is_null", True) == ["b", "broken"]
    assert match("tier", "eq", "gold") == ["a"]
    assert match("lines", "contains", "tv") == ["a"]
    assert match("lines", "in", ["fridge", "aircon"]) == ["a", "b"]
    assert match("lines", "not_in", ["aircon"]) == ["a", "broken"]
    assert match("lines", "is_null", True) == ["broken"]


def test_relative_dates_follow_the_tenants_days_on_a_pinned_clock(tenant):
    customer = account("Huachen")
    closes = {
        "last week": date(2026, 3, 8),
        "today": date(2026, 3, 15),
        "in five days": date(2026, 3, 20),
        "february": date(2026, 2, 27),
        "last year": date(2025, 12, 31),
    }
    for name, day in closes.items():
        opportunity(name, customer, expected_close_date=day)
    activity = {
        # 00:30 in Shanghai on the 15th is still the 14th in UTC: it belongs to today.
        "just after midnight": datetime(2026, 3, 15, 0, 30, tzinfo=SHANGHAI),
        "late yesterday": datetime(2026, 3, 14, 23, 59, tzinfo=SHANGHAI),
        "march first": datetime(2026, 3, 1, 0, 0, tzinfo=SHANGHAI),
    }
    for name, moment in activity.items():
        account(name, last_activity_at=moment)

    def deals(op, value=None):
        spec = {"field": "expected_close_date", "op": op, **({} if value is None else {"value": value})}
        return names(spec, Opportunity)

    def accounts(op, value=None):
        spec = {"field": "last_activity_at", "op": op, **({} if value is None else {"value": value})}
        return names(spec)

    with time_machine.travel(datetime(2026, 3, 15, 10, tzinfo=SHANGHAI), tick=False):
        assert deals("in_last_days", 7) == ["last week", "today"]
        assert deals("in_last_days", 6) == ["today"]
        assert deals("in_next_days", 5) == ["in five days", "today"]
        assert deals("today") == ["today"]
        assert deals("this_month") == ["in five days", "last week", "today"]
        assert deals("last_month") == ["february"]
        assert deals("this_quarter") == ["february", "in five days", "last week", "today"]
        assert deals("last_year") == ["last year"]
        assert deals("this_week") == ["today"]  # Monday the 9th to Sunday the 15th
        assert deals("last_week") == ["last week"]
        assert deals("lt", {"var": "today"}) == ["february", "last week", "last year"]
        assert accounts("today") == ["just after midnight"]
        assert accounts("yesterday") == ["late yesterday"]
        assert accounts("in_last_days", 14) == ["just after midnight", "late yesterday", "march first"]
        assert accounts("gte", {"var": "today"}) == ["just after midnight"]
        assert accounts("lt", {"var": "now"}) == ["just after midnight", "late yesterday", "march first"]
    # A clock passed in the context instead of the machine's.
    on_the_first = FilterContext(now=datetime(2026, 3, 1, 12, tzinfo=SHANGHAI))
    assert names({"field": "last_activity_at", "op": "today"}, context=on_the_first) == ["march first"]


def test_variables_come_from_the_acting_user(tenant):
    north, south = add_org_unit(name="华北"), add_org_unit(name="华南")
    zhang, li = rep("zhang@alpha.example", unit=north), rep("li@alpha.example", unit=south)
    mine, theirs = account("mine", owner=zhang), account("theirs", owner=li)
    assert (mine.org_unit, theirs.org_unit) == (north, south)
    as_zhang = FilterContext(user=zhang)
    assert names({"field": "owner", "op": "eq", "value": {"var": "me"}}, context=as_zhang) == ["mine"]
    assert names({"field": "owner", "op": "in", "value": [{"var": "me"}, li.pk]}, context=as_zhang) == [
        "mine",
        "theirs",
    ]
    my_unit = {"field": "org_unit", "op": "eq", "value": {"var": "my_org_unit"}}
    assert names(my_unit, context=FilterContext(user=li)) == ["theirs"]
    # Nobody acting, or a user without a unit: the condition matches nothing, and `not` of it everything.
    assert names({"field": "owner", "op": "eq", "value": {"var": "me"}}) == []
    assert names(my_unit, context=FilterContext(user=rep("nobody@alpha.example"))) == []
    assert names({"not": my_unit}) == ["mine", "theirs"]
    # A variable must fit the field.
    assert errors({"field": "name", "op": "eq", "value": {"var": "me"}}) == {
        "filter.value": ["This variable does not fit this field."]
    }


def test_groups_nest_and_or_not(tenant):
    account("A north", value_class="A", province="北京")
    account("A south", value_class="A", province="广东")
    account("B north", value_class="B", province="北京")
    account("C south", value_class="C", province="广东")
    spec = {
        "or": [
            {
                "and": [
                    {"field": "value_class", "op": "eq", "value": "A"},
                    {"field": "province", "op": "eq", "value": "北京"},
                ]
            },
            {
                "not": {
                    "or": [
                        {"field": "value_class", "op": "in", "value": ["A", "B"]},
                        {"field": "province", "op": "eq", "value": "北京"},
                    ]
                }
            },
        ]
    }
    assert names(spec) == ["A north", "C south"]


def test_bounds_on_depth_and_size(tenant):
    account("x", industry="x")
    condition = {"field": "industry", "op": "eq", "value": "x"}

    def nested(levels):
        spec = condition
        for _ in range(levels - 1):
            spec = {"and": [spec]}
        return spec

    assert names(nested(MAX_DEPTH)) == ["x"]
    too_deep = errors(nested(MAX_DEPTH + 1))
    assert too_deep == {
        "filter" + ".and[0]" * MAX_DEPTH: ["Groups are nested too deeply (at most 8 levels)."]
    }
    # Far deeper than Python's recursion limit: refused by the bounded walk, not by a crash.
    assert list(errors(nested(20000))) == ["filter" + ".and[0]" * MAX_DEPTH]
    assert names({"or": [condition] * MAX_CONDITIONS}) == ["x"]
    assert errors({"or": [condition] * (MAX_CONDITIONS + 1)}) == {
        "filter": ["Too many conditions (at most 100)."]
    }
    spread = {"and": [{"or": [condition] * 60}, {"or": [condition] * 41}]}
    assert errors(spread) == {"filter": ["Too many conditions (at most 100)."]}


def test_bad_input_is_located_field_by_field_in_english_and_chinese(tenant):
    spec = {
        "and": [
            {"field": "nickname", "op": "eq", "value": "x"},
            {"field": "name", "op": "gt", "value": "x"},
            {"field": "value_class", "op": "eq", "value": "Z"},
            {"field": "last_deal_at", "op": "in_last_days", "value": 7},
            {"field": "custom.score", "op": "eq", "value": 1},
            {"field": "owner", "op": "eq", "value": "zhang"},
            {"field": "created_at", "op": "between", "value": ["2026-03-31", "2026-03-01"]},
        ]
    }
    assert errors(spec) == {
        "filter.and[0].field": ["Unknown field."],
        "filter.and[1].op": ["This operator does not apply to a field of this type."],
        "filter.and[2].value": ["Not one of this field's choices."],
        "filter.and[4].field": ["Unknown custom field."],
        "filter.and[5].value": ["Expected the id of a record."],
        "filter.and[6].value": ["The low end is above the high end."],
    }
    assert errors(spec, language="zh-hans") == {
        "filter.and[0].field": ["未知字段。"],
        "filter.and[1].op": ["此运算符不适用于该类型的字段。"],
        "filter.and[2].value": ["不是该字段的可选值。"],
        "filter.and[4].field": ["未知的自定义字段。"],
        "filter.and[5].value": ["应为记录的 ID。"],
        "filter.and[6].value": ["下限大于上限。"],
    }
    wrong_types = {
        "or": [
            {"field": "amount", "op": "eq", "value": "ten"},
            {"field": "expected_close_date", "op": "eq", "value": "31/03/2026"},
            {"field": "name", "op": "contains", "value": 5},
            {"field": "amount", "op": "icontains", "value": "1"},
            {"field": "name", "op": "today"},
        ]
    }
    assert errors(wrong_types, Opportunity) == {
        "filter.or[0].value": ["Expected a number."],
        "filter.or[1].value": ["Expected a date such as 2026-03-31."],
        "filter.or[2].value": ["Expected text."],
        "filter.or[3].op": ["This operator does not apply to a field of this type."],
        "filter.or[4].op": ["This operator does not apply to a field of this type."],
    }


def test_malformed_shapes_never_leak_jsonschema_wording(tenant):
    malformed = {
        "and": [
            {"field": "name", "op": "equals", "value": "x", "extra": 1},
            {"field": "name"},
            "name = x",
            {"field": "name", "op": "between", "value": [1]},
            {"field": "name", "op": "today", "value": 3},
            {"field": "name", "op": "eq", "value": {"var": "boss"}},
            {"field": "name; drop table", "op": "eq", "value": "x"},
            {"field": "name", "op": "is_null", "value": "yes"},
            {"or": []},
        ]
    }
    assert errors(malformed) == {
        "filter.and[0].op": ["Unknown operator."],
        "filter.and[0].extra": ["Unknown key."],
        "filter.and[1].op": ["This is required."],
        "filter.and[2]": ["Expected a condition or a group (and, or, not)."],
        "filter.and[3].value": ["Give exactly 2 values."],
        "filter.and[4].value": ["This operator takes no value."],
        "filter.and[5].value": ["Unknown variable."],
        "filter.and[6].field": ["Not a field path: use name, relation.name or custom.key."],
        "filter.and[7].value": ["Expected true or false."],
        "filter.and[8].or": ["This list is empty."],
    }
    chinese = errors({"field": "name", "op": "equals", "value": "x", "extra": 1}, language="zh-hans")
    assert chinese == {"filter.op": ["未知的运算符。"], "filter.extra": ["未知的键。"]}
    assert errors(["not", "an", "object"], root="criteria") == {
        "criteria": ["Expected a condition or a group (and, or, not)."]
    }


def test_values_are_parameters_so_quotes_and_wildcards_match_literally(tenant):
    for name in ("50% off", "500 units", "O'Brien & Co", "a_b", "axb"):
        account(name, custom={"note": name})
    assert names({"field": "name", "op": "starts_with", "value": "50%"}) == ["50% off"]
    assert names({"field": "name", "op": "contains", "value": "_"}) == ["a_b"]
    assert names({"field": "name", "op": "icontains", "value": "A_B"}) == ["a_b"]
    assert names({"field": "name", "op": "eq", "value": "O'Brien & Co"}) == ["O'Brien & Co"]
    assert names({"field": "name", "op": "eq", "value": "x' OR '1'='1"}) == []
    assert names({"field": "custom.note", "op": "starts_with", "value": "50%"}, resolver=CUSTOM) == [
        "50% off"
    ]
    assert names({"field": "custom.note", "op": "contains", "value": "_"}, resolver=CUSTOM) == ["a_b"]


def test_the_resolver_decides_which_fields_may_be_filtered(tenant):
    zhang = rep("zhang@alpha.example")
    account("mine", owner=zhang, phone="13800000000")
    hidden_phone = ModelFieldResolver(readable=lambda path: path.split(".")[0] != "phone")
    phone = {"field": "phone", "op": "eq", "value": "13800000000"}
    assert names(phone) == ["mine"]
    assert errors(phone, resolver=hidden_phone) == {"filter.field": ["Unknown field."]}
    refused = {
        "or": [
            {"field": "owner.password", "op": "starts_with", "value": "pbkdf2"},
            {"field": "contacts", "op": "is_null", "value": True},  # a reverse relation
            {"field": "custom", "op": "is_null", "value": True},
            {"field": "name.first", "op": "eq", "value": "x"},
            {"field": "tags", "op": "is_null", "value": True},
        ]
    }
    assert errors(refused) == {
        "filter.or[0].field": ["Unknown field."],
        "filter.or[1].field": ["Unknown field."],
        "filter.or[2].field": ["This field cannot be filtered."],
        "filter.or[3].field": ["Only a relation can be followed with a dot."],
        "filter.or[4].field": ["This field cannot be filtered."],
    }
    assert errors({"field": "contacts", "op": "is_null", "value": True}, Opportunity) == {
        "filter.field": ["Unknown field."]  # many-to-many
    }


def test_validation_returns_the_normalised_filter_to_store(tenant):
    spec = {
        "and": [
            {"field": "custom.score", "op": "between", "value": ["9", 10.25]},
            {"field": "custom.visited_at", "op": "gte", "value": "2026-03-10T09:00"},
            {"field": "custom.signed", "op": "this_month"},
            {"not": {"field": "owner", "op": "in", "value": [{"var": "me"}, "7"]}},
        ]
    }
    assert validate_filter(spec, Account, resolver=CUSTOM) == {
        "and": [
            {"field": "custom.score", "op": "between", "value": [9, 10.25]},
            {"field": "custom.visited_at", "op": "gte", "value": "2026-03-10T09:00:00+08:00"},
            {"field": "custom.signed", "op": "this_month"},
            {"not": {"field": "owner", "op": "in", "value": [{"var": "me"}, 7]}},
        ]
    }
    Draft202012Validator.check_schema(FILTER_SCHEMA)


def test_my_team_and_my_subtree_name_the_acting_users_part_of_the_tree(tenant):
    from channels.models import ChannelMember
    from channels.services import add_channel_node

    sales = add_org_unit(name="销售中心")
    east = add_org_unit(name="华东组", parent=sales)
    boss, zhang, wang = (
        rep("boss@alpha.example", unit=sales),
        rep("z@alpha.example", unit=east),
        rep("w@alpha.example", unit=east),
    )
    account("boss's", owner=boss)
    account("zhang's", owner=zhang)
    account("wang's", owner=wang)
    account("nobody's")
    team = {"field": "owner", "op": "eq", "value": {"var": "my_team"}}
    subtree = {"field": "owner", "op": "eq", "value": {"var": "my_subtree"}}
    assert names(team, context=FilterContext(user=zhang)) == ["wang's", "zhang's"]
    assert names(team, context=FilterContext(user=boss)) == ["boss's"]
    assert names(subtree, context=FilterContext(user=boss)) == ["boss's", "wang's", "zhang's"]
    assert names({**subtree, "op": "ne"}, context=FilterContext(user=zhang)) == ["boss's", "nobody's"]
    units = {"field": "org_unit", "op": "in", "value": [{"var": "my_subtree"}]}
    assert names(units, context=FilterContext(user=boss)) == ["boss's", "wang's", "zhang's"]
    # A dealer's team is its node; its subtree the nodes below.
    agent = add_channel_node(name="华东总代", code="hd", level="agent")
    shop = add_channel_node(name="杭州门店", code="hz", level="retailer", parent=agent)
    dealer = rep("dealer@alpha.example")
    ChannelMember.objects.create(user=dealer, node=agent)
    for name, node in (("agent's", agent), ("shop's", shop)):
        placed = Account(name=name)
        placed.place(channel_node=node)
        placed.save()
    nodes = {"field": "channel_node", "op": "eq", "value": {"var": "my_subtree"}}
    assert names(nodes, context=FilterContext(user=dealer)) == ["agent's", "shop's"]
    assert names({**nodes, "value": {"var": "my_team"}}, context=FilterContext(user=dealer)) == ["agent's"]
    # Nobody acting: nothing matches; the variable must fit the field.
    assert names(team) == []
    assert errors({"field": "name", "op": "eq", "value": {"var": "my_team"}}) == {
        "filter.value": ["This variable does not fit this field."]
    }
