"""Credit control: limit and overdue blocks at confirmation and delivery, release rights, the credit log."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from access.principal import forget
from access.sharing import share_record
from crm.finance.credit import (
    CREDIT_CONTROLLER_ROLES,
    CreditBlocked,
    check_account_credit,
    check_credit,
    release_credit_hold,
    request_credit_release_approval,
    set_credit_profile,
)
from crm.finance.models import CreditCheck, CreditProfile
from crm.finance.payments import set_payment_plan
from crm.orders.deliveries import create_delivery
from crm.orders.models import Delivery, Order
from crm.orders.services import cancel_order, confirm_order
from crm.records import audit, events
from crm_platform.errors import Conflict, PermissionDenied
from tests.conftest import admin_of
from tests.crm import test_orders_support as build


def limited(admin, limit, **terms):
    customer = build.account("锦华酒店管理（上海）有限公司")  # noqa: RUF001
    set_credit_profile(actor=admin, account=customer, credit_limit=Decimal(limit), **terms)
    return customer


def test_confirmation_is_held_when_exposure_plus_order_exceeds_the_limit(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = limited(admin, "10000")
        build.confirmed(admin, customer, 6000)
        over = build.order(admin, customer, (build.product(), 1, "4000.01"))
        over = confirm_order(actor=admin, order=over)
        assert over.status == "credit_hold" and over.confirmed_at is None
        assert [reason["code"] for reason in over.credit_hold_reasons] == ["limit_exceeded"]
        check = over.credit_checks.get()
        assert (check.stage, check.result) == ("confirmation", "blocked")
        assert (check.exposure, check.additional_amount, check.credit_limit) == (
            Decimal("6000.00"),
            Decimal("4000.01"),
            Decimal("10000.00"),
        )
        assert check.checked_by == admin and check.reasons[0]["code"] == "limit_exceeded"
        # Exactly up to the limit is fine.
        exact = build.order(admin, customer, (build.product(), 1, "4000.00"))
        assert confirm_order(actor=admin, order=exact).status == "confirmed"


def test_a_held_order_confirms_once_the_exposure_falls(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = limited(admin, "1000")
        first = build.confirmed(admin, customer, 800)
        second = confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 1, 500)))
        assert second.status == "credit_hold"
        cancel_order(actor=admin, order=first)
        second = confirm_order(actor=admin, order=second)
        assert second.status == "confirmed" and second.credit_hold_reasons == []
        assert list(second.credit_checks.order_by("id").values_list("result", flat=True)) == [
            "blocked",
            "passed",
        ]


def test_a_blocked_account_is_held_whatever_the_amount(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = limited(admin, "1000000", blocked=True, block_reason="破产重整")
        order = confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 1, 1)))
        assert order.status == "credit_hold"
        assert order.credit_hold_reasons[0]["code"] == "blocked"
        assert "破产重整" in order.credit_hold_reasons[0]["message"]


def overdue_setup(admin, **terms):
    """An account with a 1000 order whose single instalment fell due on 31 January 2026."""
    customer = limited(admin, "1000000", **terms)
    earlier = build.confirmed(admin, customer, 1000, order_date=date(2026, 1, 2))
    set_payment_plan(
        actor=admin, order=earlier, instalments=[{"due_date": date(2026, 1, 31), "amount": 1000}]
    )
    return customer


def test_overdue_days_block_from_the_day_after_the_threshold(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        with build.on(date(2026, 1, 2)):
            customer = overdue_setup(admin, overdue_days_threshold=30)
        with build.on(date(2026, 3, 2)):  # 30 days overdue: at the threshold, not over it
            result = check_credit(customer, Decimal("1"))
            assert result.passed and result.overdue.oldest_days == 30
            order = confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 1, 1)))
            assert order.status == "confirmed"
        with build.on(date(2026, 3, 3), hour=0):  # 31 days: one day over
            result = check_credit(customer, Decimal("1"))
            assert not result.passed and result.overdue.oldest_days == 31
            assert [reason.code for reason in result.reasons] == ["overdue_days"]
            order = confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 1, 1)))
            assert order.status == "credit_hold"
            assert order.credit_checks.get().oldest_overdue_days == 31


def test_the_overdue_share_blocks_when_above_the_threshold(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), build.on(date(2026, 5, 1)):
        customer = limited(admin, "1000000", overdue_percent_threshold=Decimal("50"))
        half = build.confirmed(admin, customer, 1000, order_date=date(2026, 3, 1))
        set_payment_plan(
            actor=admin,
            order=half,
            instalments=[
                {"due_date": date(2026, 4, 1), "percentage": 50},
                {"due_date": date(2026, 6, 1), "percentage": 50},
            ],
        )
        result = check_credit(customer)
        assert result.overdue.percent == Decimal("50.00") and result.passed  # 50% is not above 50%
        more = build.confirmed(admin, customer, 100, order_date=date(2026, 3, 1))
        set_payment_plan(
            actor=admin, order=more, instalments=[{"due_date": date(2026, 4, 30), "amount": 100}]
        )
        result = check_credit(customer)
        assert result.overdue.percent == Decimal("54.55")
        assert [reason.code for reason in result.reasons] == ["overdue_share"]


def test_finance_releases_a_hold_and_the_release_is_logged(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        finance = build.user("finance", "赵敏")
        customer = limited(admin, "100")
        order = confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 1, 500)))
        order = release_credit_hold(actor=finance, order=order, comment="老客户, 总经理担保")
        assert order.status == "confirmed" and order.credit_released_by == finance
        assert order.confirmed_at is not None and order.credit_hold_reasons == []
        release = order.credit_checks.get(stage="release")
        assert (release.result, release.checked_by, release.comment) == (
            "released",
            finance,
            "老客户, 总经理担保",
        )
        assert release.reasons[0]["code"] == "limit_exceeded"
        change = audit.history(order)[-1]
        assert change.user_id == finance.pk and change.changes["status"] == ["credit_hold", "confirmed"]
        assert change.details == {"comment": "老客户, 总经理担保"}
        with pytest.raises(Conflict):
            release_credit_hold(actor=finance, order=order, comment="again")


def test_a_sales_rep_may_not_release_and_nothing_changes(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        rep = build.user("sales_rep", "张伟")
        customer = limited(admin, "100")
        order = confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 1, 500)))
        with pytest.raises(PermissionDenied):
            release_credit_hold(actor=rep, order=order, comment="please")
        order.refresh_from_db()
        assert order.status == "credit_hold"
        assert not order.credit_checks.filter(stage="release").exists()
        with pytest.raises(ValidationError) as error:
            release_credit_hold(actor=admin, order=order, comment="  ")
        assert "comment" in error.value.message_dict
    assert {"admin", "finance"} == CREDIT_CONTROLLER_ROLES


def test_a_release_can_be_requested_for_approval(alpha, django_capture_on_commit_callbacks):
    admin = admin_of(alpha)
    seen = []
    events.subscribe(seen.append)
    try:
        with tenant_context(alpha):
            rep = build.user("sales_rep")
            customer = limited(admin, "100")
            order = confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 1, 500)))
            share_record(actor=admin, record=order, user=rep, access="edit", reason="大客户跟进")
            with django_capture_on_commit_callbacks(execute=True):
                request_credit_release_approval(actor=rep, order=order, comment="大客户, 请审批")
            confirmed = confirm_order(
                actor=admin, order=build.order(admin, build.account(), (build.product(), 1, 1))
            )
            share_record(actor=admin, record=confirmed, user=rep, access="edit")
            forget(rep)  # rights are read once per request; this is a new one
            with pytest.raises(Conflict):
                request_credit_release_approval(actor=rep, order=confirmed)
    finally:
        events._subscribers.remove(seen.append)
    (event,) = [event for event in seen if event.name == "order.credit_release_requested"]
    assert event.pk == order.pk and event.data["requested_by"] == rep.pk
    assert event.data["reasons"][0]["code"] == "limit_exceeded" and event.data["comment"] == "大客户, 请审批"


def test_credit_is_checked_again_at_delivery(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = limited(admin, "10000")
        order = build.confirmed(admin, customer, 8000)
        line = order.lines.get()
        set_credit_profile(actor=admin, account=customer, credit_limit=Decimal("5000"))
        with pytest.raises(CreditBlocked) as blocked:
            create_delivery(actor=admin, order=order, lines=[{"order_line": line, "quantity": 1}])
        assert blocked.value.result.reasons[0].code == "limit_exceeded"
        order.refresh_from_db()
        assert order.status == "credit_hold" and not Delivery.objects.filter(order=order).exists()
        check = order.credit_checks.get(stage="delivery")
        assert (check.result, check.exposure, check.additional_amount) == (
            "blocked",
            Decimal("8000"),
            Decimal("0"),
        )
        # Released by finance, the delivery goes ahead; the check is still logged, as passed.
        release_credit_hold(actor=admin, order=order, comment="预付款已到")
        create_delivery(actor=admin, order=order, lines=[{"order_line": line, "quantity": 1}])
        order.refresh_from_db()
        assert order.status == "delivered"
        last = order.credit_checks.filter(stage="delivery").latest("id")
        assert last.result == "passed" and [r["code"] for r in last.reasons] == ["limit_exceeded", "released"]


def test_a_release_does_not_outlast_an_outright_block(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = limited(admin, "100")
        order = confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 2, 500)))
        release_credit_hold(actor=admin, order=order, comment="ok")
        set_credit_profile(
            actor=admin, account=customer, credit_limit=Decimal("100"), blocked=True, block_reason="诉讼"
        )
        with pytest.raises(CreditBlocked):
            create_delivery(
                actor=admin, order=order, lines=[{"order_line": order.lines.get(), "quantity": 1}]
            )
        order.refresh_from_db()
        assert order.status == "credit_hold" and order.credit_released_at is None


def test_checks_across_currencies_are_refused_and_write_nothing(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = limited(admin, "10000")
        dollars = build.order(admin, customer, (build.product(), 1, 100), currency="USD")
        with pytest.raises(Conflict, match="USD"):
            confirm_order(actor=admin, order=dollars)
        assert Order.objects.get(pk=dollars.pk).status == "draft"
        assert not CreditCheck.objects.filter(account=customer).exists()
        # Open business in another currency makes the CNY exposure meaningless too.
        other = build.account()
        build.confirmed(admin, other, 100, currency="USD")  # no profile yet: no credit control
        set_credit_profile(actor=admin, account=other, credit_limit=Decimal("10000"))
        with pytest.raises(Conflict, match="USD"):
            check_credit(other, Decimal("1"))


def test_manual_checks_are_logged_too(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = limited(admin, "100")
        result = check_account_credit(actor=admin, account=customer, additional_amount=Decimal("150"))
        assert not result.passed
        check = CreditCheck.objects.get(account=customer)
        assert (check.stage, check.result, check.order) == ("manual", "blocked", None)


def test_only_finance_sets_credit_profiles_with_field_errors(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        customer = build.account()
        with pytest.raises(PermissionDenied):
            set_credit_profile(actor=rep, account=customer, credit_limit=Decimal("1"))
        with pytest.raises(ValidationError) as error:
            set_credit_profile(
                actor=admin,
                account=customer,
                credit_limit=Decimal("-1"),
                overdue_percent_threshold=Decimal("150"),
                risk_class="extreme",
                blocked=True,
            )
        assert set(error.value.message_dict) == {
            "credit_limit",
            "overdue_percent_threshold",
            "risk_class",
            "block_reason",
        }
        assert not CreditProfile.objects.filter(account=customer).exists()
        profile = set_credit_profile(
            actor=admin, account=customer, credit_limit=Decimal("5000"), risk_class="high"
        )
        profile = set_credit_profile(
            actor=admin, account=customer, credit_limit=Decimal("8000"), risk_class="high"
        )
        change = audit.history(profile)[-1].changes
        assert set(change) == {"credit_limit"} and Decimal(str(change["credit_limit"][1])) == 8000


def test_credit_data_stays_in_its_tenant(alpha, beta):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = limited(admin, "100")
        confirm_order(actor=admin, order=build.order(admin, customer, (build.product(), 1, 500)))
    with tenant_context(beta):
        assert not CreditCheck.objects.exists() and not CreditProfile.objects.exists()
