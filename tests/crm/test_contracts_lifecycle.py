"""Contracts: creation (also from an accepted quote), date and line validation, approval, signing,
activation, termination, files, audit and tenants."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django_tenants.utils import tenant_context

from access.sharing import share_record
from crm.catalog.models import PriceBook
from crm.contracts import services as contracts
from crm.contracts.models import Contract, ContractLine, Signatory
from crm.quotes import services as quotes
from crm.quotes.models import Quote
from crm.records import audit
from crm.records.services import attachments_of, get_for
from crm_platform.errors import Conflict, NotFound
from tests.conftest import admin_of
from tests.crm import test_catalog_support as build
from tests.crm.test_orders_support import on

D = Decimal
BOTH_SIGN = [
    {"side": "ours", "name": "陈志华", "title": "总经理", "signed_on": date(2026, 3, 2)},
    {"side": "theirs", "name": "Li Ming", "title": "Purchasing director", "signed_on": date(2026, 3, 3)},
]


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in English; the tenants' default language is zh-Hans."""
    with translation.override("en"):
        yield


def contract(actor, **kwargs):
    kwargs.setdefault("account", build.account())
    kwargs.setdefault("title", "2026 年度空调供货合同")
    kwargs.setdefault("start_date", date(2026, 3, 1))
    kwargs.setdefault("end_date", date(2027, 2, 28))
    kwargs.setdefault("amount", "120000")
    return contracts.create_contract(actor=actor, **kwargs)


def test_a_contract_with_lines_totals_them(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), on(date(2026, 3, 5)):
        aircon = build.product(admin, tax_rate="13")
        made = contract(
            admin,
            amount=None,
            lines=[
                {"product": aircon, "quantity": 10, "unit_price": "2999", "discount_percent": "5"},
                {
                    "product": aircon.pk,
                    "quantity": "2",
                    "unit_price": "150",
                    "tax_rate": "6",
                    "description": "安装",
                },
            ],
            key_terms="质保三年，上门安装。",  # noqa: RUF001
            payment_terms="30% 预付，70% 验收后 30 天内。",  # noqa: RUF001
            signatories=BOTH_SIGN,
        )
        first, second = made.lines.all()
        signers = sorted(made.signatories.values_list("side", "name"))
    assert made.number == "HT202603-0001" and made.status == "draft" and made.owner == admin
    assert (first.net_amount, first.tax_amount, first.line_total) == (
        D("28490.50"),
        D("3703.77"),
        D("32194.27"),
    )
    assert (second.line_total, second.description) == (D("318.00"), "安装")
    assert (made.amount, made.tax_amount) == (D("32512.27"), D("3721.77"))
    assert signers == [("ours", "陈志华"), ("theirs", "Li Ming")]


