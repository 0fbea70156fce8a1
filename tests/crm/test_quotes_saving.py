"""Quotes: pricing from the books, totals with discounts and tax, field errors, atomic saves, tenants."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.catalog import services as catalog
from crm.quotes import services as quotes
from crm.quotes.models import Quote, QuoteLine
from crm.records import audit
from crm.records.models import NumberSequence
from crm.records.services import get_for
from crm_platform.errors import NotFound
from tests.conftest import admin_of
from tests.crm import test_catalog_support as build
from tests.crm.test_orders_support import on

D = Decimal


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in English; the tenants' default language is zh-Hans."""
    with translation.override("en"):
        yield


def test_totals_with_line_and_quote_discounts_and_tax_rounding(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), on(date(2026, 3, 5)):
        customer = build.account("上海浦江置业集团有限公司")
        aircon = build.product(admin, price="2999", tax_rate="13")
        heater = build.product(admin, price="1000", tax_rate="9")
        filters = build.product(admin, price="33.33", tax_rate="13")
        quote = quotes.save_quote(
            actor=admin,
            account=customer,
            discount_percent="5",
            lines=[
                {"product": aircon, "quantity": 3, "discount_percent": "10"},
                {"product": heater.pk, "quantity": "2"},
                {"product": filters, "quantity": 7, "discount_percent": 3},
            ],
        )
        first, second, third = quote.lines.all()
    assert quote.number.startswith("BJ202603-") and quote.version == 1 and quote.status == "draft"
    assert quote.valid_until == date(2026, 4, 4) and quote.prepared_by == admin
    assert (first.list_price, first.net_price, first.line_total) == (D("2999.00"), D("2699.10"), D("8097.30"))
    assert (third.line_total, third.unit_id) == (D("226.31"), filters.unit_id)  # 7 x 33.33 x 97% = 226.3107
    # The 5% quote discount (516.18 of 10,323.61) is spread so the line nets add up exactly.
    assert [line.net_amount for line in (first, second, third)] == [D("7692.43"), D("1900.00"), D("215.00")]
    assert [line.tax_amount for line in (first, second, third)] == [D("1000.02"), D("171.00"), D("27.95")]
    assert quote.list_amount == D("11230.31")
    assert quote.subtotal == D("10323.61")
    assert quote.net_amount == D("9807.43")
    assert quote.discount_amount == D("1422.88")
    assert quote.tax_amount == D("1198.97")
    assert quote.grand_total == D("11006.40")


