"""Standardised customer fields, duplicate detection (warn or block) and merging."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.customers import services
from crm.customers.duplicates import find_duplicates, merge_accounts
from crm.customers.leads import convert_lead, create_lead
from crm.customers.models import Account, Contact, Lead, MergeRecord, PoolPolicy
from crm.customers.normalize import company_key
from crm.records import audit
from crm.records.models import Attachment, Reminder
from crm.records.services import attach, remind
from crm.sales.models import Opportunity, Pipeline
from crm_platform.errors import Conflict
from tests.conftest import admin_of

VALID_USCC = "91110000600037341L"


@pytest.fixture
def admin(alpha):
    user = admin_of(alpha)
    with tenant_context(alpha):
        yield user


def test_fields_are_standardised_on_save(admin):
    saved = services.create_account(
        actor=admin,
        name="杭州 数澜科技有限公司",
        phone="0571-8523 1107",
        email=" Sales@ShuLan.CN ",
        credit_code=VALID_USCC.lower(),
    )
    account = saved.account
    assert (account.phone, account.email, account.credit_code) == (
        "+8657185231107",
        "sales@shulan.cn",
        VALID_USCC,
    )
    assert account.name_key == company_key("杭州数澜科技") == "杭州数澜科技"
    assert account.owner == admin


def test_bad_phone_credit_code_and_email_are_field_errors_and_nothing_is_saved(admin):
    with pytest.raises(ValidationError) as error:
        services.create_account(actor=admin, name="Bad Data Ltd", phone="12")
    assert set(error.value.message_dict) == {"phone"}
    with pytest.raises(ValidationError) as error:
        services.create_account(actor=admin, name="Bad Data Ltd", credit_code="91110000600037341X")
    assert set(error.value.message_dict) == {"credit_code"}
    with pytest.raises(ValidationError) as error:
        services.create_account(actor=admin, name="", email="not-an-email")
    assert {"name", "email"} <= set(error.value.message_dict)
    assert not Account.objects.filter(name="Bad Data Ltd").exists()


def test_duplicates_warn_by_default(admin):
    first = services.create_account(actor=admin, name="深圳鹏程电器有限公司").account
    second = services.create_account(actor=admin, name="深圳 鹏程电器", phone="0755-8665 3372")
    assert [(d.account, d.matched_on) for d in second.duplicates] == [(first, ["name_key"])]
    third = services.create_account(actor=admin, name="Another name", phone="+86 755 8665 3372")
    assert [d.account for d in third.duplicates] == [second.account]


def test_duplicates_block_when_the_tenant_says_so(admin):
    PoolPolicy.objects.create(duplicate_mode="block")
    original = services.create_account(actor=admin, name="Other", credit_code=VALID_USCC).account
    with pytest.raises(ValidationError) as error:
        services.create_account(actor=admin, name="Renamed Co", credit_code=VALID_USCC)
    assert "credit_code" in error.value.message_dict
    assert str(original.pk) in error.value.message_dict["credit_code"][0]
    # Updating a record is checked the same way, against everyone but itself.
    services.update_account(actor=admin, account=original, name="Other Renamed")
    assert find_duplicates(credit_code=VALID_USCC, exclude_pk=original.pk) == []


def test_merge_moves_every_child_and_the_history_to_the_survivor(admin, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    survivor = services.create_account(actor=admin, name="华东置业").account
    loser = services.create_account(actor=admin, name="华东置业集团", industry="地产").account
    contact = services.add_contact(actor=admin, account=loser, name="王经理")
    stage = Pipeline.objects.get(is_default=True).stages.first()
    deal = Opportunity(account=loser, name="空调集采", stage=stage)
    deal.place(owner=admin)
    deal.save()
    lead = create_lead(actor=admin, person="刘工", company="")
    convert_lead(actor=admin, lead=lead, account=loser)
    attachment = attach(loser, SimpleUploadedFile("brochure.pdf", b"%PDF"), by=admin)
    reminder = remind(admin, "follow-up", loser, "Call", timezone.now())
    services.update_account(actor=admin, account=loser, city="上海")

    merged = merge_accounts(actor=admin, survivor=survivor, loser=loser, take_from_loser=("industry",))

    assert merged.industry == "地产"
    assert not Account.objects.filter(pk=loser.pk).exists()
    assert set(Contact.objects.filter(account=survivor)) >= {contact}
    assert Opportunity.objects.get(pk=deal.pk).account == survivor
    assert Lead.objects.get(pk=lead.pk).account == survivor
    assert Attachment.objects.get(pk=attachment.pk).object_id == survivor.pk
    assert Reminder.objects.get(pk=reminder.pk).object_id == survivor.pk
    record = MergeRecord.objects.get(survivor=survivor)
    assert record.loser_id == loser.pk and record.loser_snapshot["name"] == "华东置业集团"
    assert record.moved["sales.opportunity"] == 1 and record.moved["customers.contact"] == 2
    history = audit.history(survivor)
    assert any(c.changes.get("city") == ["", "上海"] for c in history)  # the loser's edits moved over
    with pytest.raises(Conflict):
        merge_accounts(actor=admin, survivor=survivor, loser=survivor)


def test_a_lead_converts_once_into_account_contact_and_deal(admin):
    lead = create_lead(actor=admin, person="陈女士", company="成都天府公寓", phone="028-6833 2240")
    converted = convert_lead(actor=admin, lead=lead, opportunity_name="新风系统", amount=120000)
    assert converted.status == Lead.Status.CONVERTED
    assert converted.account.name == "成都天府公寓" and converted.contact.name == "陈女士"
    assert converted.opportunity.amount == 120000 and converted.opportunity.account == converted.account
    with pytest.raises(Conflict):
        convert_lead(actor=admin, lead=lead)


def test_a_failed_conversion_writes_nothing(admin):
    lead = create_lead(actor=admin, person="No Company")
    with pytest.raises(ValidationError) as error:
        convert_lead(actor=admin, lead=lead, opportunity_name="x")
    assert "company" in error.value.message_dict
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.NEW
    assert not Contact.objects.filter(name="No Company").exists()


def test_value_class_and_lifecycle_follow_won_deals_unless_set_by_hand(admin):
    from crm.customers.services import refresh_classification

    account = services.create_account(actor=admin, name="Repeat Buyer").account
    won = Pipeline.objects.get(is_default=True).stages.get(outcome="won")
    for amount in (600000, 500000):
        deal = Opportunity(account=account, name="deal", stage=won, amount=amount)
        deal.save()
    account = refresh_classification(account)
    assert (account.value_class, account.lifecycle) == ("A", "repeat")
    services.update_account(actor=admin, account=account, value_class="B")
    assert refresh_classification(account).value_class == "B"