def test_the_end_must_come_after_the_start(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        for end in (date(2026, 3, 1), date(2026, 2, 1)):
            with pytest.raises(ValidationError) as error:
                contract(admin, start_date=date(2026, 3, 1), end_date=end)
            assert error.value.message_dict == {"end_date": ["The end date must be after the start date."]}
        with pytest.raises(ValidationError) as error:
            contract(admin, start_date="soon", end_date=None)
        assert set(error.value.message_dict) == {"start_date", "end_date"}
        made = contract(admin)
        with pytest.raises(ValidationError) as error:
            contracts.update_contract(actor=admin, contract=made, end_date=date(2026, 1, 1))
        assert set(error.value.message_dict) == {"end_date"}
        made.refresh_from_db()
        assert made.end_date == date(2027, 2, 28)
        assert Contract.objects.count() == 1


def test_bad_input_is_reported_per_field_and_writes_nothing(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin)
        with pytest.raises(ValidationError) as error:
            contract(
                admin,
                account=999_999,
                title="",
                currency="rmb",
                amount=None,
                lines=[
                    {"product": aircon, "quantity": 1, "unit_price": 10},
                    {"product": aircon, "quantity": 0, "unit_price": -1},
                ],
                signatories=[{"side": "ours", "name": "王总"}, {"side": "someone", "name": ""}],
            )
        assert set(error.value.message_dict) == {
            "account",
            "title",
            "currency",
            "lines[1].quantity",
            "lines[1].unit_price",
            "signatories[1].side",
            "signatories[1].name",
        }
        with pytest.raises(ValidationError) as error:
            contract(admin, amount=None)
        assert set(error.value.message_dict) == {"amount"}
        assert (Contract.objects.count(), ContractLine.objects.count(), Signatory.objects.count()) == (
            0,
            0,
            0,
        )


def test_a_contract_from_an_accepted_quote_copies_its_lines(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = build.account("杭州西溪湿地度假酒店")
        aircon = build.product(admin, price="2999")
        quote = quotes.save_quote(
            actor=admin,
            account=customer,
            title="客房空调更新",
            discount_percent="2",
            terms="含安装",
            lines=[{"product": aircon, "quantity": 40, "discount_percent": "8"}],
        )
        quote = quotes.send_quote(actor=admin, quote=quote)
        with pytest.raises(Conflict, match="accepted"):
            contracts.create_contract_from_quote(
                actor=admin, quote=quote, start_date=date(2026, 4, 1), end_date=date(2027, 3, 31)
            )
        quote = quotes.accept_quote(actor=admin, quote=quote)
        made = contracts.create_contract_from_quote(
            actor=admin, quote=quote, start_date=date(2026, 4, 1), end_date=date(2027, 3, 31)
        )
        line = made.lines.get()
        quoted = quote.lines.get()
        with pytest.raises(Conflict, match="already has a contract"):
            contracts.create_contract_from_quote(
                actor=admin, quote=quote, start_date=date(2026, 4, 1), end_date=date(2027, 3, 31)
            )
    assert (made.account, made.quote, made.title, made.key_terms) == (
        customer,
        quote,
        "客房空调更新",
        "含安装",
    )
    assert made.amount == quote.grand_total and made.tax_amount == quote.tax_amount
    assert (line.product_id, line.quantity, line.unit_price, line.discount_percent, line.net_amount) == (
        aircon.pk,
        D("40"),
        D("2999.00"),
        D("8.00"),
        quoted.net_amount,
    )


def test_activation_needs_both_signatures_and_a_requested_approval(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), on(date(2026, 3, 5)):
        manager = build.user("sales_manager")
        made = contract(admin)
        with pytest.raises(Conflict, match="missing: Our company, Customer"):
            contracts.activate_contract(actor=admin, contract=made)
        contracts.sign_contract(actor=admin, contract=made, side="theirs", name="Li Ming")
        with pytest.raises(ValidationError) as error:
            contracts.sign_contract(actor=admin, contract=made, side="both", name="")
        assert set(error.value.message_dict) == {"side", "name"}
        made = contracts.submit_contract_for_approval(actor=admin, contract=made)
        with pytest.raises(Conflict, match="waiting for approval"):
            contracts.activate_contract(actor=admin, contract=made)
        with pytest.raises(Conflict):
            contracts.sign_contract(actor=admin, contract=made, side="ours", name="陈志华")
        # The approver reaches the admin's contract through a share, as the approval engine grants it.
        share_record(actor=admin, record=made, user=manager, access="edit", reason="contract approval")
        made = contracts.record_contract_approval(actor=manager, contract=made, approved=True, comment="ok")
        assert (made.status, made.approved_by) == ("draft", manager)
        ours = contracts.sign_contract(actor=admin, contract=made, side="ours", name="陈志华", title="总经理")
        assert ours.signed_on == date(2026, 3, 5)
        made = contracts.activate_contract(actor=admin, contract=made)
        assert made.status == "active" and made.activated_at is not None
        with pytest.raises(Conflict):
            contracts.update_contract(actor=admin, contract=made, title="改名")
        with pytest.raises(Conflict):
            contracts.activate_contract(actor=admin, contract=made)


def test_a_change_after_approval_voids_it(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        made = contracts.submit_contract_for_approval(actor=admin, contract=contract(admin))
        made = contracts.record_contract_approval(actor=admin, contract=made, approved=True)
        made = contracts.update_contract(actor=admin, contract=made, amount="150000")
        assert (made.status, made.approved_at, made.amount) == ("draft", None, D("150000"))
        with pytest.raises(TypeError):
            contracts.update_contract(actor=admin, contract=made, status="active")


def test_termination_needs_a_reason_and_an_active_contract(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), on(date(2026, 3, 5)):
        made = contract(admin, signatories=BOTH_SIGN)
        with pytest.raises(Conflict):
            contracts.terminate_contract(actor=admin, contract=made, reason="客户违约")
        made = contracts.activate_contract(actor=admin, contract=made)
        with pytest.raises(ValidationError) as error:
            contracts.terminate_contract(actor=admin, contract=made, reason=" ")
        assert set(error.value.message_dict) == {"reason"}
        made = contracts.terminate_contract(actor=admin, contract=made, reason="客户违约 / breach")
        assert (made.status, made.terminated_on) == ("terminated", date(2026, 3, 5))


def test_an_ended_contract_cannot_be_activated(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), on(date(2027, 3, 5)):
        made = contract(admin, signatories=BOTH_SIGN)
        with pytest.raises(Conflict, match="already ended"):
            contracts.activate_contract(actor=admin, contract=made)


def test_files_are_attached_to_the_contract(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        made = contract(admin)
        scan = SimpleUploadedFile("合同扫描件.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
        attachment = contracts.attach_contract_file(actor=admin, contract=made, uploaded_file=scan)
        assert list(attachments_of(made)) == [attachment]
        assert (attachment.name, attachment.uploaded_by) == ("合同扫描件.pdf", admin)
        attachment.file.delete(save=False)


def test_the_audit_trail_records_who_changed_what(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        made = contract(admin)
        contracts.update_contract(actor=admin, contract=made, payment_terms="月结 60 天")
        trail = audit.history(made)
    assert [change.action for change in trail] == ["created", "updated"]
    assert trail[1].changes["payment_terms"] == ["", "月结 60 天"] and trail[1].user_id == admin.pk


def test_beta_cannot_see_alphas_contracts(alpha, beta):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        made = contract(admin)
    with tenant_context(beta):
        assert not Contract.objects.filter(number=made.number).exists()
        with pytest.raises(NotFound):
            get_for(admin_of(beta), Contract, made.pk)
        with pytest.raises(NotFound):
            contracts.activate_contract(actor=admin_of(beta), contract=made.pk)


def test_errors_and_labels_speak_chinese(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), translation.override("zh-hans"):
        with pytest.raises(ValidationError) as error:
            contract(admin, start_date=date(2026, 3, 1), end_date=date(2026, 3, 1))
        assert error.value.message_dict == {"end_date": ["结束日期必须晚于开始日期。"]}
        assert str(Contract.Status.RENEWED.label) == "已续签"
        assert str(Quote.Status.SUPERSEDED.label) == "已被新版本取代"
        assert str(PriceBook._meta.verbose_name) == "价目表"
