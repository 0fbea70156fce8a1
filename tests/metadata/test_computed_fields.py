"""Computed fields end to end through the real services: formulas (stored, ordered, recomputed,
filterable), auto-numbers, validation rules, and roll-ups read in bulk within the reader's scope."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from crm.customers.models import Account
from crm.customers.services import create_account, update_account
from crm.records.services import validated
from crm.sales.services import create_opportunity
from metadata import registry, services
from metadata.computed import recompute_formulas
from metadata.filters import compile_filter
from metadata.models import CustomRecord
from metadata.resolver import resolver_for
from metadata.rollups import rollup_values
from tests.conftest import admin_of

ACCOUNT = "customers.account"


@pytest.fixture
def admin(alpha):
    user = admin_of(alpha)
    with tenant_context(alpha):
        yield user


def field(admin, name, type, object_key=ACCOUNT, **data):
    return services.add_field(
        actor=admin, object_key=object_key, name=name, type=type, label_en=name.title(), **data
    )


def formula(admin, name, expression, object_key=ACCOUNT):
    return field(admin, name, "formula", object_key=object_key, options={"expression": expression})


def account(admin, name="Acme", **custom):
    return create_account(actor=admin, name=name, custom=custom).account


def refused(call, language="en") -> dict:
    with translation.override(language), pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict


def stored(record) -> dict:
    return type(record).objects.get(pk=record.pk).custom


def matching(spec, object_key=ACCOUNT) -> set:
    info = registry.describe(object_key)
    condition = compile_filter(spec, info.model, resolver=resolver_for(object_key))
    return set(info.queryset().filter(condition).values_list("pk", flat=True))


# --- formulas -----------------------------------------------------------------------------------


def test_a_formula_reads_standard_and_custom_fields_and_is_stored_on_every_save(admin):
    field(admin, "employees", "number")
    definition = formula(admin, "label", 'name & " (" & TEXT(employees) & ")"')
    assert definition.options["result_type"] == "text"
    saved = account(admin, employees=12)
    assert stored(saved) == {"employees": 12, "label": "Acme (12)"}
    update_account(actor=admin, account=saved, name="Acme Ltd", custom={"employees": 30})
    assert stored(saved) == {"employees": 30, "label": "Acme Ltd (30)"}


def test_formulas_reading_formulas_are_computed_in_dependency_order(admin):
    field(admin, "price", "decimal")
    field(admin, "quantity", "number")
    formula(admin, "total", "price * quantity")
    formula(admin, "with_tax", "ROUND(total * 1.13, 2)")
    formula(admin, "band", 'IF(with_tax > 100, "big", "small")')
    saved = account(admin, price=12.5, quantity=8)
    assert stored(saved) == {"price": 12.5, "quantity": 8, "total": 100, "with_tax": 113, "band": "big"}


def test_a_formula_cycle_is_refused_at_definition(admin):
    field(admin, "base", "number")
    formula(admin, "a", "base + 1")
    b = formula(admin, "b", "a + 1")
    a = registry.describe(ACCOUNT).field("a").definition
    errors = refused(lambda: services.change_field(actor=admin, field=a, options={"expression": "b + 1"}))
    assert errors == {"options.expression": ["Formulas may not depend on themselves."]}
    errors = refused(lambda: services.change_field(actor=admin, field=b, options={"expression": "b * 2"}))
    assert "options.expression" in errors


def test_a_formula_with_a_type_error_is_refused_with_its_message(admin):
    field(admin, "employees", "number")
    errors = refused(lambda: formula(admin, "bad", 'employees + "x"'))
    assert list(errors) == ["options.expression"]
    errors = refused(lambda: formula(admin, "unknown", "nope + 1"))
    assert errors["options.expression"][0].startswith("Unknown field")


def test_a_formula_failing_on_a_records_data_leaves_the_field_empty(admin):
    field(admin, "revenue", "decimal")
    field(admin, "employees", "number")
    formula(admin, "per_head", "revenue / employees")
    saved = account(admin, revenue=100, employees=0)
    assert "per_head" not in stored(saved)  # division by zero is blank
    update_account(actor=admin, account=saved, custom={"revenue": 100, "employees": 8})
    assert stored(saved)["per_head"] == 12.5


def test_clients_cannot_write_formula_or_auto_number_values(admin):
    field(admin, "code", "auto_number", options={"format": "C-{seq:04d}"})
    formula(admin, "upper_name", "UPPER(name)")
    errors = refused(lambda: account(admin, code="C-9999", upper_name="X"))
    assert errors == {
        "custom.code": ["This field is computed and cannot be set."],
        "custom.upper_name": ["This field is computed and cannot be set."],
    }
    saved = account(admin)
    values = stored(saved)
    # Sending back what was read is no write.
    update_account(actor=admin, account=saved, custom=dict(values))
    assert stored(saved) == values


def test_auto_numbers_follow_their_sequence_on_creation_only(admin):
    from crm.records.models import NumberSequence

    field(admin, "code", "auto_number", options={"format": "C-{seq:04d}"})
    first, second = account(admin, "A"), account(admin, "B")
    assert (stored(first)["code"], stored(second)["code"]) == ("C-0001", "C-0002")
    update_account(actor=admin, account=first, industry="retail")
    assert stored(first)["code"] == "C-0001"
    assert NumberSequence.objects.get(key="field:customers.account.code").last_value == 2


def test_a_formulas_result_type_decides_how_it_is_filtered(admin):
    field(admin, "employees", "number")
    formula(admin, "doubled", "employees * 2")
    formula(admin, "big", "employees >= 100")
    formula(admin, "founded", "DATE(2020, 1, 1) + employees")
    small, large = account(admin, "S", employees=9), account(admin, "L", employees=120)
    assert matching({"field": "custom.doubled", "op": "gt", "value": 100}) == {large.pk}
    assert matching({"field": "custom.doubled", "op": "eq", "value": 18}) == {small.pk}
    assert matching({"field": "custom.big", "op": "eq", "value": True}) == {large.pk}
    assert matching({"field": "custom.founded", "op": "lt", "value": "2020-02-01"}) == {small.pk}


def test_changing_a_formula_recomputes_every_stored_value(admin):
    field(admin, "employees", "number")
    definition = formula(admin, "size_band", 'IF(employees > 50, "large", "small")')
    records = [account(admin, f"A{n}", employees=n * 20) for n in range(1, 6)]
    services.change_field(
        actor=admin, field=definition, options={"expression": 'IF(employees > 70, "large", "small")'}
    )
    assert [stored(r)["size_band"] for r in records] == ["small", "small", "small", "large", "large"]
    assert matching({"field": "custom.size_band", "op": "eq", "value": "large"}) == {
        records[3].pk,
        records[4].pk,
    }


def test_adding_a_formula_fills_existing_records_in_batches(admin):
    field(admin, "employees", "number")
    records = [account(admin, f"A{n}", employees=n) for n in range(5)]
    formula(admin, "next_year", "employees + 1")
    assert [stored(r)["next_year"] for r in records] == [1, 2, 3, 4, 5]
    # Values already right are not rewritten; small batches cover every record.
    info = registry.describe(ACCOUNT)
    assert recompute_formulas(info, batch=2) == 0
    Account.objects.filter(pk=records[0].pk).update(custom={"employees": 7})
    assert recompute_formulas(info, batch=2) == 1
    assert stored(records[0]) == {"employees": 7, "next_year": 8}


# --- validation rules ---------------------------------------------------------------------------


def rule(admin, name, condition, **data):
    return services.add_rule(
        actor=admin,
        object_key=ACCOUNT,
        name=name,
        condition=condition,
        message_en=data.pop("message_en", "Refused."),
        **data,
    )


def test_a_rule_refuses_with_its_message_in_the_users_language_on_its_field(admin):
    field(admin, "discount", "percent")
    rule(
        admin,
        "discount_cap",
        "discount > 30",
        message_en="At most 30 % discount.",
        message_zh="折扣不能超过 30%。",
        field="discount",
    )
    rule(admin, "named", "LEN(name) < 2", message_en="Name too short.", field="name")
    rule(admin, "whole", "discount > 90", message_en="Absurd discount.")
    assert refused(lambda: account(admin, discount=40)) == {"custom.discount": ["At most 30 % discount."]}
    assert refused(lambda: account(admin, "A", discount=95)) == {
        "custom.discount": ["At most 30 % discount."],
        "name": ["Name too short."],
        "__all__": ["Absurd discount."],
    }
    zh = refused(lambda: account(admin, discount=40), language="zh-hans")
    assert zh == {"custom.discount": ["折扣不能超过 30%。"]}
    before = Account.objects.count()
    account(admin, discount=30)
    assert Account.objects.count() == before + 1


def test_rules_see_formula_values_and_apply_on_update(admin):
    field(admin, "price", "decimal")
    formula(admin, "gross", "price * 1.13")
    rule(admin, "gross_cap", "gross > 1000", message_en="Too expensive.", field="gross")
    saved = account(admin, price=100)
    errors = refused(lambda: update_account(actor=admin, account=saved, custom={"price": 1000}))
    assert errors == {"custom.gross": ["Too expensive."]}
    assert stored(saved)["price"] == 100


def test_an_inactive_rule_is_ignored(admin):
    field(admin, "discount", "percent")
    cap = rule(admin, "cap", "discount > 30", field="discount")
    services.change_rule(actor=admin, rule=cap, is_active=False)
    assert stored(account(admin, discount=40))["discount"] == 40


def test_a_rule_failing_on_a_records_data_does_not_break_the_save(admin):
    field(admin, "code", "text")
    rule(admin, "numeric_code", "VALUE(code) > 10", field="code")
    assert stored(account(admin, code="not a number"))["code"] == "not a number"
    assert refused(lambda: account(admin, code="12")) == {"custom.code": ["Refused."]}


def test_rules_are_checked_at_definition(admin):
    assert "condition" in refused(lambda: rule(admin, "r1", "name & 1"))
    assert refused(lambda: rule(admin, "r2", "name")) == {
        "condition": ["A validation rule must be true or false."]
    }
    assert refused(lambda: rule(admin, "r3", "ISBLANK(name)", field="nope")) == {"field": ["Unknown field."]}


# --- roll-ups -----------------------------------------------------------------------------------


def opportunity(admin, parent, amount, name="Deal", **data):
    return create_opportunity(actor=admin, account=parent, name=name, amount=amount, **data)


def rollup(admin, name, object_key=ACCOUNT, **options):
    return field(admin, name, "rollup", object_key=object_key, options=options)


def rolled(parents, user=None, object_key=ACCOUNT):
    return rollup_values(registry.describe(object_key), parents, user=user)


def test_rollups_over_a_standard_child_in_one_query_per_field(admin):
    rollup(admin, "deals", child="sales.opportunity", relation="account", function="count")
    rollup(admin, "pipeline", child="sales.opportunity", relation="account", function="sum", field="amount")
    rollup(admin, "average", child="sales.opportunity", relation="account", function="avg", field="amount")
    rollup(
        admin,
        "big_deals",
        child="sales.opportunity",
        relation="account",
        function="count",
        filter={"field": "amount", "op": "gte", "value": 1000},
    )
    first, second, empty = account(admin, "A"), account(admin, "B"), account(admin, "C")
    opportunity(admin, first, 500)
    opportunity(admin, first, 1500)
    opportunity(admin, second, 1000)
    assert stored(first) == {}  # never stored
    with CaptureQueriesContext(connection) as queries:
        values = rolled([first, second, empty])
    assert len([q for q in queries if "GROUP BY" in q["sql"]]) == 4
    assert values[first.pk] == {
        "deals": 2,
        "pipeline": Decimal(2000),
        "average": Decimal(1000),
        "big_deals": 1,
    }
    assert values[second.pk]["pipeline"] == Decimal(1000)
    assert values[empty.pk] == {"deals": 0, "pipeline": Decimal(0), "average": None, "big_deals": 0}


def test_rollups_over_custom_fields_and_dates(admin):
    field(admin, "margin", "decimal", object_key="sales.opportunity")
    rollup(admin, "margins", child="sales.opportunity", relation="account", function="sum", field="margin")
    rollup(admin, "best", child="sales.opportunity", relation="account", function="max", field="margin")
    rollup(
        admin,
        "next_close",
        child="sales.opportunity",
        relation="account",
        function="min",
        field="expected_close_date",
    )
    parent = account(admin)
    opportunity(admin, parent, 10, custom={"margin": 12.25}, expected_close_date="2026-05-01")
    opportunity(admin, parent, 10, custom={"margin": 7.5}, expected_close_date="2026-04-01")
    opportunity(admin, parent, 10)
    values = rolled([parent])[parent.pk]
    assert values["margins"] == Decimal("19.75")
    assert values["best"] == Decimal("12.25")
    assert str(values["next_close"]) == "2026-04-01"


def test_rollups_over_a_custom_object_through_a_custom_lookup(admin):
    services.create_object(actor=admin, name="visit", label_en="Visit")
    field(admin, "customer", "lookup", object_key="custom.visit", options={"target": ACCOUNT})
    field(admin, "hours", "number", object_key="custom.visit")
    rollup(admin, "visit_hours", child="custom.visit", relation="customer", function="sum", field="hours")
    rollup(admin, "visits", child="custom.visit", relation="customer", function="count")
    parent, other = account(admin, "A"), account(admin, "B")
    visit = registry.describe("custom.visit").definition
    for hours, target in ((2, parent), (3, parent), (4, other)):
        record = CustomRecord(object=visit, name="Visit", custom={"customer": target.pk, "hours": hours})
        record.place(owner=admin)
        validated(record)
        record.save()
    values = rolled([parent, other])
    assert values[parent.pk] == {"visit_hours": Decimal(5), "visits": 2}
    assert values[other.pk] == {"visit_hours": Decimal(4), "visits": 1}


def test_rollups_count_only_children_the_reader_may_see(admin):
    rep = User.objects.create(
        email="rep@alpha.example", full_name="Rep", role=Role.objects.get(code="sales_rep")
    )
    rollup(admin, "pipeline", child="sales.opportunity", relation="account", function="sum", field="amount")
    parent = create_account(actor=admin, name="A", owner=rep).account
    opportunity(admin, parent, 100, owner=rep)
    opportunity(admin, parent, 900)  # the admin's own deal: not the rep's to see
    assert rolled([parent])[parent.pk]["pipeline"] == Decimal(1000)
    assert rolled([parent], user=admin)[parent.pk]["pipeline"] == Decimal(1000)
    assert rolled([parent], user=rep)[parent.pk]["pipeline"] == Decimal(100)


def test_rollup_definitions_are_checked_against_the_registry(admin):
    def errors(**options):
        return refused(lambda: rollup(admin, "r", **options))

    assert errors(child="sales.nothing", relation="account", function="count") == {
        "options.child": ["Name the object whose records are rolled up."]
    }
    assert list(errors(child="sales.opportunity", relation="stage", function="count")) == ["options.relation"]
    assert list(errors(child="sales.opportunity", relation="account", function="sum")) == ["options.field"]
    assert list(errors(child="sales.opportunity", relation="account", function="sum", field="name")) == [
        "options.field"
    ]
    assert list(errors(child="sales.opportunity", relation="account", function="count", field="amount")) == [
        "options.field"
    ]
    bad_filter = errors(
        child="sales.opportunity", relation="account", function="count", filter={"field": "nope", "op": "eq"}
    )
    assert all(key.startswith("options.filter") for key in bad_filter)
    assert "filterable" in refused(
        lambda: field(
            admin,
            "r",
            "rollup",
            filterable=True,
            options={"child": "sales.opportunity", "relation": "account", "function": "count"},
        )
    )
