"""Indexes on custom fields: built concurrently by the real worker after commit, used by the
compiler's filters and sorts (EXPLAIN on real PostgreSQL), enforcing uniqueness, dropped when no
longer wanted, and a failed build reported without leaving an INVALID index behind."""

import pytest
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from api.problems import problem_exception_handler
from crm.customers.models import Account
from crm.customers.services import create_account
from crm_platform.celery import app
from metadata import indexes, services
from metadata.filters import compile_filter
from metadata.filters.custom import custom_expression
from metadata.models import CustomRecord, FieldDefinition, IndexStatus
from metadata.resolver import resolver_for
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD, admin_of, wait_until

ACCOUNT = "customers.account"


@pytest.fixture
def indexed_tenant(committed_db):
    tenant = tenant_services.sign_up(
        company_name="Index 索引",
        slug="indexes",
        admin_name="Ida",
        email="ida@indexes.example",
        password=PASSWORD,
    )
    yield tenant
    connection.set_schema_to_public()
    template.drop_schema(tenant.schema_name)
    Tenant.objects.filter(pk=tenant.pk).delete()


@pytest.fixture
def admin(indexed_tenant):
    user = admin_of(indexed_tenant)
    with tenant_context(indexed_tenant):
        yield user


def add(admin, name, type, object_key=ACCOUNT, **data) -> FieldDefinition:
    return services.add_field(
        actor=admin, object_key=object_key, name=name, type=type, label_en=name.title(), **data
    )


def settled(definition: FieldDefinition, status: str = IndexStatus.READY) -> FieldDefinition:
    """Wait for the worker, then return the definition as it left it."""
    schema = connection.schema_name

    def done():
        with tenant_context(Tenant.objects.get(schema_name=schema)):
            return FieldDefinition.objects.get(pk=definition.pk).index_status in (status, IndexStatus.FAILED)

    wait_until(done, timeout=90)
    definition.refresh_from_db()
    assert (definition.index_status, definition.index_error) == (status, "")
    return definition


def accounts(count: int, **custom_of):
    rows = [Account(name=f"客户 {n}", custom={k: f(n) for k, f in custom_of.items()}) for n in range(count)]
    Account.objects.bulk_create(rows)


def plan_of(queryset) -> str:
    """EXPLAIN after ANALYZE, with sequential scans off: the tables here are small."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {queryset.model._meta.db_table}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


def names(definition: FieldDefinition) -> dict[str, bool]:
    return indexes.existing(definition)


def test_the_worker_builds_indexes_that_filters_and_sorts_use(admin, live_worker):
    tier = add(
        admin, "tier", "select", filterable=True, options={"choices": [{"value": "gold"}, {"value": "tin"}]}
    )
    score = add(admin, "score", "number", sortable=True)
    signed = add(admin, "signed", "date", filterable=True)
    accounts(
        300, tier=lambda n: "gold" if n % 30 == 0 else "tin", score=lambda n: n, signed=lambda n: "2026-01-15"
    )
    for definition in (tier, score, signed):
        settled(definition)
        assert all(names(definition).values())
    assert len(names(score)) == 2  # ascending, and descending with empty values last

    resolver = resolver_for(ACCOUNT)
    gold = Account.objects.filter(
        compile_filter({"field": "custom.tier", "op": "eq", "value": "gold"}, Account, resolver=resolver)
    )
    assert gold.count() == 10
    assert next(iter(names(tier))) in plan_of(gold)
    recent = {"field": "custom.signed", "op": "gte", "value": "2026-01-01"}
    assert next(iter(names(signed))) in plan_of(
        Account.objects.filter(compile_filter(recent, Account, resolver=resolver))
    )

    by_score = custom_expression(resolver.resolve(Account, "custom.score"))
    sortable = next(name for name in names(score) if "_s_" in name)
    first_page = Account.objects.order_by(by_score.asc(), "id")[:50]
    assert sortable in plan_of(first_page)
    assert [a.custom["score"] for a in first_page][:3] == [0, 1, 2]
    assert sortable in plan_of(Account.objects.order_by(by_score.desc(), "-id")[:50])
    # The order a view sorted descending asks for (metadata/views/run.py): empty values last.
    descending = next(name for name in names(score) if "_d_" in name)
    newest = Account.objects.order_by(by_score.desc(nulls_last=True), "id")[:50]
    assert descending in plan_of(newest)
    assert [a.custom["score"] for a in newest][:2] == [299, 298]


def statistics_of(definition: FieldDefinition) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxname FROM pg_statistic_ext WHERE stxnamespace = current_schema()::regnamespace"
            " AND starts_with(stxname::text, %s)",
            [f"cf_customers_account_{definition.pk}_"],
        )
        return {name for (name,) in cursor.fetchall()}


def estimated_rows(queryset) -> int:
    """The planner's row estimate for `queryset`, on the statistics as they are (no ANALYZE here)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return cursor.fetchone()[0][0]["Plan"]["Plan Rows"]


