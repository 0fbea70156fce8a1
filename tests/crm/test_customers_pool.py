"""The customer pool (公海): caps, cooldown, automatic returns on a controllable clock, handovers."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from crm.customers import pool
from crm.customers.models import Account, PoolEvent, PoolPolicy
from crm.records import audit
from crm.records.models import Reminder
from crm.sales.models import Opportunity, Pipeline
from crm.service import services as service
from crm.service.models import Case
from crm_platform.errors import Conflict, LimitReached, NotFound

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 10):
    return time_machine.travel(datetime(2026, 3, day, hour, tzinfo=SHANGHAI), tick=False)


def rep(email: str) -> User:
    return User.objects.create(email=email, full_name=email, role=Role.objects.get(code="sales_rep"))


def pooled(n: int, prefix: str = "公海客户") -> list[Account]:
    return [Account.objects.create(name=f"{prefix} {i}") for i in range(n)]


@pytest.fixture
def tenant(alpha):
    with tenant_context(alpha):
        PoolPolicy.objects.create(
            daily_claim_cap=2,
            holding_cap=3,
            cooldown_days=7,
            return_without_follow_up_days=30,
            return_without_deal_days=90,
            warn_days_before_return=3,
        )
        yield alpha


def test_claims_stop_at_the_daily_cap_and_start_again_the_next_day(tenant):
    zhang = rep("zhang@alpha.example")
    a, b, c = pooled(3)
    with at(2):
        pool.claim_from_pool(actor=zhang, account=a)
        pool.claim_from_pool(actor=zhang, account=b)
        with pytest.raises(LimitReached):
            pool.claim_from_pool(actor=zhang, account=c)
    assert Account.objects.get(pk=c.pk).owner is None  # the refused claim changed nothing
    with at(3, hour=0):
        assert pool.claim_from_pool(actor=zhang, account=c).owner == zhang


def test_claims_stop_at_the_holding_cap(tenant):
    zhang = rep("zhang@alpha.example")
    accounts = pooled(4)
    with at(2):
        pool.claim_from_pool(actor=zhang, account=accounts[0])
        pool.claim_from_pool(actor=zhang, account=accounts[1])
    with at(3):
        pool.claim_from_pool(actor=zhang, account=accounts[2])
        with pytest.raises(LimitReached):
            pool.claim_from_pool(actor=zhang, account=accounts[3])
        pool.release_to_pool(actor=zhang, account=accounts[0])
        assert pool.claim_from_pool(actor=zhang, account=accounts[3]).owner == zhang


def test_an_owned_account_cannot_be_claimed(tenant):
    zhang, li = rep("zhang@alpha.example"), rep("li@alpha.example")
    (a,) = pooled(1)
    pool.claim_from_pool(actor=zhang, account=a)
    with pytest.raises(NotFound):  # another rep's customer is out of li's sight altogether
        pool.claim_from_pool(actor=li, account=a)
    boss = User.objects.create(
        email="boss@alpha.example", full_name="boss", role=Role.objects.get(code="admin")
    )
    with pytest.raises(Conflict):  # who can see it still cannot claim an owned account
        pool.claim_from_pool(actor=boss, account=a)


def test_a_released_account_waits_out_the_cooldown_for_the_same_rep_only(tenant):
    zhang, li = rep("zhang@alpha.example"), rep("li@alpha.example")
    (a,) = pooled(1)
    with at(1):
        pool.claim_from_pool(actor=zhang, account=a)
        pool.release_to_pool(actor=zhang, account=a, reason="no budget")
    # Released at 10:00 on the 1st: 7 days later to the minute, not before.
    one_minute_early = time_machine.travel(datetime(2026, 3, 8, 9, 59, tzinfo=SHANGHAI), tick=False)
    with one_minute_early, pytest.raises(Conflict):
        pool.claim_from_pool(actor=zhang, account=a)
    with at(8, hour=10):
        pool.claim_from_pool(actor=zhang, account=a)
    pool.release_to_pool(actor=zhang, account=a)
    with at(8, hour=11):
        assert pool.claim_from_pool(actor=li, account=a).owner == li


def test_idle_accounts_return_on_the_day_the_rule_says_and_not_before(tenant):
    zhang = rep("zhang@alpha.example")
    quiet, busy = pooled(2)
    with at(1):
        pool.claim_from_pool(actor=zhang, account=quiet)
        pool.claim_from_pool(actor=zhang, account=busy)
    with at(20):
        pool.touch_account_activity(busy)
    # 30 days after the claim, one minute early: nothing returns, but the owner is warned.
    with time_machine.travel(datetime(2026, 3, 31, 9, 59, tzinfo=SHANGHAI), tick=False):
        assert pool.return_idle_accounts() == 0
        assert pool.return_idle_accounts() == 0
    warnings = Reminder.objects.filter(user=zhang, kind="pool_return_warning")
    assert [r.object_id for r in warnings] == [quiet.pk]
    with at(31, hour=10):
        assert pool.return_idle_accounts() == 1
        assert pool.return_idle_accounts() == 0  # idempotent
    quiet.refresh_from_db()
    busy.refresh_from_db()
    assert quiet.owner is None and busy.owner == zhang
    event = PoolEvent.objects.get(account=quiet, action=PoolEvent.Action.RETURN)
    assert event.user == zhang and event.actor is None
    # The return counts as losing it: the cooldown applies to the rep who let it lapse.
    with at(31, hour=11), pytest.raises(Conflict):
        pool.claim_from_pool(actor=zhang, account=quiet)


def test_accounts_without_a_deal_return_after_the_deal_period(tenant):
    zhang = rep("zhang@alpha.example")
    (a,) = pooled(1)
    with at(1):
        pool.claim_from_pool(actor=zhang, account=a)
    for day in range(1, 32, 10):
        with at(day):
            pool.touch_account_activity(a)
    with time_machine.travel(datetime(2026, 5, 30, 10, tzinfo=SHANGHAI), tick=False):
        pool.touch_account_activity(a)
        assert pool.return_idle_accounts() == 1  # 90 days after the claim, no deal


def test_a_departing_reps_book_moves_with_its_open_deals_and_keeps_history(tenant):
    zhang, li = rep("zhang@alpha.example"), rep("li@alpha.example")
    mine = pooled(2)
    stage = Pipeline.objects.get(is_default=True).stages.first()
    for account in mine:
        pool.assign(actor=None, account=account, owner=zhang)
        deal = Opportunity(account=account, name=f"{account.name} deal", stage=stage)
        deal.place(owner=zhang)
        deal.save()
    still_open = service.open_case(
        actor=None, account=mine[0], subject="漏水", kind="complaint", assignee=zhang
    )
    closed = service.open_case(
        actor=None, account=mine[1], subject="安装", kind="installation", assignee=zhang
    )
    Case.objects.filter(pk=closed.pk).update(status=Case.Status.CLOSED)
    assert pool.transfer_accounts(actor=None, from_user=zhang, to_user=li) == 2
    assert set(Account.objects.filter(owner=li)) == set(mine)
    assert set(Opportunity.objects.values_list("owner", flat=True)) == {li.pk}
    assert Case.objects.get(pk=still_open.pk).assignee == li  # open work follows the book
    assert Case.objects.get(pk=closed.pk).assignee == zhang  # closed history is left as it was
    changes = [c.changes.get("owner_id") for c in audit.history(mine[0]) if c.action == "updated"]
    assert [None, zhang.pk] in changes and [zhang.pk, li.pk] in changes


def test_two_reps_claiming_one_account_at_once_get_one_owner(committed_db, two_tenants):
    alpha, _beta = two_tenants
    with tenant_context(alpha):
        reps = [rep(f"racer{i}@alpha.example") for i in range(2)]
        (target,) = pooled(1, prefix="抢单客户")
    outcomes = []

    def race(user):
        try:
            with tenant_context(alpha):
                pool.claim_from_pool(actor=user, account=target.pk)
            outcomes.append("claimed")
        except (Conflict, NotFound):  # the loser finds it owned, or (once owned) out of sight
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(user,)) for user in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(outcomes) == ["claimed", "refused"]
        with tenant_context(alpha):
            assert PoolEvent.objects.filter(account=target, action="claim").count() == 1
    finally:
        with tenant_context(alpha):
            PoolEvent.objects.filter(account=target).delete()
            Account.objects.filter(pk=target.pk).delete()
            User.objects.filter(pk__in=[r.pk for r in reps]).delete()


def test_pools_of_two_tenants_are_apart(tenant, beta):
    with tenant_context(beta):
        assert not Account.objects.filter(name__startswith="公海客户").exists()
        assert PoolPolicy.objects.count() == 0


def test_a_warning_is_not_repeated_on_the_next_run(tenant):
    zhang = rep("zhang@alpha.example")
    (a,) = pooled(1)
    with at(1):
        pool.claim_from_pool(actor=zhang, account=a)
    for hour in (8, 12, 16):
        with at(29, hour=hour):
            pool.return_idle_accounts()
    assert Reminder.objects.filter(kind="pool_return_warning").count() == 1
    assert Reminder.objects.get().due_at == datetime(2026, 3, 1, 10, tzinfo=SHANGHAI) + timedelta(days=30)
