"""Follow-ups: field errors per field, account activity, attachments, next-date reminders, the due
list at its date boundary, the reminder job run twice, audit and tenant isolation."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from crm.activities.models import FollowUp
from crm.activities.services import due_follow_ups, log_follow_up, remind_due_follow_ups, update_follow_up
from crm.customers.models import Account, Contact
from crm.records import audit
from crm.records.models import Reminder
from crm.records.services import MAX_ATTACHMENT_BYTES, attachments_of, get_for
from crm.sales.models import Opportunity, Pipeline
from crm_platform.errors import NotFound
from tests.conftest import admin_of
from tests.crm import test_orders_support as build

DAY = date(2026, 3, 10)


def customer(owner, name="杭州西溪湿地度假酒店") -> Account:
    account = Account(name=name)
    account.place(owner=owner)
    account.save()
    return account


def contact_at(account, name="王芳") -> Contact:
    contact = Contact(account=account, name=name)
    contact.place(owner=account.owner)
    contact.save()
    return contact


def deal_at(account) -> Opportunity:
    stage = Pipeline.objects.get(is_default=True).stages.order_by("position").first()
    deal = Opportunity(account=account, name="中央空调集采", stage=stage)
    deal.place(owner=account.owner)
    deal.save()
    return deal


def reminders(kind=None):
    rows = Reminder.objects.all()
    return rows.filter(kind=kind) if kind else rows


def test_contact_and_opportunity_of_another_account_are_refused_per_field_and_nothing_is_written(alpha):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        hotel, school = customer(rep), customer(rep, "华东师范大学后勤保障部")
        with pytest.raises(ValidationError) as error:
            log_follow_up(
                actor=rep,
                account=hotel,
                method="call",
                contact=contact_at(school),
                opportunity=deal_at(school),
                result="x" * 301,
                next_follow_up_on=DAY + timedelta(days=3),
            )
        assert set(error.value.message_dict) == {"contact", "opportunity", "result"}
        assert "不属于客户" in error.value.message_dict["contact"][0]
        assert FollowUp.objects.count() == 0 and reminders().count() == 0
        assert Account.objects.get(pk=hotel.pk).last_activity_at is None


def test_unknown_method_future_time_and_next_date_before_the_follow_up_are_field_errors(alpha):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        hotel = customer(rep)
        with pytest.raises(ValidationError) as error:
            log_follow_up(
                actor=rep,
                account=hotel,
                method="telegram",
                occurred_at=datetime(2026, 3, 11, 10, tzinfo=build.SHANGHAI),
                next_follow_up_on=date(2026, 3, 9),
            )
        assert set(error.value.message_dict) == {"method", "occurred_at", "next_follow_up_on"}
        with pytest.raises(ValidationError) as error:
            log_follow_up(actor=rep, account=hotel, method="call", next_follow_up_on=date(2026, 3, 9))
        assert set(error.value.message_dict) == {"next_follow_up_on"}


def test_logging_moves_the_accounts_last_activity_forward_only(alpha):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        hotel = customer(rep)
        wang = contact_at(hotel)
        follow_up = log_follow_up(
            actor=rep,
            account=hotel,
            method="wechat",
            contact=wang,
            opportunity=deal_at(hotel),
            outcome="positive",
            result="客户确认需求 / needs confirmed",
        )
        assert Account.objects.get(pk=hotel.pk).last_activity_at == follow_up.occurred_at
        # A visit recorded late (back-dated) does not move the clock back.
        log_follow_up(
            actor=rep, account=hotel, method="visit", occurred_at=follow_up.occurred_at - timedelta(days=5)
        )
        assert Account.objects.get(pk=hotel.pk).last_activity_at == follow_up.occurred_at
    assert follow_up.owner == rep and follow_up.contact == wang


def test_attachments_are_stored_and_an_oversized_one_refuses_the_whole_follow_up(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        hotel = customer(rep)
        quote = SimpleUploadedFile("报价单.pdf", b"%PDF-1.4 quote", content_type="application/pdf")
        follow_up = log_follow_up(actor=rep, account=hotel, method="email", attachments=[quote])
        assert [a.name for a in attachments_of(follow_up)] == ["报价单.pdf"]
        huge = SimpleUploadedFile("video.mp4", b"0")
        huge.size = MAX_ATTACHMENT_BYTES + 1
        with pytest.raises(ValidationError) as error:
            log_follow_up(actor=rep, account=hotel, method="visit", attachments=[huge])
        assert set(error.value.message_dict) == {"attachments"}
        assert FollowUp.objects.count() == 1


def test_a_next_date_reminds_the_owner_that_morning(alpha):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        follow_up = log_follow_up(
            actor=rep, account=customer(rep), method="call", next_follow_up_on=date(2026, 3, 13)
        )
        reminder = reminders().get()
        assert (reminder.user, reminder.kind, reminder.record) == (rep, "follow_up_due", follow_up)
    assert reminder.due_at == datetime(2026, 3, 13, 9, tzinfo=build.SHANGHAI)


def test_the_due_list_includes_today_and_overdue_but_not_tomorrow(alpha):
    with tenant_context(alpha):
        rep, other = build.user("sales_rep"), build.user("sales_rep")
        with build.on(DAY):
            overdue = log_follow_up(
                actor=rep, account=customer(rep, "A"), method="call", next_follow_up_on=date(2026, 3, 11)
            )
            today = log_follow_up(
                actor=rep, account=customer(rep, "B"), method="call", next_follow_up_on=date(2026, 3, 12)
            )
            log_follow_up(
                actor=rep, account=customer(rep, "C"), method="call", next_follow_up_on=date(2026, 3, 13)
            )
            log_follow_up(
                actor=other, account=customer(other, "D"), method="call", next_follow_up_on=date(2026, 3, 11)
            )
        with build.on(date(2026, 3, 12), hour=0):
            assert list(due_follow_ups(rep)) == [overdue, today]
        with build.on(date(2026, 3, 11), hour=23):
            assert list(due_follow_ups(rep)) == [overdue]
        assert list(due_follow_ups(rep, date(2026, 3, 10))) == []


def test_a_later_follow_up_settles_the_planned_one_and_closes_its_reminders(alpha):
    with tenant_context(alpha):
        rep, colleague = build.user("sales_rep"), build.user("sales_manager")
        hotel = customer(rep)
        with build.on(DAY):
            planned = log_follow_up(
                actor=rep, account=hotel, method="call", next_follow_up_on=date(2026, 3, 12)
            )
        with build.on(date(2026, 3, 12), hour=15):
            visit = log_follow_up(actor=colleague, account=hotel, method="visit")
            assert list(due_follow_ups(rep)) == []
        assert FollowUp.objects.get(pk=planned.pk).settled_by == visit
        assert reminders("follow_up_due").get().done_at is not None
        # The job finds nothing pending any more.
        assert remind_due_follow_ups(datetime(2026, 3, 20, 9, tzinfo=build.SHANGHAI)) == 0


def test_the_reminder_job_reminds_once_however_often_it_runs(alpha):
    with tenant_context(alpha):
        rep, successor = build.user("sales_rep"), build.user("sales_rep")
        with build.on(DAY):
            due = log_follow_up(
                actor=rep, account=customer(rep), method="call", next_follow_up_on=date(2026, 3, 11)
            )
            log_follow_up(
                actor=rep, account=customer(rep, "later"), method="call", next_follow_up_on=date(2026, 3, 20)
            )
        # The rep left; the follow-up was handed over without a reminder for the successor.
        FollowUp.objects.filter(pk=due.pk).update(owner=successor)
        day_after = datetime(2026, 3, 12, 8, tzinfo=build.SHANGHAI)
        assert remind_due_follow_ups(day_after) == 1
        assert remind_due_follow_ups(day_after) == 1
        rows = sorted(reminders().filter(object_id=due.pk).values_list("user__email", "kind", "due_at"))
    assert rows == sorted(
        [
            (rep.email, "follow_up_due", datetime(2026, 3, 11, 9, tzinfo=build.SHANGHAI)),
            (successor.email, "follow_up_due", datetime(2026, 3, 11, 9, tzinfo=build.SHANGHAI)),
            (successor.email, "follow_up_overdue", datetime(2026, 3, 12, 9, tzinfo=build.SHANGHAI)),
        ]
    )


def test_changing_the_next_date_moves_the_reminder_and_is_audited(alpha):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        follow_up = log_follow_up(
            actor=rep, account=customer(rep), method="call", next_follow_up_on=date(2026, 3, 12)
        )
        update_follow_up(
            actor=rep, follow_up=follow_up, next_follow_up_on=date(2026, 3, 16), result="改期 / moved"
        )
        with pytest.raises(ValidationError) as error:
            update_follow_up(actor=rep, follow_up=follow_up, account=None)
        assert set(error.value.message_dict) == {"account"}
        open_due = reminders().filter(done_at__isnull=True).values_list("due_at", flat=True)
        assert list(open_due) == [datetime(2026, 3, 16, 9, tzinfo=build.SHANGHAI)]
        trail = audit.history(follow_up)
    assert [change.action for change in trail] == ["created", "updated"]
    assert trail[1].user_id == rep.pk
    assert trail[1].changes["next_follow_up_on"] == ["2026-03-12", "2026-03-16"]


def test_tenant_beta_sees_none_of_alphas_follow_ups(alpha, beta):
    with tenant_context(alpha), build.on(DAY):
        rep = build.user("sales_rep")
        follow_up = log_follow_up(actor=rep, account=customer(rep), method="call")
    with tenant_context(beta):
        assert FollowUp.objects.count() == 0
        with pytest.raises(NotFound):
            get_for(admin_of(beta), FollowUp, follow_up.pk)
