"""The ready templates: a domain module asks for approval by an event; the installed process
routes it and hands the outcome back to the object."""

from datetime import date
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from access.sharing import share_record
from accounts.models import Role
from crm.contracts import services as contracts
from crm.finance.credit import request_credit_release_approval, set_credit_profile
from crm.orders.services import confirm_order
from crm.quotes import approval
from crm.quotes import services as quotes
from tests.crm import test_catalog_support as catalog
from tests.crm import test_orders_support as orders
from tests.workflows.conftest import person
from workflows import engine, templates
from workflows.models import ApprovalRequest, ApprovalTask


def pending_request(record) -> ApprovalRequest:
    return ApprovalRequest.objects.get(record_id=record.pk, object=record._meta.label_lower, status="pending")


def approvers_of(request) -> set[int]:
    return set(request.tasks.filter(status="pending").values_list("approver_id", flat=True))


def quote_with_discount(rep, discount: str):
    product = catalog.product(rep, price="1000", tax_rate="13")
    return quotes.save_quote(
        actor=rep,
        account=catalog.account(),
        lines=[{"product": product, "quantity": 1, "discount_percent": discount}],
    )


def test_a_discount_over_the_role_limit_goes_to_the_manager_and_back_to_the_quote(
    alpha, company, django_capture_on_commit_callbacks
):
    rep, manager = company["rep"], company["manager"]  # a rep may give 5%
    templates.install(actor=company["admin"], name="quote_price")
    quote = quote_with_discount(rep, "12")
    with django_capture_on_commit_callbacks(execute=True):
        approval.submit_for_price_approval(actor=rep, quote=quote)
    request = pending_request(quote)
    assert approvers_of(request) == {manager.pk}
    with django_capture_on_commit_callbacks(execute=True):
        engine.approve(actor=manager, request=request, comment="大客户 同意")
    quote.refresh_from_db()
    request.refresh_from_db()
    # Below the director's threshold, the second step is skipped.
    assert request.status == "approved" and quote.status == "approved"
    assert quote.approval_comment == "大客户 同意"

    second = quote_with_discount(rep, "30")
    with django_capture_on_commit_callbacks(execute=True):
        approval.submit_for_price_approval(actor=rep, quote=second)
    engine.reject(actor=manager, request=pending_request(second), comment="折扣过大")
    second.refresh_from_db()
    assert second.status == "draft" and second.approval_comment == "折扣过大"


def test_the_quote_limit_is_the_submitters_roles(alpha, company):
    rep = company["rep"]
    quote = quote_with_discount(rep, "12")
    assert approval.needs_price_approval(quote, rep)
    Role.objects.filter(code="sales_rep").update(max_discount_percent=Decimal("15"))
    rep.role.refresh_from_db()
    assert approval.needs_price_approval(quote, rep) == []


def test_a_large_contract_passes_manager_finance_and_legal(
    alpha, company, django_capture_on_commit_callbacks
):
    rep, manager = company["rep"], company["manager"]
    templates.install(
        actor=company["admin"],
        name="contract",
        finance_above=Decimal("100000"),
        legal_above=Decimal("500000"),
    )
    lawyer = person("legal")
    small = contracts.create_contract(
        actor=rep,
        account=catalog.account(),
        title="小合同",
        start_date=date(2026, 3, 1),
        end_date=date(2027, 2, 28),
        amount="50000",
    )
    large = contracts.create_contract(
        actor=rep,
        account=catalog.account(),
        title="大合同",
        start_date=date(2026, 3, 1),
        end_date=date(2027, 2, 28),
        amount="800000",
    )
    with django_capture_on_commit_callbacks(execute=True):
        contracts.submit_contract_for_approval(actor=rep, contract=small)
        contracts.submit_contract_for_approval(actor=rep, contract=large)
    small_request, large_request = pending_request(small), pending_request(large)
    engine.approve(actor=manager, request=small_request)
    small_request.refresh_from_db()
    assert small_request.status == "approved"  # finance and legal only above their thresholds

    engine.approve(actor=manager, request=large_request)
    large_request.refresh_from_db()
    assert approvers_of(large_request) == {u.pk for u in company["finance"]}
    engine.approve(actor=company["finance"][1], request=large_request)
    large_request.refresh_from_db()
    assert approvers_of(large_request) == {lawyer.pk}
    engine.approve(actor=lawyer, request=large_request, comment="条款无误")
    large.refresh_from_db()
    large_request.refresh_from_db()
    assert large_request.status == "approved" and large.approved_at is not None and large.status == "draft"
    steps = list(
        ApprovalTask.objects.filter(request=large_request)
        .exclude(status="cancelled")
        .values_list("step", "status")
    )
    assert steps == [(0, "approved"), (1, "approved"), (2, "approved")]


def test_a_credit_hold_is_released_by_finance_approval(alpha, company, django_capture_on_commit_callbacks):
    admin, rep = company["admin"], company["rep"]
    templates.install(actor=admin, name="credit_release")
    customer = orders.account("锦华酒店")
    set_credit_profile(actor=admin, account=customer, credit_limit=Decimal("100"))
    order = confirm_order(actor=admin, order=orders.order(admin, customer, (orders.product(), 1, 500)))
    assert order.status == "credit_hold"
    share_record(actor=admin, record=order, user=rep, access="edit")
    with django_capture_on_commit_callbacks(execute=True):
        request_credit_release_approval(actor=rep, order=order, comment="大客户, 请审批")
    request = pending_request(order)
    assert approvers_of(request) == {u.pk for u in company["finance"]}
    engine.approve(actor=company["finance"][0], request=request, comment="总经理担保")
    order.refresh_from_db()
    assert order.status == "confirmed" and order.credit_hold_reasons == []


def test_without_an_installed_process_nothing_starts(alpha, company, django_capture_on_commit_callbacks):
    quote = quote_with_discount(company["rep"], "12")
    with django_capture_on_commit_callbacks(execute=True):
        approval.submit_for_price_approval(actor=company["rep"], quote=quote)
    quote.refresh_from_db()
    assert quote.status == "pending_approval" and not ApprovalRequest.objects.exists()


@pytest.fixture(autouse=True)
def _in_alpha(alpha):
    with tenant_context(alpha):
        yield
