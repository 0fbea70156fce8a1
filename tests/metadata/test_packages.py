"""Metadata packages: a configured tenant exported, checked by the schema, dry-run into another
tenant without a trace, imported through the services, and then behaving identically; re-imports
are no-ops; conflicts with the target's data, plan limits, missing targets and malformed packages
are refused with located reasons and change nothing."""

import copy
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import translation
from django_tenants.utils import tenant_context
from jsonschema import Draft202012Validator

from access import services as access_services
from access.models import SharingRule
from access.permissions import can
from accounts.models import Role, User
from crm.customers.models import Account
from crm.customers.services import create_account
from crm.records import audit
from crm.records.services import validated
from crm_platform.errors import PermissionDenied
from metadata import registry, services
from metadata.models import CustomRecord, FieldDefinition, ObjectDefinition
from metadata.packages import (
    PACKAGE_SCHEMA,
    PackageRefused,
    PlanChanged,
    apply_package,
    diff_package,
    export_package,
)
from metadata.views.models import SavedView
from metadata.views.run import run_view
from metadata.views.services import create_view, default_view_for, views_for
from tests.conftest import admin_of

ACCOUNT = "customers.account"
TIER_CHOICES = {"choices": [{"value": "gold", "label_zh": "金"}, {"value": "silver"}]}


def configure(admin):
    """Alpha's configuration: two custom objects with lookups between them and to accounts, a
    select, a decimal, a formula, a validation rule and a changed role permission."""
    services.create_object(actor=admin, name="project", label_en="Project", label_zh="项目")
    services.create_object(actor=admin, name="milestone", label_en="Milestone")
    add = services.add_field
    add(actor=admin, object_key=ACCOUNT, name="tier", type="select", label_en="Tier", options=TIER_CHOICES)
    add(actor=admin, object_key=ACCOUNT, name="budget", type="decimal", label_en="Budget", options={"min": 0})
    add(
        actor=admin, object_key=ACCOUNT, name="budget_k", type="formula", label_en="Budget (k)",
        options={"expression": "budget / 1000"},
    )  # fmt: skip
    add(
        actor=admin, object_key="custom.project", name="account", type="lookup", label_en="Account",
        required=True, options={"target": ACCOUNT},
    )  # fmt: skip
    add(actor=admin, object_key="custom.project", name="hours", type="number", label_en="Hours")
    add(
        actor=admin, object_key="custom.milestone", name="project", type="lookup", label_en="Project",
        options={"target": "custom.project"},
    )  # fmt: skip
    services.add_rule(
        actor=admin, object_key=ACCOUNT, name="gold_needs_budget",
        condition='tier = "gold" AND budget < 1000',
        message_en="Gold accounts need a budget of 1000 or more.", message_zh="金牌客户预算至少 1000。",
        field="budget",
    )  # fmt: skip
    access_services.set_object_permission(
        actor=admin, role=Role.objects.get(code="sales_rep"), object=ACCOUNT,
        actions=["create", "read"], fields={"name": "edit", "custom": "read"},
    )  # fmt: skip


@pytest.fixture
def package(alpha):
    """Alpha configured and exported; the tests then work in beta."""
    admin = admin_of(alpha)
    with tenant_context(alpha):
        configure(admin)
        return export_package(admin)


def in_beta(beta):
    return tenant_context(beta)


def state() -> tuple:
    """Everything an import could change, comparable before and after."""
    exported = export_package(None)
    exported.pop("exported_at")
    return exported, registry.current_version()


def outcome(call):
    try:
        return ("saved", call())
    except ValidationError as error:
        return ("refused", error.message_dict)


ACCOUNT_INPUTS = [
    {"tier": "gold", "budget": 2500},
    {"tier": "gold", "budget": 10},
    {"tier": "bronze"},
    {"budget": -1},
    {"budget": 12.345},
    {"budget_k": 3},
    {"colour": "red"},
]


