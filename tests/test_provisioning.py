"""A tenant built from the template is the same schema a migration run builds."""

import pytest
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from tenants.models import TemplateSnapshot, Tenant
from tenants.provisioning import template
from tenants.signup_rules import schema_name_for

MIGRATED = "t_built_by_migrations"


@pytest.fixture
def migrated_schema(committed_db):
    """A schema built by django-tenants' migrate path, the reference a provisioned tenant must equal."""
    template.drop_schema(MIGRATED)
    template.migrate_into_new_schema(MIGRATED)
    yield MIGRATED
    connection.set_schema_to_public()
    template.drop_schema(MIGRATED)


def test_provisioned_tenant_equals_a_migrated_one(migrated_schema):
    provisioned_schema = schema_name_for("provisioned")
    with transaction.atomic():
        template.replay(provisioned_schema, template.current_snapshot().ddl)
    try:
        provisioned = template.describe_with_data(provisioned_schema)
        migrated = template.describe_with_data(migrated_schema)
    finally:
        template.drop_schema(provisioned_schema)
    assert len(provisioned["columns"]) > 50 and provisioned["indexes"] and provisioned["constraints"]
    assert provisioned["seed_data"]["accounts_role"][0] == 7
    assert template.differences(provisioned, migrated) == []
    assert provisioned["migrations"] == [tuple(m) for m in template.code_migrations()]


def test_difference_is_reported(migrated_schema):
    """The comparison is not vacuous: one extra index in one schema shows up."""
    before = template.describe_with_data(migrated_schema)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX extra_idx ON "{migrated_schema}".customers_account (industry)')
    after = template.describe_with_data(migrated_schema)
    problems = template.differences(before, after)
    assert len(problems) == 1 and "extra_idx" in problems[0]


def test_sign_up_refuses_when_template_lags_behind_code(db, monkeypatch):
    from crm_platform.errors import SignUpPaused
    from tenants import services

    monkeypatch.setattr(template, "migration_digest", lambda migrations=None: "0" * 64)
    with pytest.raises(SignUpPaused):
        services.sign_up(
            company_name="Late Co",
            slug="late-co",
            admin_name="Lee",
            email="lee@late.example",
            password="Sturdy-Harbour-2026",
        )
    assert not Tenant.objects.filter(slug="late-co").exists()


def test_snapshot_matches_code(db):
    snapshot = TemplateSnapshot.objects.get()
    assert snapshot.migration_digest == template.migration_digest()
    assert snapshot.relation_count > 50
    assert "accounts_role" in snapshot.seeded_tables


def test_new_tenant_has_roles_pipeline_and_admin(alpha):
    with tenant_context(alpha):
        codes = set(Role.objects.values_list("code", flat=True))
        assert codes == {
            "admin",
            "sales_manager",
            "sales_rep",
            "finance",
            "service",
            "dealer_admin",
            "dealer_user",
        }
        assert Role.objects.get(code="finance").labels == {"en": "Finance", "zh-hans": "财务"}
        admin = User.objects.get()
        assert admin.role.code == "admin" and admin.is_superuser
        assert admin.check_password("Sturdy-Harbour-2026")
        from crm.sales.models import Pipeline

        pipeline = Pipeline.objects.get(is_default=True)
        assert [s.probability for s in pipeline.stages.all()] == [10, 25, 50, 75, 100, 0]
    assert alpha.domains.get().domain == f"alpha.{settings.BASE_DOMAIN}"


def test_a_tenant_claimed_from_the_ready_pool_equals_a_migrated_one(migrated_schema):
    from tenants import services
    from tenants.models import ReadySchema
    from tenants.provisioning import ready_pool

    # A fresh pool: schemas that went back after a rolled-back sign-up in other tests carry advanced
    # sequences (sequences are not transactional), which this comparison would see.
    ReadySchema.objects.update(migration_digest="an-older-snapshot")
    ready_pool.fill(1)
    waiting = ReadySchema.objects.order_by("id").first()
    tenant = services.sign_up(
        company_name="Pooled 池化",
        slug="pooled",
        admin_name="Pat",
        email="pat@pooled.example",
        password="Sturdy-Harbour-2026",
    )
    try:
        # The waiting schema became the tenant's: renamed, not replayed.
        assert not ReadySchema.objects.filter(pk=waiting.pk).exists()
        assert not template.schema_exists(waiting.schema_name)
        pooled = template.describe_with_data(tenant.schema_name)
        migrated = template.describe_with_data(migrated_schema)
        # The admin user (and its audit event) are the rows sign-up adds beyond the seed rows.
        for table in ("accounts_user", "accounts_useraccessevent"):
            pooled["seed_data"].pop(table)
        for description in (pooled, migrated):
            for sequence in ("accounts_user_id_seq", "accounts_useraccessevent_pgh_id_seq"):
                description["sequence_values"].pop(sequence)
        assert template.differences(pooled, migrated) == []
        with tenant_context(tenant):
            assert User.objects.get().email == "pat@pooled.example"
    finally:
        connection.set_schema_to_public()
        template.drop_schema(tenant.schema_name)
        Tenant.objects.filter(pk=tenant.pk).delete()


def test_an_empty_pool_falls_back_to_the_replay_and_stale_schemas_are_dropped(committed_db):
    from tenants.models import ReadySchema
    from tenants.provisioning import ready_pool

    ready_pool.fill(0)
    ReadySchema.objects.all().update(migration_digest="an-older-snapshot")
    stale = list(ReadySchema.objects.values_list("schema_name", flat=True))
    with transaction.atomic():
        assert ready_pool.claim("t_never", template.migration_digest()) is False
    assert ready_pool.fill(2) == 2
    assert not any(template.schema_exists(name) for name in stale)
    assert ReadySchema.objects.filter(migration_digest=template.migration_digest()).count() == 2