def test_a_filterable_field_is_estimated_from_its_statistics(admin):
    """PostgreSQL ignores the statistics of a partial index: without the statistics object built
    beside the filter index, `custom ->> 'tier' = 'gold'` is estimated at 0.5 % of the table (10 of
    2000 here) whatever it matches, and the planner sorts a filtered first page the slow way."""
    tier = add(admin, "tier", "select", options={"choices": [{"value": "gold"}, {"value": "tin"}]})
    accounts(2000, tier=lambda n: "gold" if n % 4 == 0 else "tin")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # no broker: the task runs in-process, after the commit
    try:
        tier = services.change_field(actor=admin, field=tier, filterable=True)
    finally:
        app.conf.task_always_eager = eager
    tier.refresh_from_db()
    assert tier.index_status == IndexStatus.READY
    assert statistics_of(tier) == set(names(tier))  # one statistics object, named as its index

    spec = {"field": "custom.tier", "op": "eq", "value": "gold"}
    gold = Account.objects.filter(compile_filter(spec, Account, resolver=resolver_for(ACCOUNT)))
    assert gold.count() == 500
    assert 400 <= estimated_rows(gold) <= 600  # the sync's ANALYZE already built the statistics

    app.conf.task_always_eager = True
    try:
        tier = services.change_field(actor=admin, field=tier, filterable=False)
    finally:
        app.conf.task_always_eager = eager
    assert names(tier) == {} and statistics_of(tier) == set()  # dropped with its index


def test_unique_fields_are_enforced_by_their_index_and_a_race_is_a_field_error(admin, live_worker):
    code = settled(add(admin, "code", "text", unique=True))
    create_account(actor=admin, name="甲", custom={"code": "A-1"})
    # A request that passed values.py's duplicate check before the other one committed:
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        Account.objects.create(name="乙", custom={"code": "A-1"})
    response = problem_exception_handler(raised.value, {})
    assert response.status_code == 400
    assert response.data["errors"] == [
        {"field": "custom.code", "code": "unique", "message": "Another record already has this value."}
    ]
    Account.objects.create(name="丙", custom={})  # no value: not a duplicate
    assert [name.split("_")[-2] for name in names(code)] == ["u"]


def test_indexes_no_longer_wanted_are_dropped(admin, live_worker):
    region = settled(add(admin, "region", "text", filterable=True, sortable=True))
    assert sorted(name.split("_")[-2] for name in names(region)) == ["d", "f", "s"]
    region = settled(services.change_field(actor=admin, field=region, sortable=False))
    assert [name.split("_")[-2] for name in names(region)] == ["f"]
    region = settled(services.delete_field(actor=admin, field=region), IndexStatus.NONE)
    assert names(region) == {}

    level = settled(add(admin, "level", "number", filterable=True))
    services.delete_field(actor=admin, field=level)
    services.purge_field(actor=admin, field=level)  # drops at once, in the purge's transaction
    assert names(level) == {}


def test_a_failed_build_is_reported_and_leaves_no_invalid_index(admin):
    plate = add(admin, "plate", "text")
    accounts(3, plate=lambda n: "沪A-0001")
    # change_field refuses unique over duplicates; a definition changed behind its back must still fail
    # cleanly when the build meets them.
    FieldDefinition.objects.filter(pk=plate.pk).update(unique=True)
    assert indexes.sync(plate.pk) == IndexStatus.FAILED
    plate.refresh_from_db()
    assert plate.index_status == IndexStatus.FAILED
    assert "could not create unique index" in plate.index_error
    assert names(plate) == {}


def test_custom_object_indexes_are_partial_on_the_object(admin):
    services.create_object(actor=admin, name="project", label_en="Project")
    stage = add(admin, "stage", "text", object_key="custom.project", filterable=True)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # no broker: the task runs in-process, after the commit
    try:
        services.change_field(actor=admin, field=stage, sortable=True)
    finally:
        app.conf.task_always_eager = eager
    stage.refresh_from_db()
    assert stage.index_status == IndexStatus.READY
    project = services.registry.describe("custom.project").definition
    assert all(f'"object_id" = {project.pk}' in index.sql for index in indexes.wanted(stage))
    # Both indexes are partial, so both carry statistics, joint with the object: (object_id, expr).
    assert all('ON "object_id", (' in index.statistics for index in indexes.wanted(stage))
    CustomRecord.objects.bulk_create(
        [
            CustomRecord(object=project, name=f"P{n}", custom={"stage": "won" if n == 7 else "open"})
            for n in range(200)
        ]
    )
    spec = {"field": "custom.stage", "op": "eq", "value": "won"}
    won = CustomRecord.objects.filter(object=project).filter(
        compile_filter(spec, CustomRecord, resolver=resolver_for("custom.project"))
    )
    assert [r.name for r in won] == ["P7"]
    plan = plan_of(won)  # either of the field's indexes serves it; both are partial on the object
    assert any(name in plan for name in names(stage)), plan


def test_index_names_are_short_and_follow_the_expression(alpha):
    with tenant_context(alpha):
        user = admin_of(alpha)
        name = "a" * 63
        wide = add(user, name, "decimal", filterable=True, sortable=True, unique=True)
        assert wide.index_status == IndexStatus.PENDING  # queued for after the commit
        built = indexes.wanted(wide)
        assert [len(index.name) <= 63 for index in built] == [True, True, True, True]
        assert [index.name for index in indexes.wanted(wide)] == [index.name for index in built]
        # The filter compiler's typed expression, not a second spelling of it.
        assert (
            "jsonb_typeof" in built[0].sql and "::numeric" in built[0].sql and "IS NOT NULL" in built[0].sql
        )
        assert built[2].sql.startswith("CREATE UNIQUE INDEX CONCURRENTLY") and f"? '{name}'" in built[2].sql
        retyped = services.change_field(actor=user, field=wide, type="text", unique=False)
        assert {index.name for index in indexes.wanted(retyped)}.isdisjoint({index.name for index in built})