def behaviour(admin, tenant) -> dict:
    """How the tenant treats the same inputs: accounts, projects, and what the registry says."""
    with tenant_context(tenant), translation.override("en"):
        accounts = [
            outcome(
                lambda values=values: create_account(actor=admin, name="Acme", custom=values).account.custom
            )
            for values in ACCOUNT_INPUTS
        ]
        target = create_account(actor=admin, name="Target").account
        project = ObjectDefinition.objects.get(name="project")

        def save_project(custom):
            record = CustomRecord(object=project, name="P", custom=custom)
            record.place(owner=admin)
            validated(record)
            return record.custom

        projects = [
            outcome(lambda: save_project({"hours": 3})),
            outcome(lambda: save_project({"account": target.pk, "hours": 1.5})),
            outcome(lambda: save_project({"account": target.pk, "hours": 4})),
        ]
        described = {
            info.key: [(f.name, f.type, f.required, f.choices, f.target, f.read_only) for f in info.fields]
            for info in registry.objects()
            if info.key in (ACCOUNT, "custom.project", "custom.milestone")
        }
        projects = [(kind, _without_ids(value, target.pk)) for kind, value in projects]
        return {"accounts": accounts, "projects": projects, "registry": described}


def _without_ids(value, account_id):
    # The two tenants' target accounts have different ids; the rest must match exactly.
    return {k: ("<target>" if v == account_id else v) for k, v in value.items()}


# --- export -------------------------------------------------------------------------------------


def test_export_is_schema_valid_json_with_natural_keys_only(package, alpha):
    Draft202012Validator.check_schema(PACKAGE_SCHEMA)
    Draft202012Validator(PACKAGE_SCHEMA).validate(package)
    assert json.loads(json.dumps(package)) == package
    assert package["format"] == "crm-metadata" and package["version"] == 1
    assert package["source"]["tenant"] == "alpha" and package["source"]["metadata_version"] > 1
    assert [o["name"] for o in package["objects"]] == ["milestone", "project"]
    fields = {f"{f['object']}.{f['name']}": f for f in package["fields"]}
    assert fields["custom.milestone.project"]["options"] == {"target": "custom.project"}
    assert fields["customers.account.budget_k"]["options"]["result_type"] == "number"
    assert not {"id", "index_status", "index_error", "deleted_at"} & set(fields["customers.account.tier"])
    sales_rep = next(role for role in package["roles"] if role["code"] == "sales_rep")
    assert sales_rep["permissions"] == [
        {"object": ACCOUNT, "actions": ["create", "read"], "fields": {"name": "edit", "custom": "read"}}
    ]
    # Untouched roles carry no permission rows: the shipped defaults are the same everywhere.
    assert next(role for role in package["roles"] if role["code"] == "finance")["permissions"] == []
    assert package["validation_rules"][0]["name"] == "gold_needs_budget"


def test_only_administrators_export_or_import(package, beta):
    with in_beta(beta):
        rep = User.objects.create_user(
            "rep@beta.example", "x", full_name="Rep", role=Role.objects.get(code="sales_rep")
        )
        for call in (
            lambda: export_package(rep),
            lambda: diff_package(rep, package),
            lambda: apply_package(rep, package),
        ):
            with pytest.raises(PermissionDenied):
                call()


# --- dry run and import -------------------------------------------------------------------------


def test_the_dry_run_lists_creations_and_changes_and_writes_nothing(package, beta):
    admin = admin_of(beta)
    with in_beta(beta):
        before = state()
        plan = diff_package(admin, package)
        assert state() == before
        assert ObjectDefinition.objects.count() == 0 and FieldDefinition.objects.count() == 0
    assert plan.ok and not plan.applied
    assert [e.key for e in plan.of("create", "objects")] == ["custom.milestone", "custom.project"]
    assert {e.key for e in plan.of("create", "fields")} == {
        "customers.account.tier",
        "customers.account.budget",
        "customers.account.budget_k",
        "custom.project.account",
        "custom.project.hours",
        "custom.milestone.project",
    }
    assert [e.key for e in plan.of("create", "validation_rules")] == [f"{ACCOUNT}.gold_needs_budget"]
    (role,) = plan.of("change", "roles")
    assert role.key == "sales_rep"
    assert role.changes == {
        f"permissions[{ACCOUNT}]": [
            {"actions": ["create", "read", "update"], "fields": None},
            {"actions": ["create", "read"], "fields": {"name": "edit", "custom": "read"}},
        ]
    }
    assert {e.key for e in plan.of("unchanged", "roles")} >= {"admin", "finance"}


