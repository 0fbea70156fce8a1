"""Actions over REST: one service call each, arguments checked against the action's schema, the
record answered with, and the one scope filter deciding which records an action may reach."""

import json
from datetime import date

from django_tenants.utils import tenant_context

from accounts.models import Role, User
from crm.customers import leads
from crm.customers.models import Account, Lead
from crm.finance.models import Payment
from crm.finance.payments import set_payment_plan
from crm.orders.models import Order
from tests.conftest import admin_of, signed_in
from tests.crm import test_orders_support as build

ACCOUNTS = "/api/v1/records/customers.account"


def post(client, path: str, body=None, **headers):
    data = json.dumps(body) if body is not None else None
    return client.post(path, data=data, content_type="application/json", headers=headers)


def rep(alpha, email: str) -> User:
    with tenant_context(alpha):
        return User.objects.create(email=email, full_name=email, role=Role.objects.get(code="sales_rep"))


def test_a_rep_claims_from_the_pool_and_releases_again(alpha):
    seller = rep(alpha, "claimer@alpha.example")
    with tenant_context(alpha):
        pooled = Account.objects.create(name="公海客户")  # no owner: in the pool
    client = signed_in(alpha, seller)
    claimed = post(client, f"{ACCOUNTS}/{pooled.pk}/claim")
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["object"] == "customers.account"
    assert claimed.json()["record"]["owner"] == seller.pk

    twice = post(client, f"{ACCOUNTS}/{pooled.pk}/claim")
    assert twice.status_code == 409 and twice.json()["type"].endswith("/conflict")

    released = post(client, f"{ACCOUNTS}/{pooled.pk}/release", {"reason": "不再跟进"})
    assert released.status_code == 200, released.content
    assert released.json()["record"]["owner"] is None
    with tenant_context(alpha):
        assert Account.objects.get(pk=pooled.pk).owner_id is None


def test_arguments_are_checked_field_by_field(alpha):
    client = signed_in(alpha)
    with tenant_context(alpha):
        account = Account.objects.create(name="Assign me")
    refused = post(client, f"{ACCOUNTS}/{account.pk}/assign", {"owner": "me", "colour": "red"})
    assert refused.status_code == 400
    assert {e["field"] for e in refused.json()["errors"]} == {"owner", "colour"}
    missing = post(client, f"{ACCOUNTS}/{account.pk}/assign", {})
    assert [e["field"] for e in missing.json()["errors"]] == ["owner"]
    assert post(client, f"{ACCOUNTS}/{account.pk}/teleport").status_code == 404
    with tenant_context(alpha):
        assert Account.objects.get(pk=account.pk).owner_id is None


def test_an_action_cannot_reach_a_record_out_of_scope(alpha, beta):
    owner = rep(alpha, "owner@alpha.example")
    other = rep(alpha, "other@alpha.example")
    with tenant_context(alpha):
        account = Account(name="Owned")
        account.place(owner=owner)
        account.save()
    refused = post(signed_in(alpha, other), f"{ACCOUNTS}/{account.pk}/release")
    assert refused.status_code == 404
    assert post(signed_in(beta), f"{ACCOUNTS}/{account.pk}/release").status_code == 404
    with tenant_context(alpha):
        assert Account.objects.get(pk=account.pk).owner_id == owner.pk


def test_converting_a_lead_answers_with_the_lead(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        lead = leads.create_lead(actor=admin, person="王经理", company="宁波电器")
    client = signed_in(alpha)
    body = {"opportunity_name": "首批订货", "amount": "50000"}
    converted = post(client, f"/api/v1/records/customers.lead/{lead.pk}/convert", body, idempotency_key="c-1")
    assert converted.status_code == 200, converted.content
    assert converted.json()["record"]["status"] == "converted"
    again = post(client, f"/api/v1/records/customers.lead/{lead.pk}/convert", body, idempotency_key="c-1")
    assert again.json() == converted.json() and again["Idempotent-Replayed"] == "true"
    with tenant_context(alpha):
        assert Lead.objects.get(pk=lead.pk).account.name == "宁波电器"


def test_confirming_an_order_and_registering_a_payment(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        draft = build.order(admin, build.account(), (build.product(), 2, "500"))
    client = signed_in(alpha)
    confirmed = post(client, f"/api/v1/records/orders.order/{draft.pk}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["record"]["status"] == "confirmed"
    with tenant_context(alpha):
        assert Order.objects.get(pk=draft.pk).status == "confirmed"
        plan = set_payment_plan(
            actor=admin, order=draft, instalments=[{"due_date": date(2026, 12, 31), "percentage": 100}]
        )
    path = f"/api/v1/records/finance.paymentplan/{plan.pk}/register_payment"
    bad = post(client, path, {"amount": "lots", "paid_on": "yesterday", "method": "cash"})
    assert {e["field"] for e in bad.json()["errors"]} == {"amount", "paid_on"}
    paid = post(client, path, {"amount": "400", "paid_on": "2026-12-01", "method": "bank_transfer"})
    assert paid.status_code == 200, paid.content
    assert paid.json()["object"] == "finance.payment"
    with tenant_context(alpha):
        assert Payment.objects.get(pk=paid.json()["record"]["id"]).amount == 400
