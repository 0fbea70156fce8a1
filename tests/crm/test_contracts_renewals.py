"""Contracts: numbering (per-period reset, configurable, unique under concurrency), renewal, the
renewal-reminder and expiry jobs."""

import threading
from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.contracts import renewals
from crm.contracts import services as contracts
from crm.contracts.models import Contract
from crm.customers.models import Account
from crm.records.models import NumberSequence, Reminder
from crm.records.services import configure_numbering
from crm_platform.errors import Conflict
from tests.conftest import admin_of
from tests.crm import test_catalog_support as build
from tests.crm.test_orders_support import SHANGHAI, on

SIGNED = [
    {"side": "ours", "name": "陈志华", "signed_on": date(2026, 1, 5)},
    {"side": "theirs", "name": "Li Ming", "signed_on": date(2026, 1, 5)},
]


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in English; the tenants' default language is zh-Hans."""
    with translation.override("en"):
        yield


def contract(actor, customer=None, **kwargs):
    kwargs.setdefault("start_date", date(2026, 1, 1))
    kwargs.setdefault("end_date", date(2026, 12, 31))
    return contracts.create_contract(
        actor=actor,
        account=customer or build.account(),
        title="年度维保合同 Annual maintenance",
        amount=kwargs.pop("amount", "36000"),
        signatories=SIGNED,
        **kwargs,
    )


def active(actor, **kwargs):
    with on(date(2026, 1, 5)):
        return contracts.activate_contract(actor=actor, contract=contract(actor, **kwargs))