def test_after_the_import_beta_behaves_exactly_like_alpha(package, alpha, beta):
    admin = admin_of(beta)
    with in_beta(beta):
        version = registry.current_version()[0]
        plan = apply_package(admin, package, expected=diff_package(admin, package))
        assert plan.applied and plan.ok
        assert registry.current_version()[0] > version
        permission = Role.objects.get(code="sales_rep").object_permissions.get(object=ACCOUNT)
        assert (permission.can_create, permission.can_update, permission.fields) == (
            True,
            False,
            {"name": "edit", "custom": "read"},
        )
    in_alpha, in_beta_ = behaviour(admin_of(alpha), alpha), behaviour(admin, beta)
    assert in_alpha == in_beta_
    # The inputs do exercise both outcomes, the rule, the formula and the lookup.
    assert in_alpha["accounts"][0] == ("saved", {"tier": "gold", "budget": 2500, "budget_k": 2.5})
    assert in_alpha["accounts"][1] == (
        "refused",
        {"custom.budget": ["Gold accounts need a budget of 1000 or more."]},
    )
    assert in_alpha["projects"][0][0] == "refused" and in_alpha["projects"][2][0] == "saved"


def test_importing_the_same_package_again_is_a_no_op(package, beta):
    admin = admin_of(beta)
    with in_beta(beta):
        apply_package(admin, package)
        again = export_package(admin)
        plan = diff_package(admin, package)
        assert plan.is_noop, [e.as_dict() for e in plan.entries if e.action != "unchanged"]
        version = registry.current_version()
        assert apply_package(admin, package).is_noop
        assert registry.current_version() == version
    assert {k: v for k, v in again.items() if k not in ("exported_at", "source")} == {
        k: v for k, v in package.items() if k not in ("exported_at", "source")
    }


def test_a_changed_field_is_a_change_and_a_missing_one_only_reported(package, beta):
    admin = admin_of(beta)
    with in_beta(beta):
        apply_package(admin, package)
        changed = copy.deepcopy(package)
        tier = next(f for f in changed["fields"] if f["name"] == "tier")
        tier["label_zh"] = "等级"
        changed["fields"] = [f for f in changed["fields"] if f["name"] != "hours"]
        plan = apply_package(admin, changed)
        assert [(e.key, e.changes) for e in plan.of("change")] == [
            ("customers.account.tier", {"label_zh": ["", "等级"]})
        ]
        assert [e.key for e in plan.of("absent")] == ["custom.project.hours"]
        assert FieldDefinition.objects.get(name="hours").deleted_at is None


def test_a_package_the_targets_data_refuses_is_refused_with_a_report_and_changes_nothing(package, beta):
    admin = admin_of(beta)
    with in_beta(beta):
        services.add_field(actor=admin, object_key=ACCOUNT, name="tier", type="text", label_en="Tier")
        create_account(actor=admin, name="Old", custom={"tier": "platinum"})
        before = state()
        plan = diff_package(admin, package)
        (refused,) = plan.refused
        assert refused.key == "customers.account.tier" and refused.location.startswith("fields[")
        assert refused.changes["type"] == ["text", "select"]
        assert refused.report["records"] == 1 and refused.report["examples"][0]["value"] == "platinum"
        assert refused.errors == {refused.location: ["1 records hold values this definition would refuse."]}
        with pytest.raises(PackageRefused) as raised:
            apply_package(admin, package)
        assert raised.value.plan.errors() == plan.errors()
        assert state() == before
        assert not ObjectDefinition.objects.exists()


def test_a_lookup_to_an_object_in_neither_tenant_nor_package_is_refused(package, beta):
    broken = copy.deepcopy(package)
    broken["objects"] = [o for o in broken["objects"] if o["name"] != "project"]
    admin = admin_of(beta)
    with in_beta(beta):
        plan = diff_package(admin, broken)
    index = next(i for i, f in enumerate(broken["fields"]) if f["name"] == "project")
    assert plan.errors()[f"fields[{index}].options.target"] == [
        "custom.project exists neither in this CRM nor in the package."
    ]


