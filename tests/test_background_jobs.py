"""Periodic jobs run per tenant on a real Celery worker, over a real broker."""

from datetime import date

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from crm.finance.models import PaymentInstalment
from crm.finance.payments import set_payment_plan
from crm.records.models import Reminder
from tenants import services, tasks
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD, wait_until
from tests.crm import test_orders_support as build

JOB = "crm.finance.reminders.remind_overdue_instalments"


@pytest.fixture
def jobs_tenant(committed_db):
    tenant = services.sign_up(
        company_name="Jobs 作业", slug="jobs", admin_name="Jo", email="jo@jobs.example", password=PASSWORD
    )
    yield tenant
    connection.set_schema_to_public()
    template.drop_schema(tenant.schema_name)
    Tenant.objects.filter(pk=tenant.pk).delete()


def overdue_reminders(tenant) -> list[int]:
    with tenant_context(tenant):
        return list(Reminder.objects.filter(kind="instalment_overdue").values_list("object_id", flat=True))


def test_a_periodic_job_runs_inside_every_active_tenant_on_a_real_worker(
    jobs_tenant, two_tenants, live_worker
):
    _alpha, beta = two_tenants
    with tenant_context(jobs_tenant):
        admin = build.user("finance")
        order = build.confirmed(admin, build.account(), 1000, order_date=date(2025, 1, 5))
        plan = set_payment_plan(
            actor=admin, order=order, instalments=[{"due_date": date(2025, 2, 1), "percentage": 100}]
        )
        instalment = PaymentInstalment.objects.get(plan=plan)

    tasks.fan_out.delay(JOB)

    wait_until(lambda: overdue_reminders(jobs_tenant) == [instalment.pk])
    assert overdue_reminders(beta) == []
    # The next beat runs it again: the job is idempotent, still one reminder.
    assert tasks.run_job.run(jobs_tenant.schema_name, JOB) == 1
    assert overdue_reminders(jobs_tenant) == [instalment.pk]


def test_only_listed_jobs_may_run():
    with pytest.raises(tasks.UnknownJob):
        tasks.job_function("os.system")


def test_a_suspended_tenant_is_skipped(jobs_tenant):
    services.suspend(jobs_tenant)
    assert tasks.run_job.run(jobs_tenant.schema_name, JOB) is None


def test_every_scheduled_job_runs_in_a_tenant(alpha):
    from django.conf import settings

    for job in settings.TENANT_JOBS:
        # A count, or counts by kind: what the worker's log line reports.
        assert isinstance(tasks.run_job.run(alpha.schema_name, job), int | dict), job
        connection.set_schema_to_public()