def test_the_quote_discount_never_makes_a_line_negative(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        cheap = build.product(admin, price="0.01", tax_rate="0")
        quote = quotes.save_quote(
            actor=admin,
            account=build.account(),
            discount_percent="50",
            lines=[{"product": cheap, "quantity": 1}] * 3,
        )
        nets = [line.net_amount for line in quote.lines.all()]
    assert quote.subtotal == D("0.03") and quote.net_amount == D("0.01")  # half of 0.03 rounds up to 0.02 off
    assert sum(nets) == D("0.01") and all(net >= 0 for net in nets)


def test_list_prices_follow_the_accounts_channel_level_and_the_currency(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, price="2999")
        catalog.set_price(
            actor=admin, price_book=build.book("CNY", "agent"), product=aircon, list_price="2500"
        )
        catalog.set_price(actor=admin, price_book=build.book("USD"), product=aircon, list_price="410")
        agent_customer = build.account(channel_node=build.node("agent"))
        retail_customer = build.account(channel_node=build.node("retailer"))
        line = [{"product": aircon, "quantity": 1}]
        at_agent = quotes.save_quote(actor=admin, account=agent_customer, lines=line)
        at_retail = quotes.save_quote(actor=admin, account=retail_customer, lines=line)
        in_dollars = quotes.save_quote(actor=admin, account=agent_customer, currency="USD", lines=line)
        assert at_agent.lines.get().list_price == D("2500.00")
        assert at_retail.lines.get().list_price == D("2999.00")
        assert in_dollars.lines.get().list_price == D("410.00")
        with pytest.raises(ValidationError) as error:
            quotes.save_quote(actor=admin, account=agent_customer, currency="EUR", lines=line)
    assert error.value.message_dict == {"lines[0].product": [f"{aircon.sku} has no list price in EUR."]}


def test_every_bad_field_is_reported_by_line_index_and_nothing_is_written(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), on(date(2026, 3, 5)):
        customer = build.account()
        other_customer_contact = build.contact(build.account())
        good = build.product(admin, price="100")
        unpriced = build.product(admin)
        sequences = list(NumberSequence.objects.values_list("key", "last_value"))
        with pytest.raises(ValidationError) as error:
            quotes.save_quote(
                actor=admin,
                account=customer,
                contact=other_customer_contact,
                currency="CNY",
                valid_until=date(2026, 3, 1),
                discount_percent="101",
                lines=[
                    {"product": good, "quantity": 1},
                    {"product": good, "quantity": 0, "discount_percent": "-1"},
                    {"product": unpriced, "quantity": "x", "tax_rate": "200"},
                    {"product": None, "quantity": "1.234"},
                    "not a line",
                ],
            )
        assert Quote.objects.count() == 0 and QuoteLine.objects.count() == 0
        assert list(NumberSequence.objects.values_list("key", "last_value")) == sequences
    assert set(error.value.message_dict) == {
        "contact",
        "valid_until",
        "discount_percent",
        "lines[1].quantity",
        "lines[1].discount_percent",
        "lines[2].product",
        "lines[2].quantity",
        "lines[2].tax_rate",
        "lines[3].product",
        "lines[4]",
    }


def test_a_new_quote_needs_an_account_and_lines(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        with pytest.raises(ValidationError) as error:
            quotes.save_quote(actor=admin, lines=[])
        assert set(error.value.message_dict) == {"account", "lines"}
        with pytest.raises(ValidationError) as error:
            quotes.save_quote(actor=admin, account=999_999, lines=[{"product": 1, "quantity": 1}])
        assert "account" in error.value.message_dict
        with pytest.raises(TypeError):
            quotes.save_quote(actor=admin, account=build.account(), lines=[], colour="red")
        assert not Quote.objects.exists()


def test_saving_replaces_the_lines_and_a_refused_save_changes_nothing(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, price="2999")
        fridge = build.product(admin, price="4599")
        quote = quotes.save_quote(
            actor=admin,
            account=build.account(),
            title="空调采购 一期",
            lines=[{"product": aircon, "quantity": 2}, {"product": fridge, "quantity": 1}],
        )
        quote = quotes.save_quote(
            actor=admin, quote_id=quote.pk, title="空调采购 二期", lines=[{"product": fridge, "quantity": 3}]
        )
        assert QuoteLine.objects.filter(quote=quote).count() == 1
        assert quote.grand_total == D("15590.61")  # 3 x 4599 = 13,797 + 13% VAT 1,793.61
        with pytest.raises(ValidationError) as error:
            quotes.save_quote(
                actor=admin,
                quote_id=quote.pk,
                title="改坏了",
                discount_percent="3",
                lines=[{"product": aircon, "quantity": 5}, {"product": fridge, "quantity": -1}],
            )
        assert set(error.value.message_dict) == {"lines[1].quantity"}
        quote.refresh_from_db()
        assert (quote.title, quote.discount_percent, quote.grand_total) == ("空调采购 二期", 0, D("15590.61"))
        assert list(quote.lines.values_list("product", "quantity")) == [(fridge.pk, D("3"))]
        assert QuoteLine.objects.count() == 1


def test_a_failure_while_writing_leaves_no_orphan_lines_nor_a_half_updated_header(alpha, monkeypatch):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, price="2999")
        quote = quotes.save_quote(
            actor=admin, account=build.account(), lines=[{"product": aircon, "quantity": 1}]
        )
        before = (QuoteLine.objects.count(), Quote.objects.count())

        def broken_insert(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(QuoteLine.objects, "bulk_create", broken_insert)
        with pytest.raises(RuntimeError):
            quotes.save_quote(
                actor=admin, quote_id=quote.pk, title="never", lines=[{"product": aircon, "quantity": 9}]
            )
        with pytest.raises(RuntimeError):
            quotes.save_quote(actor=admin, account=quote.account, lines=[{"product": aircon, "quantity": 9}])
        assert (QuoteLine.objects.count(), Quote.objects.count()) == before
        quote.refresh_from_db()
        assert quote.title == "" and quote.lines.get().quantity == 1


def test_contact_and_opportunity_must_belong_to_the_account(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        customer = build.account()
        mine, theirs = build.contact(customer, "李总"), build.contact(build.account(), "赵总")
        aircon = build.product(admin, price="100")
        quote = quotes.save_quote(
            actor=admin, account=customer, contact=mine, lines=[{"product": aircon, "quantity": 1}]
        )
        assert quote.contact == mine
        with pytest.raises(ValidationError) as error:
            quotes.save_quote(
                actor=admin, quote_id=quote.pk, contact=theirs, lines=[{"product": aircon, "quantity": 1}]
            )
        assert set(error.value.message_dict) == {"contact"}


def test_beta_cannot_see_or_change_alphas_quotes(alpha, beta):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        quote = quotes.save_quote(
            actor=admin,
            account=build.account(),
            lines=[{"product": build.product(admin, price="1"), "quantity": 1}],
        )
    with tenant_context(beta):
        assert not Quote.objects.filter(number=quote.number).exists()
        with pytest.raises(NotFound):
            get_for(admin_of(beta), Quote, quote.pk)
        with pytest.raises(NotFound):
            quotes.save_quote(actor=admin_of(beta), quote_id=quote.pk, lines=[])


def test_the_audit_trail_records_quote_changes(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, price="2999")
        quote = quotes.save_quote(
            actor=admin, account=build.account(), lines=[{"product": aircon, "quantity": 1}]
        )
        quotes.save_quote(actor=admin, quote_id=quote.pk, lines=[{"product": aircon, "quantity": 2}])
        trail = audit.history(quote)
        first_line = QuoteLine.objects.get(quote=quote)
        line_trail = audit.history(first_line)
    assert [change.action for change in trail] == ["created", "updated"]
    assert trail[1].changes["grand_total"] == [3388.87, 6777.74] and trail[1].user_id == admin.pk
    assert line_trail[0].action == "created"