def test_plan_limits_of_the_target_refuse_the_import(package, beta):
    crowded = copy.deepcopy(package)
    crowded["objects"] += [{"name": f"extra_{n}", "label_en": f"Extra {n}"} for n in range(2)]
    beta.plan = "free"  # three custom objects
    admin = admin_of(beta)
    with in_beta(beta):
        plan = diff_package(admin, crowded)
        assert [e.key for e in plan.refused] == ["custom.extra_1"]
        assert plan.errors() == {"objects[3]": ["The Free plan allows 3 custom objects; you have 3."]}
        with pytest.raises(PackageRefused):
            apply_package(admin, crowded)
        assert not ObjectDefinition.objects.exists()


def test_an_approved_plan_no_longer_matching_the_tenant_is_refused(package, beta):
    admin = admin_of(beta)
    with in_beta(beta):
        approved = diff_package(admin, package)
        services.create_object(actor=admin, name="project", label_en="Project")
        with pytest.raises(PlanChanged):
            apply_package(admin, package, expected=approved)
        assert list(ObjectDefinition.objects.values_list("name", flat=True)) == ["project"]


# --- malformed packages -------------------------------------------------------------------------


def refused_shape(admin, package, language="en") -> dict:
    with translation.override(language), pytest.raises(ValidationError) as raised:
        diff_package(admin, package)
    return raised.value.message_dict


def test_malformed_packages_are_refused_with_located_translated_errors(package, beta):
    admin = admin_of(beta)
    bad = copy.deepcopy(package)
    bad["fields"][3]["type"] = "colour"
    del bad["fields"][1]["name"]
    bad["objects"][0]["icon"] = "star"
    bad["roles"][0]["data_level"] = 3
    with in_beta(beta):
        errors = refused_shape(admin, bad)
        assert errors["fields[3].type"][0].startswith("Not one of the allowed values: text, long_text")
        assert errors["fields[1].name"] == ["This is required."]
        assert errors["objects[0].icon"] == ["Unknown key."]
        assert "roles[0].data_level" in errors
        assert refused_shape(admin, {**package, "version": 2}) == {
            "version": ["This CRM reads package version 1."]
        }
        assert refused_shape(admin, {"format": "zip"}) == {
            "format": ["Not a CRM metadata package."],
            "version": ["This is required."],
        }
        assert set(refused_shape(admin, {"format": "zip"}, "zh-hans")) == {"format", "version"}
        twice = copy.deepcopy(package)
        twice["objects"].append(twice["objects"][0])
        assert refused_shape(admin, twice) == {
            "objects[2]": ["custom.milestone appears twice in the package."]
        }
        assert refused_shape(admin, []) == {"package": ["Expected an object."]}
        assert not ObjectDefinition.objects.exists()


# --- the command --------------------------------------------------------------------------------


def test_the_command_exports_to_a_file_and_imports_after_a_dry_run(package, alpha, beta, tmp_path):
    path = tmp_path / "alpha.json"
    call_command("metadata_package", "export", "alpha", str(path))
    assert json.loads(path.read_text())["objects"] == package["objects"]
    out = io.StringIO()
    call_command("metadata_package", "import", "beta", str(path), "--dry-run", stdout=out)
    assert "create    objects          custom.project" in out.getvalue()
    assert "Dry run: nothing changed." in out.getvalue()
    with in_beta(beta):
        assert not ObjectDefinition.objects.exists()
    call_command("metadata_package", "import", "beta", str(path), stdout=io.StringIO())
    with in_beta(beta):
        assert set(ObjectDefinition.objects.values_list("name", flat=True)) == {"project", "milestone"}


# --- sharing rules ------------------------------------------------------------------------------


def east_unit():
    from accounts.services import add_org_unit

    return add_org_unit(name="East", parent=add_org_unit(name="Sales"))