def test_numbers_run_in_sequence_and_restart_every_month(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = build.account()
        with on(date(2026, 3, 30)):
            numbers = [contract(admin, customer).number for _ in range(2)]
            with pytest.raises(ValidationError):
                contract(admin, customer, end_date=date(2025, 1, 1))  # refused: burns no number
            numbers.append(contract(admin, customer).number)
        with on(date(2026, 4, 1)):
            numbers.append(contract(admin, customer).number)
    assert numbers == ["HT202603-0001", "HT202603-0002", "HT202603-0003", "HT202604-0001"]


def test_the_numbering_is_configurable(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        configure_numbering("contract", "HZ-HT-{yyyy}-{seq:05d}", NumberSequence.Reset.YEARLY)
        with on(date(2026, 11, 30)):
            first = contract(admin).number
        with on(date(2026, 12, 1)):
            second = contract(admin).number
        with on(date(2027, 1, 2)):
            third = contract(admin).number
    assert [first, second, third] == ["HZ-HT-2026-00001", "HZ-HT-2026-00002", "HZ-HT-2027-00001"]


def test_concurrent_contracts_get_unique_numbers(committed_db, two_tenants):
    alpha, _beta = two_tenants
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = build.account("并发测试客户 concurrency")
        saved = list(
            NumberSequence.objects.filter(key="contract").values("pattern", "reset", "period", "last_value")
        )
    numbers, failures = [], []

    def create():
        try:
            with tenant_context(alpha):
                numbers.append(contract(admin, customer).number)
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        assert len(numbers) == len(set(numbers)) == 8
        sequence = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
        assert sequence == list(range(sequence[0], sequence[0] + 8))
    finally:
        with tenant_context(alpha):
            Contract.objects.filter(account=customer).delete()
            Account.objects.filter(pk=customer.pk).delete()
            NumberSequence.objects.filter(key="contract").delete()
            for row in saved:
                NumberSequence.objects.create(key="contract", **row)


def test_the_owner_is_reminded_once_within_the_notice_period(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        yearly = active(rep)  # ends 2026-12-31, 30 days' notice
        early = active(rep, renewal_notice_days=60)
        active(None)  # nobody owns it: nobody to remind
        contract(rep, end_date=date(2026, 12, 1))  # a draft is not reminded
        with on(date(2026, 10, 31)):
            assert renewals.remind_renewals() == 0
        with on(date(2026, 11, 1), hour=8):
            assert renewals.remind_renewals() == 1
        for day, hour in ((date(2026, 11, 1), 16), (date(2026, 11, 20), 10)):
            with on(day, hour):
                assert renewals.remind_renewals() == 0
        with on(date(2026, 12, 1), hour=7):
            assert renewals.remind_renewals() == 1
        with on(date(2026, 12, 2)):
            assert renewals.remind_renewals() == 0
        reminders = list(Reminder.objects.filter(kind="contract_renewal").order_by("due_at"))
        assert [(r.user, r.object_id) for r in reminders] == [(rep, early.pk), (rep, yearly.pk)]
        assert reminders[1].due_at == datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
        assert yearly.number in reminders[1].message and "2026-12-31" in reminders[1].message


def test_active_contracts_past_their_end_expire_once(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        ending = active(admin)
        running = active(admin, end_date=date(2027, 6, 30))
        with on(date(2026, 12, 31), hour=23):
            assert renewals.expire_contracts() == 0
        with on(date(2027, 1, 1), hour=0):
            assert renewals.expire_contracts() == 1
            assert renewals.expire_contracts() == 0
        ending.refresh_from_db()
        running.refresh_from_db()
    assert (ending.status, running.status) == ("expired", "active")


def test_renewal_creates_the_linked_follow_on_contract(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin)
        with on(date(2026, 1, 5)):
            old = contracts.create_contract(
                actor=admin,
                account=build.account(),
                title="空调维保",
                start_date=date(2026, 1, 1),
                end_date=date(2026, 12, 31),
                lines=[{"product": aircon, "quantity": 12, "unit_price": "300"}],
                payment_terms="按季度支付",
                signatories=SIGNED,
                renewal_notice_days=45,
            )
            old = contracts.activate_contract(actor=admin, contract=old)
        with on(date(2026, 11, 20)):
            assert renewals.remind_renewals() == 1
            with pytest.raises(Conflict):
                renewals.renew_contract(actor=admin, contract=contract(admin))  # still a draft
            new = renewals.renew_contract(actor=admin, contract=old)
            with pytest.raises(Conflict):
                renewals.renew_contract(actor=admin, contract=old)
            old.refresh_from_db()
        assert (old.status, new.status, new.renewed_from, old.renewal) == ("renewed", "draft", old, new)
        assert (new.start_date, new.end_date) == (date(2027, 1, 1), date(2027, 12, 31))
        assert (new.amount, new.payment_terms, new.renewal_notice_days) == (old.amount, "按季度支付", 45)
        assert new.number.startswith("HT202611-") and new.account == old.account
        assert list(new.lines.values_list("product", "quantity", "line_total")) == list(
            old.lines.values_list("product", "quantity", "line_total")
        )
        # The renewal reminder is done, and a renewed contract neither expires nor is reminded again.
        assert not Reminder.objects.filter(kind="contract_renewal", done_at__isnull=True).exists()
        with on(date(2027, 1, 2)):
            assert renewals.expire_contracts() == 0
            assert renewals.remind_renewals() == 0


def test_a_renewal_with_bad_dates_is_refused_and_changes_nothing(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        old = active(admin)
        with pytest.raises(ValidationError) as error:
            renewals.renew_contract(
                actor=admin, contract=old, start_date=date(2027, 1, 1), end_date=date(2026, 12, 1)
            )
        assert set(error.value.message_dict) == {"end_date"}
        old.refresh_from_db()
        assert old.status == "active" and Contract.objects.count() == 1


def test_termination_closes_the_renewal_reminder(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        made = active(rep)
        with on(date(2026, 12, 5)):
            renewals.remind_renewals()
            contracts.terminate_contract(actor=rep, contract=made, reason="项目取消")
        reminder = Reminder.objects.get(kind="contract_renewal", object_id=made.pk)
    assert reminder.done_at is not None
    assert reminder.due_at == datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
