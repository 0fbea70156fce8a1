"""Import and export of records through the registry: custom fields and custom objects travel like
standard ones, exports keep to the reader's scope, fields and rights, imports go through the
services row by row, and large files run on a real worker with progress."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import tenant_context

from access import services as access_services
from access.principal import forget
from accounts.models import Role, User
from crm.customers.models import Account
from crm.customers.services import create_account
from crm_platform.errors import PermissionDenied
from metadata import records, services
from metadata.models import CustomRecord
from metadata.transfer import export_records, import_records, start_import
from metadata.transfer.models import ImportJob
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD, admin_of, wait_until

ACCOUNT, PROJECT = "customers.account", "custom.project"
TIERS = {"choices": [{"value": "gold"}, {"value": "silver"}]}
TAGS = {"choices": [{"value": "vip"}, {"value": "new"}, {"value": "risk"}]}
_serial = iter(range(1, 10_000))


def define(admin):
    """The same definitions in any tenant: account fields of every common type, a project object."""
    for name, type, data in (
        ("tier", "select", {"options": TIERS}),
        ("erp_code", "text", {"unique": True}),
        ("labels", "multi_select", {"options": TAGS}),
        ("signed", "date", {}),
        ("budget", "currency", {"options": {"currency": "CNY"}}),
        ("vip", "boolean", {}),
        ("seats", "number", {}),
    ):
        services.add_field(actor=admin, object_key=ACCOUNT, name=name, type=type, label_en=name, **data)
    services.create_object(actor=admin, name="project", label_en="Project", label_zh="项目")
    for name, type, options in (
        ("code", "text", {}),
        ("stage", "select", {"choices": [{"value": "open"}, {"value": "won"}]}),
        ("customer", "lookup", {"target": ACCOUNT}),
    ):
        unique = name == "code"
        services.add_field(
            actor=admin,
            object_key=PROJECT,
            name=name,
            type=type,
            label_en=name,
            options=options,
            unique=unique,
        )


@pytest.fixture
def admin(alpha):
    user = admin_of(alpha)
    with tenant_context(alpha):
        define(user)
        yield user


def person(role: str) -> User:
    return User.objects.create(
        email=f"{role}.{next(_serial)}@transfer.example", full_name=role, role=Role.objects.get(code=role)
    )


def table(lines) -> list[dict]:
    text = "".join(lines)
    assert text.startswith("\ufeff")  # Excel reads UTF-8 (Chinese) only with the mark
    return list(csv.DictReader(io.StringIO(text[1:])))


def account(actor, name, **custom):
    return create_account(actor=actor, name=name, custom=custom).account


def grant_export(admin, fields=None):
    access_services.set_object_permission(
        actor=admin,
        role=Role.objects.get(code="sales_rep"),
        object=ACCOUNT,
        actions=["create", "read", "update", "export"],
        fields=fields,
    )


# --- export -----------------------------------------------------------------------------------


def test_export_writes_api_names_and_values_by_type(admin):
    account(admin, "华辰科技", tier="gold", labels=["vip", "new"], signed="2026-03-31", budget=1999.5,
            vip=True, seats=12, erp_code="E-1")  # fmt: skip
    rows = table(export_records(admin, ACCOUNT))
    assert {"id", "name", "industry", "custom.tier", "custom.labels", "custom.erp_code"} <= set(rows[0])
    assert rows[0]["name"] == "华辰科技"
    assert {k: v for k, v in rows[0].items() if k.startswith("custom.")} == {
        "custom.tier": "gold", "custom.erp_code": "E-1", "custom.labels": "vip;new",
        "custom.signed": "2026-03-31", "custom.budget": "1999.5", "custom.vip": "true", "custom.seats": "12",
    }  # fmt: skip
    chosen = table(export_records(admin, ACCOUNT, columns=["name", "custom.tier"]))
    assert chosen == [{"name": "华辰科技", "custom.tier": "gold"}]
    with pytest.raises(ValidationError) as raised:
        export_records(admin, ACCOUNT, columns=["name", "nonsense"])
    assert raised.value.message_dict == {"columns[1]": ["Unknown field."]}


def test_export_keeps_to_the_readers_scope_fields_and_export_right(admin):
    zhang, chen = person("sales_rep"), person("sales_rep")
    account(zhang, "张的客户", tier="gold")
    account(chen, "陈的客户", tier="silver")
    with pytest.raises(PermissionDenied):  # reps read accounts but may not export them by default
        export_records(zhang, ACCOUNT)
    grant_export(admin)
    forget(zhang)
    rows = table(export_records(zhang, ACCOUNT))
    assert [(row["name"], row["custom.tier"]) for row in rows] == [("张的客户", "gold")]  # own only
    grant_export(admin, fields={"name": "edit", "industry": "read"})
    forget(zhang)
    header = next(csv.reader(io.StringIO("".join(export_records(zhang, ACCOUNT))[1:])))
    assert "phone" not in header and "custom.tier" not in header and {"name", "industry"} <= set(header)
    with pytest.raises(ValidationError):  # a hidden field reads as unknown, in columns and filters
        export_records(zhang, ACCOUNT, columns=["phone"])
    with pytest.raises(ValidationError):
        export_records(zhang, ACCOUNT, filter={"field": "phone", "op": "is_null", "value": False})


def test_a_filter_narrows_the_export(admin):
    account(admin, "金牌", tier="gold")
    account(admin, "银牌", tier="silver")
    gold = {"field": "custom.tier", "op": "eq", "value": "gold"}
    assert [row["name"] for row in table(export_records(admin, ACCOUNT, filter=gold))] == ["金牌"]


def test_round_trip_into_a_second_tenant_gives_equal_records(admin, beta):
    create_account(actor=admin, name="=危险公式", industry="制造", custom={
        "tier": "gold", "labels": ["vip", "risk"], "signed": "2026-01-02", "budget": 12.25, "vip": False,
        "seats": 3, "erp_code": "E-9",
    })  # fmt: skip
    create_account(actor=admin, name="华辰", phone="13800138000", custom={"tier": "silver"})
    exported = "".join(export_records(admin, ACCOUNT))
    assert "'=危险公式" in exported  # a spreadsheet shows it as text instead of running it
    before = _comparable(Account.objects.all())
    beta_admin = admin_of(beta)
    with tenant_context(beta):
        define(beta_admin)
        assert table(export_records(beta_admin, ACCOUNT)) == []  # alpha's records never show in beta
        report = import_records(beta_admin, ACCOUNT, exported.encode("utf-8"))
        assert (report.errors, report.created, report.failed) == ({}, 2, 0)
        assert {"id", "owner", "created_at"} <= set(report.ignored)
        assert _comparable(Account.objects.all()) == before
        assert set(Account.objects.values_list("owner", flat=True)) == {beta_admin.pk}


def _comparable(accounts) -> list:
    return sorted((a.name, a.industry, a.phone, a.kind, sorted(a.custom.items())) for a in accounts)


# --- import -----------------------------------------------------------------------------------


def test_a_bad_row_is_located_and_the_others_are_saved(admin):
    report = import_records(admin, ACCOUNT, (
        "name,custom.tier,custom.seats,custom.signed\n"
        "好客户,gold,10,2026-02-01\n"
        "坏等级,platinum,1,\n"
        "坏数字,silver,many,2026-13-01\n"
        "\n"
        ",gold,,\n"
        "短行,gold\n"
    ))  # fmt: skip
    assert (report.created, report.updated, report.failed) == (1, 0, 4)
    assert report.errors == {
        "rows[2].custom.tier": ["Not one of this field's choices."],
        "rows[3].custom.seats": ["Expected a whole number."],
        "rows[3].custom.signed": ["Expected a date such as 2026-03-31."],
        "rows[4].name": ["This field cannot be blank."],
        "rows[5]": ["Expected 4 cells, found 2."],
    }
    assert list(Account.objects.values_list("name", "custom")) == [
        ("好客户", {"tier": "gold", "seats": 10, "signed": "2026-02-01"})
    ]


def test_a_bad_header_refuses_the_file(admin):
    with pytest.raises(ValidationError) as raised:
        import_records(admin, ACCOUNT, "name,custom.tier,nonsense,name\n甲,gold,x,y\n")
    assert raised.value.message_dict == {
        "header[3]": ["Unknown field."],
        "header[4]": ["This column appears twice."],
    }
    with pytest.raises(ValidationError) as raised:
        import_records(admin, "orders.order", "note\nx\n")
    assert set(raised.value.message_dict) == {"object"}  # no writer: refused, not saved around services
    assert not Account.objects.exists()


def test_upsert_by_a_unique_custom_field_updates_instead_of_duplicating(admin):
    import_records(admin, ACCOUNT, "name,custom.erp_code,custom.tier\n甲,E-1,silver\n乙,E-2,silver\n")
    again = "name,custom.erp_code,custom.tier\n甲公司,E-1,gold\n丙,E-3,\n"
    duplicated = import_records(admin, ACCOUNT, again)
    assert duplicated.errors == {"rows[1].custom.erp_code": ["Another record already has this value."]}
    report = import_records(admin, ACCOUNT, again, mode="upsert", key="custom.erp_code")
    assert (report.created, report.updated, report.failed) == (0, 2, 0)  # 丙 came in with the first try
    stored = dict(Account.objects.values_list("custom__erp_code", "name"))
    assert stored == {"E-1": "甲公司", "E-2": "乙", "E-3": "丙"}
    assert Account.objects.get(custom__erp_code="E-1").custom["tier"] == "gold"
    with pytest.raises(ValidationError) as raised:
        import_records(admin, ACCOUNT, again, mode="upsert", key="name")
    assert set(raised.value.message_dict) == {"key"}


def test_a_dry_run_checks_every_row_and_writes_nothing(admin):
    report = import_records(admin, ACCOUNT, "name,custom.erp_code\n甲,E-1\n乙,E-1\n丙,E-3\n", dry_run=True)
    assert (report.created, report.failed) == (2, 1)  # the file's own duplicate is found too
    assert set(report.errors) == {"rows[2].custom.erp_code"}
    assert not Account.objects.exists()


def test_custom_object_records_import_with_lookups_and_update_by_id(admin):
    customer = account(admin, "项目客户")
    report = import_records(admin, PROJECT, (
        f"name,custom.code,custom.stage,custom.customer\n"
        f"ERP 上线,P-1,open,{customer.pk}\n"
        f"越界,P-2,open,999999\n"
    ))  # fmt: skip
    assert (report.created, report.failed) == (1, 1)
    assert report.errors == {"rows[2].custom.customer": ["Account not found."]}
    made = CustomRecord.objects.get()
    assert made.custom == {"code": "P-1", "stage": "open", "customer": customer.pk}
    exported = "".join(export_records(admin, PROJECT)).replace(",open,", ",won,")
    assert exported.splitlines()[0] == "\ufeffid,name,custom.code,custom.stage,custom.customer"
    report = import_records(admin, PROJECT, exported, mode="upsert", key="id")
    assert (report.created, report.updated) == (0, 1)
    assert records.get_record(admin, PROJECT, made.pk).custom["stage"] == "won"


def test_a_rep_imports_only_what_the_services_let_them(admin):
    zhang = person("sales_rep")
    theirs = account(admin, "管理员的客户", erp_code="A-1")
    report = import_records(
        zhang, ACCOUNT, "name,custom.erp_code\n改名,A-1\n", mode="upsert", key="custom.erp_code"
    )
    # Not visible to the rep: no update, and the unique value is not theirs to take.
    assert (report.updated, report.failed) == (0, 1)
    assert Account.objects.get(pk=theirs.pk).name == "管理员的客户"


@pytest.fixture
def no_broker():
    """Celery as configured without a broker (settings: eager), for one test."""
    from crm_platform.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_without_a_broker_the_job_runs_at_once(admin, no_broker, django_capture_on_commit_callbacks):
    content = "name,custom.tier\n" + "".join(f"客户{n},gold\n" for n in range(5)) + "坏,platinum\n"
    with django_capture_on_commit_callbacks(execute=True):
        job = start_import(admin, ACCOUNT, content)
        assert (job.status, job.total) == ("queued", 6)
    job.refresh_from_db()
    assert (job.status, job.processed, job.created, job.failed) == ("done", 6, 5, 1)
    # Stored in the importing user's language (alpha's admin reads zh-Hans), whatever the caller's.
    assert job.errors == {"rows[6].custom.tier": ["不是该字段的可选值。"]}
    with pytest.raises(ValidationError):  # a bad header is refused at once, no job
        start_import(admin, ACCOUNT, "nonsense\nx\n")


# --- the background job on a real worker ------------------------------------------------------


@pytest.fixture
def imports_tenant(committed_db):
    tenant = tenant_services.sign_up(
        company_name="Imports 导入", slug="imports", admin_name="Ima", email="ima@imports.example",
        password=PASSWORD, language="en",
    )  # fmt: skip
    yield tenant
    connection.set_schema_to_public()
    template.drop_schema(tenant.schema_name)
    Tenant.objects.filter(pk=tenant.pk).delete()


def test_a_large_import_runs_on_the_worker_with_progress(imports_tenant, live_worker):
    rows = 450  # three batches
    content = "name,custom.tier\n" + "".join(f"客户 {n},gold\n" for n in range(rows - 1)) + "坏,platinum\n"
    with tenant_context(imports_tenant):
        admin = User.objects.get(is_superuser=True)
        services.add_field(actor=admin, object_key=ACCOUNT, name="tier", type="select", label_en="Tier",
                           options=TIERS)  # fmt: skip
        job = start_import(admin, ACCOUNT, content)  # committed at once: no surrounding transaction
    seen = []

    def finished():
        with tenant_context(imports_tenant):
            current = ImportJob.objects.get(pk=job.pk)
        seen.append(current.processed)
        return current.status in ("done", "failed")

    wait_until(finished, timeout=120)
    with tenant_context(imports_tenant):
        job.refresh_from_db()
        assert (job.status, job.total, job.processed, job.progress) == ("done", rows, rows, 1.0)
        assert (job.created, job.updated, job.failed) == (rows - 1, 0, 1)
        # In the importing user's language (en), not the worker's default (zh-Hans).
        assert job.errors == {f"rows[{rows}].custom.tier": ["Not one of this field's choices."]}
        assert Account.objects.count() == rows - 1
    assert seen == sorted(seen)  # progress only moves forward
