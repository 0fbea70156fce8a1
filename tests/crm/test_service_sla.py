"""Service levels: due time per priority from the tenant's policy, re-prioritising, and the breach
job at its boundary, run twice, reminding the assignee (else the owner) once."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.customers.models import Account
from crm.records import audit
from crm.records.models import Reminder
from crm.service import services
from crm.service.models import Case, ServicePolicy
from crm.service.sla import flag_sla_breaches, service_policy, set_sla_hours
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

OPENED = datetime(2026, 6, 1, 10, tzinfo=build.SHANGHAI)


def open_at(actor, priority, **kwargs) -> Case:
    with build.on(OPENED.date(), hour=OPENED.hour):
        return services.open_case(
            actor=actor,
            account=Account.objects.create(name="深圳湾一号业主服务中心"),
            subject=f"{priority} case",
            kind="repair",
            priority=priority,
            **kwargs,
        )


def test_due_time_per_priority_follows_the_policy(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        due = {p: open_at(admin, p).sla_due_at - OPENED for p in ("low", "normal", "high", "urgent")}
        assert due == {
            "low": timedelta(hours=72),
            "normal": timedelta(hours=24),
            "high": timedelta(hours=8),
            "urgent": timedelta(hours=4),
        }
        set_sla_hours(actor=admin, urgent=2, high=6)
        assert open_at(admin, "urgent").sla_due_at == OPENED + timedelta(hours=2)
        assert ServicePolicy.objects.count() == 1
        trail = audit.history(service_policy())
    assert [c.action for c in trail] == ["created", "updated"]
    assert trail[1].changes == {"urgent_hours": [4, 2], "high_hours": [8, 6]} and trail[1].user_id == admin.pk


def test_policy_hours_are_checked_per_priority(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        with pytest.raises(ValidationError) as error:
            set_sla_hours(actor=admin, urgent=0, high=-3, someday=5)
        assert set(error.value.message_dict) == {"someday"}
        with pytest.raises(ValidationError) as error:
            set_sla_hours(actor=admin, urgent=0, high=-3)
        assert set(error.value.message_dict) == {"urgent", "high"}
        assert service_policy().urgent_hours == 4


def test_a_case_is_breached_only_after_its_due_time_and_flagged_once(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        engineer = build.user("service")
        urgent = open_at(admin, "urgent", assignee=engineer)
        unassigned = open_at(admin, "urgent")
        high = open_at(admin, "high")
        due = OPENED + timedelta(hours=4)
        assert flag_sla_breaches(due) == 0
        just_after = due + timedelta(microseconds=1)
        assert flag_sla_breaches(just_after) == 2
        assert flag_sla_breaches(just_after + timedelta(minutes=5)) == 0
        assert Case.objects.get(pk=urgent.pk).sla_breached_at == just_after
        assert Case.objects.get(pk=high.pk).sla_breached_at is None
        late = Reminder.objects.filter(kind="case_sla_breached").order_by("object_id")
        assert [(r.user, r.object_id, r.due_at) for r in late] == [
            (engineer, urgent.pk, due),
            (admin, unassigned.pk, due),  # nobody assigned: the owner hears of it
        ]
        assert [c.action for c in audit.history(urgent)][-1] == "updated"


def test_resolved_and_waiting_cases(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        resolved, waiting = open_at(admin, "urgent"), open_at(admin, "urgent")
        with build.on(OPENED.date(), hour=11):
            services.resolve(actor=admin, case=resolved, resolution="远程指导重启")
            services.wait_for_customer(actor=admin, case=waiting)
        # Waiting on the customer does not stop the clock: the case is still open, and late.
        assert flag_sla_breaches(OPENED + timedelta(hours=5)) == 1
        assert Case.objects.get(pk=waiting.pk).sla_breached_at is not None
        assert Case.objects.get(pk=resolved.pk).sla_breached_at is None


def test_lowering_the_priority_moves_the_due_time_and_can_lift_the_flag(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        case = open_at(admin, "urgent")
        flag_sla_breaches(OPENED + timedelta(hours=5))
        with build.on(OPENED.date(), hour=16):
            with pytest.raises(ValidationError) as error:
                services.change_priority(actor=admin, case=case, priority="whenever")
            assert set(error.value.message_dict) == {"priority"}
            relaxed = services.change_priority(actor=admin, case=case, priority="normal")
        assert (relaxed.sla_due_at, relaxed.sla_breached_at) == (OPENED + timedelta(hours=24), None)


def test_beta_breach_job_leaves_alpha_alone(alpha, beta):
    with tenant_context(alpha):
        case = open_at(admin_of(alpha), "urgent")
    with tenant_context(beta):
        assert flag_sla_breaches(OPENED + timedelta(days=5)) == 0
    with tenant_context(alpha):
        assert Case.objects.get(pk=case.pk).sla_breached_at is None