def test_sharing_rules_travel_with_their_grantee_by_path_of_names(package, alpha, beta):
    from access.sharing import create_sharing_rule

    with tenant_context(alpha):
        create_sharing_rule(
            actor=admin_of(alpha), object=ACCOUNT, name="Gold to East", org_unit=east_unit(),
            criteria={"field": "custom.tier", "op": "eq", "value": "gold"}, include_below=True,
        )  # fmt: skip
        shared = export_package(None)
    assert shared["sharing_rules"][0]["grantee"] == {"org_unit": "Sales/East"}
    admin = admin_of(beta)
    with in_beta(beta):
        plan = diff_package(admin, shared)
        assert plan.errors() == {"sharing_rules[0].grantee.org_unit": ["Not found in this CRM: Sales/East."]}
        unit = east_unit()
        apply_package(admin, shared)
        rule = SharingRule.objects.get()
        assert (rule.org_unit_id, rule.include_below, rule.criteria["value"]) == (unit.pk, True, "gold")
        assert diff_package(admin, shared).is_noop


# --- roles --------------------------------------------------------------------------------------


def test_a_custom_role_is_created_in_the_target_with_its_settings_and_permissions(alpha, beta):
    with tenant_context(alpha):
        admin = admin_of(alpha)
        role = access_services.create_role(
            actor=admin, code="key_accounts", labels={"en": "Key accounts", "zh-hans": "大客户"},
            data_level="subtree", max_discount_percent="12.5",
        )  # fmt: skip
        access_services.set_object_permission(
            actor=admin, role=role, object=ACCOUNT, actions=["read", "update"], fields={"name": "edit"}
        )
        shared = export_package(admin)
    assert next(item for item in shared["roles"] if item["code"] == "key_accounts") == {
        "code": "key_accounts",
        "labels": {"en": "Key accounts", "zh-hans": "大客户"},
        "data_level": "subtree",
        "is_portal": False,
        "max_discount_percent": "12.50",
        "permissions": [{"object": ACCOUNT, "actions": ["read", "update"], "fields": {"name": "edit"}}],
    }
    admin = admin_of(beta)
    with in_beta(beta):
        assert [e.key for e in diff_package(admin, shared).of("create", "roles")] == ["key_accounts"]
        apply_package(admin, shared)
        made = Role.objects.get(code="key_accounts")
        assert (made.data_level, made.max_discount_percent, made.is_system, made.labels["zh-hans"]) == (
            "subtree",
            Decimal("12.50"),
            False,
            "大客户",
        )
        holder = User.objects.create(email="ka@beta.example", full_name="KA", role=made)
        assert can(holder, ACCOUNT, "update") and not can(holder, ACCOUNT, "delete")
        assert audit.history(made)[0].user_id == admin.pk
        assert diff_package(admin, shared).is_noop


def test_a_changed_setting_of_a_shipped_role_is_imported_and_audited(alpha, beta):
    with tenant_context(alpha):
        access_services.change_role(
            actor=admin_of(alpha), role=Role.objects.get(code="sales_rep"), max_discount_percent=8,
            data_level="unit",
        )  # fmt: skip
        shared = export_package(None)
    admin = admin_of(beta)
    with in_beta(beta):
        (entry,) = diff_package(admin, shared).of("change", "roles")
        assert (entry.key, entry.changes) == (
            "sales_rep",
            {"data_level": ["own", "unit"], "max_discount_percent": ["5.00", "8.00"]},
        )
        apply_package(admin, shared)
        sales_rep = Role.objects.get(code="sales_rep")
        assert (sales_rep.data_level, sales_rep.max_discount_percent) == ("unit", Decimal("8.00"))
        # Shipped roles predate their trail, so this first event has no diff to show, only its author.
        assert [(c.action, c.user_id) for c in audit.history(sales_rep)] == [("updated", admin.pk)]
        assert diff_package(admin, shared).is_noop
        # What the services refuse is refused in the plan, located in the package.
        index = next(i for i, item in enumerate(shared["roles"]) if item["code"] == "sales_rep")
        shared["roles"][index] |= {"is_portal": True}
        assert diff_package(admin, shared).errors() == {
            f"roles[{index}].is_portal": ["A shipped role cannot move into or out of the portal."]
        }


# --- saved views --------------------------------------------------------------------------------


