"""Visit plans: planning with field errors, completion logging the follow-up, cancelling, the
missed-visit job at its boundary (and run twice), audit and tenant isolation."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.activities.models import FollowUp, VisitPlan
from crm.activities.visits import cancel_visit, complete_visit, mark_missed_visits, plan_visit
from crm.customers.models import Account, Contact
from crm.records import audit
from crm.records.models import Reminder
from crm_platform.errors import Conflict
from tests.crm import test_orders_support as build

DAY = date(2026, 4, 7)
VISIT_TIME = datetime(2026, 4, 9, 14, tzinfo=build.SHANGHAI)


def customer(owner, name="南京仙林大学城学生公寓中心") -> Account:
    account = Account(name=name)
    account.place(owner=owner)
    account.save()
    return account


def test_planning_checks_the_contact_purpose_and_time_per_field(alpha):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        campus, hotel = customer(rep), customer(rep, "锦江宾馆")
        stranger = Contact.objects.create(account=hotel, name="刘强")
        with pytest.raises(ValidationError) as error:
            plan_visit(
                actor=rep,
                account=campus,
                contact=stranger,
                purpose="",
                planned_at=datetime(2026, 4, 1, 10, tzinfo=build.SHANGHAI),
            )
        assert set(error.value.message_dict) == {"contact", "purpose", "planned_at"}
        assert VisitPlan.objects.count() == 0 and Reminder.objects.count() == 0


def test_a_planned_visit_reminds_the_owner_and_completing_it_logs_the_follow_up(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        campus = customer(rep)
        chen = Contact.objects.create(account=campus, name="陈静")
        with build.on(DAY):
            plan = plan_visit(
                actor=rep, account=campus, contact=chen, planned_at=VISIT_TIME, purpose="空调维保方案沟通"
            )
            reminder = Reminder.objects.get()
            assert (reminder.user, reminder.kind, reminder.due_at) == (rep, "visit_planned", VISIT_TIME)
        with build.on(date(2026, 4, 9), hour=16):
            done = complete_visit(
                actor=rep,
                plan=plan,
                outcome="positive",
                details="看了机房",
                next_follow_up_on=date(2026, 4, 20),
            )
            follow_up = done.follow_up
            assert (done.status, follow_up.method, follow_up.contact, follow_up.result) == (
                "done",
                "visit",
                chen,
                "空调维保方案沟通",
            )
            assert Account.objects.get(pk=campus.pk).last_activity_at == follow_up.occurred_at
            assert Reminder.objects.filter(kind="follow_up_due", object_id=follow_up.pk).exists()
            with pytest.raises(Conflict):
                complete_visit(actor=rep, plan=plan)
            assert FollowUp.objects.count() == 1
            assert [c.action for c in audit.history(plan)] == ["created", "updated"]
            assert audit.history(plan)[1].changes["status"] == ["planned", "done"]


def test_cancelling_needs_a_reason_and_only_planned_visits_can_be_cancelled(alpha):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        plan = plan_visit(actor=rep, account=customer(rep), planned_at=VISIT_TIME, purpose="催款")
        with pytest.raises(ValidationError) as error:
            cancel_visit(actor=rep, plan=plan, reason="  ")
        assert set(error.value.message_dict) == {"cancel_reason"}
        cancelled = cancel_visit(actor=rep, plan=plan, reason="客户出差 / customer travelling")
        assert cancelled.status == "cancelled"
        with pytest.raises(Conflict):
            cancel_visit(actor=rep, plan=plan, reason="again")
        with pytest.raises(Conflict):
            complete_visit(actor=rep, plan=plan)


def test_visits_left_planned_a_day_after_their_time_are_missed_once_and_may_still_be_recorded(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        with build.on(DAY):
            plan = plan_visit(actor=rep, account=customer(rep), planned_at=VISIT_TIME, purpose="送样机")
            later = plan_visit(
                actor=rep, account=customer(rep, "B"), planned_at=VISIT_TIME + timedelta(hours=1), purpose="x"
            )
        boundary = VISIT_TIME + timedelta(hours=24)
        assert mark_missed_visits(boundary) == 0
        assert mark_missed_visits(boundary + timedelta(seconds=1)) == 1
        assert mark_missed_visits(boundary + timedelta(seconds=1)) == 0
        assert VisitPlan.objects.get(pk=plan.pk).status == "missed"
        assert VisitPlan.objects.get(pk=later.pk).status == "planned"
        with build.on(date(2026, 4, 11)):
            late = complete_visit(
                actor=rep, plan=plan, occurred_at=VISIT_TIME, result="上门演示 / demo done (recorded late)"
            )
        assert late.status == "done" and late.follow_up.occurred_at == VISIT_TIME


def test_tenant_beta_sees_none_of_alphas_visit_plans(alpha, beta):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        plan_visit(actor=rep, account=customer(rep), planned_at=VISIT_TIME, purpose="拜访")
    with tenant_context(beta):
        assert VisitPlan.objects.count() == 0
        assert mark_missed_visits(VISIT_TIME + timedelta(days=3)) == 0
