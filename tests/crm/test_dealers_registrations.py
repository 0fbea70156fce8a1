"""Deal registrations (报备): submission, conflicts, review by the level above, conversion, expiry."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.customers.models import Account, PoolPolicy
from crm.dealers.models import DealRegistration
from crm.dealers.registrations import (
    approve_registration,
    convert_registration,
    expire_registrations,
    reject_registration,
)
from crm.dealers.reviewers import may_review, reviewers_of
from crm.records import audit
from crm.records.models import NumberSequence
from crm.sales.models import Opportunity, Pipeline, Stage
from crm_platform.errors import Conflict, NotFound, PermissionDenied
from tests.conftest import admin_of
from tests.crm import test_dealers_support as build
from tests.crm import test_orders_support as clock

TODAY = date(2026, 4, 1)


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def open_deal(customer, node=None, stage="needs"):
    deal = Opportunity(
        account=customer,
        name=f"Deal {customer.name}",
        stage=Stage.objects.get(pipeline__is_default=True, code=stage),
    )
    deal.place(channel_node=node)
    deal.save()
    return deal


def test_a_prospect_is_registered_on_the_dealers_node_with_normalised_keys(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        product = clock.product()
        registration = build.register(
            t["retailer_user"],
            company_name="杭州 数澜科技有限公司",
            credit_code=build.CREDIT_CODES[0].lower(),
            phone="0571-8523 1107",
            contact_name="王经理",
            products=[product],
            expected_amount="250000.50",
            notes="Two floors of split AC",
        )
        history = audit.history(registration)
        products = list(registration.products.all())
    assert registration.status == "submitted" and registration.number.startswith("BB-202604-")
    assert registration.channel_node == t["retailer"] and registration.channel_path == t["retailer"].path
    assert registration.owner == t["retailer_user"]
    assert (registration.name_key, registration.credit_code, registration.phone) == (
        "杭州数澜科技",
        build.CREDIT_CODES[0],
        "+8657185231107",
    )
    assert registration.expected_amount == Decimal("250000.50") and registration.currency == "CNY"
    assert registration.expires_on == TODAY + timedelta(days=90)
    assert registration.conflicts == [] and products == [product]
    assert history[0].action == "created" and history[0].user_id == t["retailer_user"].pk


def test_bad_input_is_reported_per_field_and_nothing_is_written(alpha, english):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        retired = clock.product(active=False)
        sequences = NumberSequence.objects.count()
        with pytest.raises(ValidationError) as error:
            build.register(
                t["retailer_user"],
                company_name="  ",
                credit_code="123",
                phone="12",
                products=[retired],
                expected_amount="-5",
                currency="yuan",
                expected_close_date=TODAY - timedelta(days=1),
            )
        assert not DealRegistration.objects.exists()
        assert NumberSequence.objects.count() == sequences
    errors = error.value.message_dict
    assert set(errors) == {
        "company_name",
        "credit_code",
        "phone",
        "products",
        "expected_amount",
        "currency",
        "expected_close_date",
    }
    assert errors["expected_close_date"] == ["The expected close date cannot be in the past."]


def test_brand_staff_outside_the_tree_cannot_register(alpha):
    with tenant_context(alpha), pytest.raises(PermissionDenied):
        build.register(admin_of(alpha), company_name="Any Co")


@pytest.mark.parametrize(
    ("mine", "theirs", "matched_on"),
    [
        ({"company_name": "杭州绿城精装家居有限公司"}, {"company_name": "杭州 绿城精装家居"}, ["name"]),
        (
            {"company_name": "A Co", "credit_code": build.CREDIT_CODES[1]},
            {"company_name": "B Co", "credit_code": build.CREDIT_CODES[1].lower()},
            ["credit_code"],
        ),
        (
            {"company_name": "C Co", "phone": "+86 571 8899 3025"},
            {"company_name": "D Co", "phone": "0571-8899 3025"},
            ["phone"],
        ),
    ],
)
def test_another_dealers_live_registration_conflicts_by_each_key(alpha, mine, theirs, matched_on):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        earlier = build.register(t["sibling_user"], **theirs)
        registration = build.register(t["retailer_user"], **mine)
    [conflict] = registration.conflicts
    assert conflict["kind"] == "registration" and conflict["id"] == earlier.pk
    assert conflict["matched_on"] == matched_on and conflict["node"] == t["sibling"].name


def test_the_same_account_conflicts_with_registrations_and_open_deals_but_not_closed_ones(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        customer = build.account("苏州星海公寓管理有限公司", channel_node=t["distributor"])
        open_one = open_deal(customer, node=t["brand"])
        open_deal(customer, node=t["brand"], stage="won")
        open_deal(customer, node=t["brand"], stage="lost")
        # The agent's admin sees its distributors' customers (a plain dealer user would not).
        earlier = build.register(t["agent_admin"], account=customer)
        registration = build.register(t["distributor_user"], account=customer)
    kinds = [(c["kind"], c["id"], c["matched_on"][0]) for c in registration.conflicts]
    assert kinds == [("opportunity", open_one.pk, "account"), ("registration", earlier.pk, "account")]


def test_an_open_deal_of_a_duplicate_account_conflicts_with_a_prospect(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        customer = build.account("南京金陵家电贸易有限公司", phone="+862583324406")
        deal = open_deal(customer)
        registration = build.register(t["retailer_user"], company_name="Some name", phone="025-8332 4406")
        by_name = build.register(t["distributor_user"], company_name="南京 金陵家电贸易")
    assert [(c["kind"], c["id"], c["matched_on"]) for c in registration.conflicts] == [
        ("opportunity", deal.pk, ["phone"])
    ]
    assert by_name.conflicts[0]["id"] == deal.pk and by_name.conflicts[0]["matched_on"] == ["name"]


def test_own_nodes_earlier_registrations_and_expired_ones_do_not_conflict(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        build.register(t["retailer_admin"], company_name="佛山顺德美食酒家")
        again = build.register(t["retailer_user"], company_name="佛山顺德美食酒家")
        old = build.register(t["sibling_user"], company_name="成都锦江宾馆有限责任公司")
    assert again.conflicts == []
    with tenant_context(alpha), clock.on(TODAY + timedelta(days=91)):
        # Past its protection period the old one conflicts no more, even before the job ran.
        assert build.register(t["retailer_user"], company_name="成都锦江宾馆").conflicts == []
        assert expire_registrations() >= 1
        old.refresh_from_db()
        assert old.status == "expired"
        assert build.register(t["distributor_user"], company_name="成都锦江宾馆").conflicts[0]["id"] != old.pk


def test_block_mode_refuses_with_a_field_error_naming_the_conflict(alpha, english):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        build.policy(conflict_mode="block")
        earlier = build.register(t["sibling_user"], company_name="Pacific Rim Hotels (Shanghai) Ltd.")
        count = DealRegistration.objects.count()
        with pytest.raises(ValidationError) as error:
            build.register(t["retailer_user"], company_name="pacific rim hotels (shanghai)")
        assert DealRegistration.objects.count() == count
    [message] = error.value.message_dict["company_name"]
    assert earlier.number in message and "Already registered by another dealer" in message


def test_the_parent_nodes_dealer_admin_reviews_and_nobody_else(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        registration = build.register(t["retailer_user"], company_name="滨江云栖小区业主委员会")
        assert list(reviewers_of(registration)) == [t["distributor_admin"]]
        for outsider in ("sibling_admin", "retailer_admin", "distributor_user", "agent_admin"):
            assert not may_review(t[outsider], registration), outsider
            # Refused; those outside its scope may not even find it.
            with pytest.raises((PermissionDenied, NotFound)):
                approve_registration(actor=t[outsider], registration=registration)
        for sees_it in ("retailer_admin", "agent_admin"):
            with pytest.raises(PermissionDenied):
                approve_registration(actor=t[sees_it], registration=registration)
        assert not may_review(admin_of(alpha), registration)  # the brand reviews only the agents
        registration.refresh_from_db()
        assert registration.status == "submitted"
        approved = approve_registration(actor=t["distributor_admin"], registration=registration)
    assert approved.status == "approved" and approved.reviewed_by == t["distributor_admin"]
    assert approved.expires_on == TODAY + timedelta(days=90)


def test_the_brand_reviews_registrations_of_dealers_directly_below_it(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        manager = build.user("sales_manager")
        registration = build.register(t["agent_user"], company_name="广州白云国际会议中心")
        assert may_review(manager, registration) and may_review(admin_of(alpha), registration)
        assert not may_review(t["agent_admin"], registration)
        assert not may_review(build.user("sales_rep"), registration)
        with pytest.raises(PermissionDenied):
            reject_registration(actor=t["agent_admin"], registration=registration, reason="no")
        with pytest.raises(ValidationError) as error:
            reject_registration(actor=admin_of(alpha), registration=registration, reason=" ")
        assert set(error.value.message_dict) == {"reason"}
        rejected = reject_registration(
            actor=admin_of(alpha), registration=registration, reason="已有直营客户"
        )
        with pytest.raises(Conflict):
            approve_registration(actor=admin_of(alpha), registration=registration)
        actions = [change.action for change in audit.history(rejected)]
    assert rejected.status == "rejected" and rejected.rejection_reason == "已有直营客户"
    assert actions == ["created", "updated"]


def test_only_one_dealer_is_protected_for_a_customer(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        first = build.register(t["retailer_user"], company_name="深圳湾一号业主服务中心")
        second = build.register(t["sibling_user"], company_name="深圳湾一号业主服务中心")
        approve_registration(actor=t["distributor_admin"], registration=first)
        with pytest.raises(Conflict):
            approve_registration(actor=t["agent_admin"], registration=second)


def test_conversion_creates_the_account_contact_and_an_opportunity_on_the_dealers_node(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        registration = build.register(
            t["retailer_user"],
            company_name="顺德大良新城花园物业管理处",
            phone="0757-2638 0912",
            contact_name="李主任",
            expected_amount="88000",
        )
        approve_registration(actor=t["distributor_admin"], registration=registration)
        with pytest.raises(PermissionDenied):  # above the parent: sees it, but neither dealer nor reviewer
            convert_registration(actor=t["agent_admin"], registration=registration)
        converted = convert_registration(actor=t["retailer_user"], registration=registration)
        account, deal = converted.account, converted.opportunity
        contact_names = list(account.contacts.values_list("name", flat=True))
        default_pipeline = Pipeline.objects.get(is_default=True)
        with pytest.raises(Conflict):
            convert_registration(actor=t["retailer_user"], registration=registration)
    assert converted.status == "converted" and converted.converted_at is not None
    assert account.name == "顺德大良新城花园物业管理处" and account.phone == "+867572638 0912".replace(
        " ", ""
    )
    assert account.channel_node == t["retailer"] and account.owner == t["retailer_user"]
    assert contact_names == ["李主任"]
    assert deal.stage.pipeline == default_pipeline and deal.stage.outcome == "open"
    assert (deal.amount, deal.currency, deal.expected_close_date) == (
        Decimal("88000.00"),
        "CNY",
        registration.expected_close_date,
    )
    assert deal.channel_node == t["retailer"] and deal.channel_path == t["retailer"].path
    assert deal.owner == t["retailer_user"] and deal.account == account


def test_conversion_of_an_existing_account_puts_the_deal_on_the_dealers_node(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        customer = build.account("锦华酒店管理上海有限公司", channel_node=t["distributor"])
        registration = build.register(t["agent_admin"], account=customer)
        approve_registration(actor=admin_of(alpha), registration=registration)
        converted = convert_registration(actor=admin_of(alpha), registration=registration)
        assert Account.objects.filter(name_key=customer.name_key).count() == 1
    assert converted.account == customer and converted.opportunity.channel_node == t["agent"]


def test_conversion_goes_through_the_customers_duplicate_check(alpha, english):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        registration = build.register(t["retailer_user"], company_name="杭州小王家电维修服务部")
        approve_registration(actor=t["distributor_admin"], registration=registration)
        # Someone at the brand enters the customer meanwhile; the tenant blocks duplicates.
        build.account("杭州小王家电维修服务部", channel_node=t["brand"])
        PoolPolicy.objects.update_or_create(
            pk=PoolPolicy.objects.first().pk if PoolPolicy.objects.exists() else None,
            defaults={"duplicate_mode": "block"},
        )
        with pytest.raises(ValidationError) as error:
            convert_registration(actor=t["retailer_user"], registration=registration)
        registration.refresh_from_db()
        assert registration.status == "approved" and Opportunity.objects.count() == 0
    assert "Duplicate of the existing customer" in error.value.message_dict["company_name"][0]


def test_the_expiry_job_follows_the_protection_period(alpha):
    with tenant_context(alpha), clock.on(TODAY):
        t = build.tree()
        build.policy(protection_days=30)
        waiting = build.register(t["retailer_user"], company_name="Waiting Co")
        approved = build.register(t["distributor_user"], company_name="Approved Co")
        converted = build.register(t["sibling_user"], company_name="Converted Co")
    with tenant_context(alpha), clock.on(TODAY + timedelta(days=10)):
        approve_registration(actor=t["agent_admin"], registration=approved)  # protected from today
        approve_registration(actor=t["agent_admin"], registration=converted)
        convert_registration(actor=t["sibling_user"], registration=converted)
    with tenant_context(alpha), clock.on(TODAY + timedelta(days=30)):
        assert expire_registrations() == 0  # the last protected day
    with tenant_context(alpha), clock.on(TODAY + timedelta(days=31)):
        assert expire_registrations() == 1
        assert expire_registrations() == 0
        with pytest.raises(Conflict):
            approve_registration(actor=t["distributor_admin"], registration=waiting)
    with tenant_context(alpha), clock.on(TODAY + timedelta(days=41)):
        assert expire_registrations() == 1
        statuses = dict(DealRegistration.objects.values_list("company_name", "status"))
        history = audit.history(DealRegistration.objects.get(company_name="Waiting Co"))
    assert statuses == {"Waiting Co": "expired", "Approved Co": "expired", "Converted Co": "converted"}
    assert history[-1].changes["status"] == ["submitted", "expired"]
    assert history[-1].details.get("job") == "expire_registrations"