def share_views(admin):
    """Alpha's shared views of accounts: the sales reps' default, one for everyone, one for a team;
    and a private one, which stays home."""
    sales_rep = Role.objects.get(code="sales_rep")

    def view(name, **data):
        return create_view(actor=admin, object_key=ACCOUNT, name=name, label_en=name.title(), **data)

    view(
        "class_a", label_zh="A 类", visibility="role", role=sales_rep, is_default=True,
        columns=["name", "value_class"], filter={"field": "value_class", "op": "eq", "value": "A"},
        sort=[{"field": "name"}],
    )  # fmt: skip
    view("by_name", visibility="everyone", columns=["name"], sort=[{"field": "name", "direction": "desc"}])
    view("east", visibility="team", org_unit=east_unit())
    view("mine")


def rep_sees(key: str = ACCOUNT) -> tuple:
    """What a new sales rep is offered: the views they may pick, and the one a list opens with."""
    rep = User.objects.create(
        email=f"rep.{User.objects.count()}@views.example", full_name="Rep",
        role=Role.objects.get(code="sales_rep"),
    )  # fmt: skip
    return rep, [view.name for view in views_for(rep, key)], default_view_for(rep, key).name


def test_shared_views_travel_and_open_the_same_way_in_the_target(alpha, beta):
    with tenant_context(alpha):
        share_views(admin_of(alpha))
        shared = export_package(None)
        _rep, *in_alpha = rep_sees()
    assert [(v["name"], v["visibility"], v.get("role"), v.get("org_unit")) for v in shared["views"]] == [
        ("by_name", "everyone", None, None),
        ("class_a", "role", "sales_rep", None),
        ("east", "team", None, "Sales/East"),
    ]
    assert shared["views"][1]["filter"] == {"field": "value_class", "op": "eq", "value": "A"}
    assert shared["views"][1]["sort"] == [{"field": "name", "direction": "asc"}]
    admin = admin_of(beta)
    with in_beta(beta):
        assert diff_package(admin, shared).errors() == {
            "views[2].org_unit": ["Not found in this CRM: Sales/East."]
        }
        east_unit()
        plan = apply_package(admin, shared)
        assert [e.key for e in plan.of("create", "views")] == [
            f"{ACCOUNT}.{n}" for n in ("by_name", "class_a", "east")
        ]
        assert set(SavedView.objects.values_list("owner_id", flat=True)) == {admin.pk}
        rep, *in_beta_ = rep_sees()
        assert in_beta_ == in_alpha == [["by_name", "class_a"], "class_a"]
        for name, value_class in (("Acme", "A"), ("Bolt", "B"), ("Core", "A")):
            record = Account(name=name, value_class=value_class)
            record.place(owner=rep)
            record.save()
        page = run_view(rep, default_view_for(rep, ACCOUNT))
        assert [row["name"] for row in page.rows] == ["Acme", "Core"]
        assert diff_package(admin, shared).is_noop


def test_a_changed_view_is_changed_a_pruned_one_deleted_and_two_with_one_name_refused(alpha, beta):
    with tenant_context(alpha):
        share_views(admin_of(alpha))
        shared = export_package(None)
    admin = admin_of(beta)
    with in_beta(beta):
        east_unit()
        apply_package(admin, shared)
        shared["views"][0] |= {"label_zh": "按名称", "columns": ["name", "value_class"]}
        plan = apply_package(admin, shared)
        assert [(e.key, e.changes) for e in plan.of("change")] == [
            (
                f"{ACCOUNT}.by_name",
                {"label_zh": ["", "按名称"], "columns": [["name"], ["name", "value_class"]]},
            )
        ]
        assert SavedView.objects.get(name="by_name").columns == ["name", "value_class"]
        kept = {**shared, "views": shared["views"][:2]}
        pruned = apply_package(admin, kept, prune=True)
        assert [(e.key, e.action) for e in pruned.entries if e.action != "unchanged"] == [
            (f"{ACCOUNT}.east", "delete")
        ]
        assert not SavedView.objects.filter(name="east").exists()
        create_view(actor=admin, object_key=ACCOUNT, name="by_name", label_en="Twin", visibility="everyone")
        message = (
            "Shared views “By_Name”, “Twin” of customers.account share the name by_name; rename all but one."
        )
        for call in (lambda: export_package(admin), lambda: diff_package(admin, shared)):
            with pytest.raises(ValidationError) as raised:
                call()
            assert raised.value.message_dict == {"views": [message]}
