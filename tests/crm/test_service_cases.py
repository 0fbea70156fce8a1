"""Service cases: numbering, field errors, the status flow (assign, wait, resolve, close with a
score, reopen), audit and tenant isolation."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.customers.models import Account, Contact
from crm.records import audit
from crm.records.models import NumberSequence, Reminder
from crm.service import services
from crm.service.models import Case
from crm_platform.errors import Conflict, NotFound
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

DAY = date(2026, 5, 12)
NOON = datetime(2026, 5, 12, 12, tzinfo=build.SHANGHAI)


def customer(name="顺德大良新城花园物业管理处") -> Account:
    return Account.objects.create(name=name)


def test_cases_are_numbered_per_day_and_a_refused_case_burns_no_number(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        account = customer()
        with build.on(DAY):
            first = services.open_case(actor=admin, account=account, subject="空调不制冷", kind="repair")
            second = services.open_case(actor=admin, account=account, subject="发票抬头", kind="inquiry")
            with pytest.raises(ValidationError):
                services.open_case(actor=admin, account=account, subject="", kind="repair")
        with build.on(DAY + timedelta(days=1)):
            third = services.open_case(actor=admin, account=account, subject="噪音大", kind="complaint")
            fourth = services.open_case(actor=admin, account=account, subject="退货", kind="return")
        assert NumberSequence.objects.get(key="case").reset == "daily"
    assert [first.number, second.number, third.number, fourth.number] == [
        "CS20260512-0001",
        "CS20260512-0002",
        "CS20260513-0001",
        "CS20260513-0002",
    ]


def test_every_bad_field_is_reported_and_nothing_is_written(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(DAY):
        account, other = customer(), customer("佛山顺德美食酒家")
        stranger = Contact.objects.create(account=other, name="何园长")
        retired = build.user("service")
        retired.is_active = False
        retired.save()
        with pytest.raises(ValidationError) as error:
            services.open_case(
                actor=admin,
                account=account,
                subject="",
                kind="wish",
                priority="asap",
                contact=stranger,
                assignee=retired,
                opened_at=NOON + timedelta(hours=1),
            )
        assert set(error.value.message_dict) == {
            "subject",
            "kind",
            "priority",
            "contact",
            "assignee",
            "opened_at",
        }
        assert Case.objects.count() == 0 and not NumberSequence.objects.filter(key="case").exists()


def test_the_flow_from_new_to_closed_with_a_score(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(DAY):
        engineer = build.user("service")
        account = customer()
        case = services.open_case(
            actor=admin, account=account, subject="热水器漏水", kind="repair", priority="high"
        )
        assert (case.status, case.assignee, case.owner) == ("new", None, admin)
        case = services.assign(actor=admin, case=case, assignee=engineer)
        assert case.status == "in_progress"
        assigned = Reminder.objects.get(kind="case_assigned")
        assert (assigned.user, assigned.due_at) == (engineer, case.sla_due_at)
        case = services.wait_for_customer(actor=engineer, case=case)
        with pytest.raises(Conflict):
            services.wait_for_customer(actor=engineer, case=case)
        case = services.resume(actor=engineer, case=case)
        with pytest.raises(Conflict):
            services.close(actor=engineer, case=case, satisfaction=5)  # not resolved yet
        with pytest.raises(ValidationError) as error:
            services.resolve(actor=engineer, case=case, resolution=" ")
        assert set(error.value.message_dict) == {"resolution"}
        case = services.resolve(actor=engineer, case=case, resolution="更换进水阀 / inlet valve replaced")
        for score in (0, 6, "5", 4.5, True):
            with pytest.raises(ValidationError) as error:
                services.close(actor=engineer, case=case, satisfaction=score)
            assert set(error.value.message_dict) == {"satisfaction"}
        assert Case.objects.get(pk=case.pk).status == "resolved"
        closed = services.close(actor=engineer, case=case, satisfaction=5)
        assert (closed.status, closed.satisfaction, closed.closed_at) == ("closed", 5, NOON.replace(hour=10))
        with pytest.raises(Conflict):
            services.assign(actor=admin, case=case, assignee=engineer)


def test_a_case_may_close_without_a_score(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        case = services.open_case(actor=admin, account=customer(), subject="咨询保修期", kind="inquiry")
        services.resolve(actor=admin, case=case, resolution="两年整机保修")
        assert services.close(actor=admin, case=case).satisfaction is None


def test_reopening_counts_restarts_the_sla_clock_and_clears_the_close(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        engineer = build.user("service")
        with build.on(DAY, hour=9):
            case = services.open_case(
                actor=admin,
                account=customer(),
                subject="投诉安装师傅迟到",
                kind="complaint",
                assignee=engineer,
            )
            assert case.status == "in_progress"
            with pytest.raises(Conflict):
                services.reopen(actor=admin, case=case, reason="still open")
            services.resolve(actor=engineer, case=case, resolution="致歉并赠送清洗服务")
            services.close(actor=admin, case=case, satisfaction=2)
        with build.on(DAY + timedelta(days=3), hour=15):
            with pytest.raises(ValidationError) as error:
                services.reopen(actor=admin, case=case, reason="")
            assert set(error.value.message_dict) == {"reason"}
            reopened = services.reopen(actor=admin, case=case, reason="客户再次投诉 / complained again")
        assert (reopened.status, reopened.reopened_count, reopened.satisfaction, reopened.closed_at) == (
            "in_progress",
            1,
            None,
            None,
        )
        restart = datetime(2026, 5, 15, 15, tzinfo=build.SHANGHAI)
        assert (reopened.sla_started_at, reopened.sla_due_at) == (restart, restart + timedelta(hours=24))
        trail = audit.history(reopened)
    assert [c.action for c in trail] == ["created", "updated", "updated", "updated"]
    assert trail[2].changes["satisfaction"] == [None, 2]
    assert trail[3].changes["status"] == ["closed", "in_progress"]
    assert trail[3].details == {"reason": "客户再次投诉 / complained again"} and trail[3].user_id == admin.pk


def test_resolution_times_are_checked(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(DAY):
        case = services.open_case(
            actor=admin,
            account=customer(),
            subject="预约安装",
            kind="installation",
            opened_at=NOON - timedelta(hours=5),
        )
        for at in (NOON, NOON - timedelta(hours=6)):
            with pytest.raises(ValidationError) as error:
                services.resolve(actor=admin, case=case, resolution="done", at=at)
            assert set(error.value.message_dict) == {"at"}
        resolved = services.resolve(actor=admin, case=case, resolution="已安装", at=NOON - timedelta(hours=3))
        assert resolved.resolved_at == NOON - timedelta(hours=3)


def test_tenant_beta_cannot_reach_alphas_cases(alpha, beta):
    with tenant_context(alpha):
        case = services.open_case(actor=admin_of(alpha), account=customer(), subject="退货", kind="return")
    with tenant_context(beta):
        assert Case.objects.count() == 0
        with pytest.raises(NotFound):
            services.resolve(actor=admin_of(beta), case=case.pk, resolution="x")
