"""Definition changes proven against stored data: changes the data allows are made (values
converted where the type changes), changes it does not are refused with a report of the records."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.customers.models import Account
from crm.customers.services import create_account, update_account
from metadata import registry, services
from metadata.changes import DefinitionConflict
from metadata.filters import compile_filter
from metadata.models import FieldDefinition
from metadata.resolver import resolver_for
from tests.conftest import admin_of

ACCOUNT = "customers.account"
CHOICES = [{"value": "gold"}, {"value": "silver"}, {"value": "bronze"}]


@pytest.fixture
def admin(alpha):
    user = admin_of(alpha)
    with tenant_context(alpha), translation.override("en"):
        yield user


def field(admin, name, type, **data):
    return services.add_field(
        actor=admin, object_key=ACCOUNT, name=name, type=type, label_en=name.title(), **data
    )


def accounts(admin, name, *values) -> list[Account]:
    """One account per value of custom field `name` (None: no value)."""
    custom = [{} if value is None else {name: value} for value in values]
    return [create_account(actor=admin, name=f"A{n}", custom=c).account for n, c in enumerate(custom)]


def change(admin, definition, **data) -> FieldDefinition:
    return services.change_field(actor=admin, field=definition, **data)


def conflict(admin, definition, **data) -> DefinitionConflict:
    before = FieldDefinition.objects.get(pk=definition.pk)
    with pytest.raises(DefinitionConflict) as raised:
        change(admin, definition, **data)
    after = FieldDefinition.objects.get(pk=definition.pk)
    assert (after.type, after.options, after.unique, after.required) == (
        before.type,
        before.options,
        before.unique,
        before.required,
    ), "a refused change is not made"
    return raised.value


def values(records, name) -> list:
    return [Account.objects.get(pk=r.pk).custom.get(name) for r in records]


# --- choices, labels, bounds ----------------------------------------------------------------------


def test_adding_a_choice_and_renaming_labels_are_always_allowed(admin):
    tier = field(admin, "tier", "select", options={"choices": CHOICES[:2]})
    records = accounts(admin, "tier", "gold", "silver")
    change(admin, tier, options={"choices": CHOICES}, label_en="Level", label_zh="等级")
    info = registry.describe(ACCOUNT)
    assert info.field("tier").choices == ("gold", "silver", "bronze")
    assert info.field("tier").label_en == "Level"
    assert values(records, "tier") == ["gold", "silver"]
    accounts(admin, "tier", "bronze")


def test_removing_a_choice_in_use_is_refused_with_the_records_that_hold_it(admin):
    tier = field(admin, "tier", "select", options={"choices": CHOICES})
    records = accounts(admin, "tier", "gold", "bronze", "silver", "bronze")
    refused = conflict(admin, tier, options={"choices": CHOICES[:2]})
    assert refused.report["records"] == 2
    assert [(e["id"], e["value"]) for e in refused.report["examples"]] == [
        (records[1].pk, "bronze"),
        (records[3].pk, "bronze"),
    ]
    assert refused.report["examples"][0]["problem"] == "Not one of this field's choices."
    # A choice nobody holds may go.
    update_account(actor=admin, account=records[2], custom={"tier": "gold"})
    change(admin, tier, options={"choices": [CHOICES[0], CHOICES[2]]})


@pytest.mark.parametrize(
    ("type", "options", "stored", "tighter", "problem"),
    [
        (
            "text",
            {"max_length": 20},
            "a long company code",
            {"max_length": 5},
            "Too long (at most 5 characters).",
        ),
        ("text", {}, "abc-1", {"pattern": "^[a-z]+$"}, "Does not match the required format."),
        ("number", {"max": 1000}, 800, {"max": 500}, "Must be at most 500."),
        ("decimal", {"decimal_places": 2}, 1.25, {"decimal_places": 1}, "At most 1 decimal places."),
    ],
)
def test_tightening_below_stored_data_is_refused_with_a_report(
    admin, type, options, stored, tighter, problem
):
    definition = field(admin, "f", type, options=options)
    records = accounts(admin, "f", stored, None)
    refused = conflict(admin, definition, options=tighter)
    assert refused.report == {
        "records": 1,
        "examples": [{"id": records[0].pk, "value": stored, "problem": problem}],
    }
    assert str(refused) == "1 records hold values this definition would refuse."


def test_tightening_the_data_satisfies_is_allowed(admin):
    code = field(admin, "code", "text", options={"max_length": 20})
    accounts(admin, "code", "abc", "xyz")
    change(admin, code, options={"max_length": 3, "pattern": "^[a-z]+$"})


# --- type changes -------------------------------------------------------------------------------


def test_text_to_number_converts_numeric_strings_to_numbers(admin):
    code = field(admin, "erp__code", "text")  # "__" in a name must not read as a JSON path
    records = accounts(admin, "erp__code", "12", " 7 ", "0042", None)
    change(admin, code, type="number")
    assert values(records, "erp__code") == [12, 7, 42, None]
    info = registry.describe(ACCOUNT)
    spec = {"field": "custom.erp__code", "op": "gt", "value": 10}
    matched = Account.objects.filter(compile_filter(spec, Account, resolver=resolver_for(ACCOUNT)))
    assert set(matched.values_list("pk", flat=True)) == {records[0].pk, records[2].pk}
    assert info.field("erp__code").type == "number"


def test_text_to_number_is_refused_when_one_value_is_not_a_number(admin):
    code = field(admin, "code", "text")
    records = accounts(admin, "code", "12", "12b", "NaN", "3.5")
    refused = conflict(admin, code, type="number")
    assert refused.report["records"] == 3
    assert [(e["id"], e["value"]) for e in refused.report["examples"]] == [
        (records[1].pk, "12b"),
        (records[2].pk, "NaN"),
        (records[3].pk, "3.5"),
    ]
    assert values(records, "code") == ["12", "12b", "NaN", "3.5"]
    update_account(actor=admin, account=records[1], custom={"code": "12.25"})
    update_account(actor=admin, account=records[2], custom={"code": "1"})
    change(admin, code, type="decimal")
    assert values(records, "code") == [12, 12.25, 1, 3.5]


def test_number_to_text_writes_numbers_as_text(admin):
    amount = field(admin, "amount", "decimal")
    records = accounts(admin, "amount", 12, 12.5, 0.25)
    change(admin, amount, type="text")
    assert values(records, "amount") == ["12", "12.5", "0.25"]


def test_select_to_multi_select_turns_values_into_lists(admin):
    tier = field(admin, "tier", "select", options={"choices": CHOICES})
    records = accounts(admin, "tier", "gold", None)
    change(admin, tier, type="multi_select")
    assert values(records, "tier") == [["gold"], None]


def test_a_stored_field_with_values_cannot_become_computed(admin):
    score = field(admin, "score", "number")
    accounts(admin, "score", 1)
    refused = conflict(admin, score, type="formula", options={"expression": "1 + 1"})
    assert refused.report["records"] == 1


# --- unique and required --------------------------------------------------------------------------


def test_unique_is_refused_while_records_share_a_value(admin):
    code = field(admin, "code", "text")
    records = accounts(admin, "code", "E-1", "E-2", "E-1", "E-1", None, None)
    refused = conflict(admin, code, unique=True)
    assert refused.report == {"records": 3, "examples": [{"value": "E-1", "count": 3}]}
    for record, value in zip(records[2:4], ("E-3", "E-4"), strict=True):
        update_account(actor=admin, account=record, custom={"code": value})
    change(admin, code, unique=True)  # records without a value do not clash


def test_required_is_refused_while_records_lack_a_value_unless_there_is_a_default(admin):
    region = field(admin, "region", "text")
    records = accounts(admin, "region", "华东", None, None)
    refused = conflict(admin, region, required=True)
    assert refused.report == {"records": 2, "examples": []}
    change(admin, region, required=True, default="华北")
    assert values(records, "region") == ["华东", "华北", "华北"]
    # Every record can be saved again under the new definition.
    update_account(actor=admin, account=records[1], industry="retail")


# --- delete, restore, purge ---------------------------------------------------------------------


def test_a_deleted_field_keeps_its_values_out_of_validation_until_restored_or_purged(admin):
    region = field(admin, "region", "text", required=True, default="华东")
    kept = accounts(admin, "region", "华南")[0]
    services.delete_field(actor=admin, field=region)
    assert registry.describe(ACCOUNT).field("region") is None
    # No longer required nor accepted, yet its value stays with the record through saves.
    fresh = create_account(actor=admin, name="New").account
    assert Account.objects.get(pk=fresh.pk).custom == {}
    with pytest.raises(ValidationError) as raised:
        update_account(actor=admin, account=kept, custom={"region": "x"})
    assert raised.value.message_dict == {"custom.region": ["Unknown field."]}
    update_account(actor=admin, account=kept, custom={})
    assert values([kept], "region") == ["华南"]

    services.restore_field(actor=admin, field=region)
    assert registry.describe(ACCOUNT).field("region") is not None
    assert values([kept], "region") == ["华南"]
    spec = {"field": "custom.region", "op": "eq", "value": "华南"}
    assert list(Account.objects.filter(compile_filter(spec, Account, resolver=resolver_for(ACCOUNT)))) == [
        kept
    ]

    services.delete_field(actor=admin, field=region)
    assert services.purge_field(actor=admin, field=region) == 1
    assert values([kept], "region") == [None]
    assert not FieldDefinition.objects.filter(pk=region.pk).exists()


def test_a_record_holding_a_deleted_fields_value_saves_without_sending_custom(admin):
    region = field(admin, "region", "text")
    kept = accounts(admin, "region", "华南")[0]
    services.delete_field(actor=admin, field=region)
    update_account(actor=admin, account=kept, industry="retail")
    assert values([kept], "region") == ["华南"]


def test_a_conflict_answers_as_a_problem_with_its_report(admin):
    tier = field(admin, "tier", "select", options={"choices": CHOICES})
    record = accounts(admin, "tier", "bronze")[0]
    problem = conflict(admin, tier, options={"choices": CHOICES[:1]}).as_problem()
    assert problem["status"] == 409
    assert problem["type"].endswith("definition-conflict")
    assert problem["detail"] == "1 records hold values this definition would refuse."
    assert problem["report"] == {
        "records": 1,
        "examples": [{"id": record.pk, "value": "bronze", "problem": "Not one of this field's choices."}],
    }
