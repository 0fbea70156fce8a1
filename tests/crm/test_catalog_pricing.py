"""Catalog: products with validation, price books per currency and channel level, price resolution."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.catalog import services as catalog
from crm.catalog.models import PriceBook, PriceBookEntry, Product
from crm.catalog.pricing import PriceNotFound
from crm.records import audit
from crm_platform.errors import NotFound
from tests.conftest import admin_of
from tests.crm import test_catalog_support as build


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in English; the tenants' default language is zh-Hans."""
    with translation.override("en"):
        yield


def test_the_most_specific_book_prices_the_product(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, price="2999")
        fridge = build.product(admin, price="4599")
        agents = build.book("CNY", "agent")
        catalog.set_price(actor=admin, price_book=agents, product=aircon, list_price="2599.50")
        dollars = build.book("USD")
        catalog.set_price(actor=admin, price_book=dollars, product=aircon, list_price="420")

        assert catalog.list_price(aircon, "CNY") == Decimal("2999.00")
        assert catalog.list_price(aircon, "CNY", "agent") == Decimal("2599.50")
        # A level without its own price (or its own book) falls back to the default book.
        assert catalog.list_price(fridge, "CNY", "agent") == Decimal("4599.00")
        assert catalog.list_price(aircon, "CNY", "retailer") == Decimal("2999.00")
        assert catalog.list_price(aircon, "USD", "agent") == Decimal("420.00")
        resolved = catalog.resolve_price(aircon, "CNY", "agent")
        assert resolved.price_book == agents and resolved.currency == "CNY"
        assert catalog.list_prices([aircon, fridge], "CNY", "agent") == {
            aircon.pk: Decimal("2599.50"),
            fridge.pk: Decimal("4599.00"),
        }


def test_a_missing_price_is_a_clear_error(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, sku="AC-MISSING", price="2999")
        with pytest.raises(PriceNotFound, match="AC-MISSING has no list price in EUR"):
            catalog.list_price(aircon, "EUR")
        only_agents = build.product(admin, sku="AC-AGENTS")
        catalog.set_price(
            actor=admin, price_book=build.book("CNY", "agent"), product=only_agents, list_price=1
        )
        with pytest.raises(PriceNotFound, match="for level retailer or by default"):
            catalog.list_price(only_agents, "CNY", "retailer")
        with pytest.raises(PriceNotFound):
            catalog.list_price(only_agents, "CNY")


def test_an_inactive_book_prices_nothing(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, price="2999")
        retail = build.book("CNY", "retailer")
        catalog.set_price(actor=admin, price_book=retail, product=aircon, list_price="3199")
        assert catalog.list_price(aircon, "CNY", "retailer") == Decimal("3199.00")
        catalog.update_price_book(actor=admin, price_book=retail, is_active=False)
        assert catalog.list_price(aircon, "CNY", "retailer") == Decimal("2999.00")


def test_one_active_book_per_currency_and_level(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        first = catalog.create_price_book(actor=admin, name="标准价", currency="CNY")
        assert first.is_default and first.channel_level == ""
        with pytest.raises(ValidationError) as error:
            catalog.create_price_book(actor=admin, name="又一个标准价", currency="CNY")
        assert "currency" in error.value.message_dict
        agents = catalog.create_price_book(actor=admin, name="代理价", channel_level="agent")
        assert not agents.is_default
        with pytest.raises(ValidationError) as error:
            catalog.create_price_book(actor=admin, name="代理价 2", channel_level="agent")
        assert "channel_level" in error.value.message_dict
        with pytest.raises(ValidationError) as error:
            catalog.create_price_book(actor=admin, name="", currency="rmb", channel_level="emperor")
        assert set(error.value.message_dict) == {"name", "currency", "channel_level"}
        # Retiring a book frees its place; it cannot come back while another holds it.
        catalog.update_price_book(actor=admin, price_book=agents, is_active=False)
        catalog.create_price_book(actor=admin, name="代理价 2026", channel_level="agent")
        with pytest.raises(ValidationError):
            catalog.update_price_book(actor=admin, price_book=agents, is_active=True)
        # The database holds the line too, whatever path writes.
        with pytest.raises(IntegrityError), transaction.atomic():
            PriceBook.objects.create(name="raw", currency="CNY", channel_level="agent")
        with pytest.raises(IntegrityError), transaction.atomic():
            PriceBook.objects.create(name="raw", currency="JPY", channel_level="agent", is_default=True)


def test_prices_are_validated_and_changed_in_place(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, price="2999")
        book = build.book()
        for bad in ("-1", "abc", None, "1.234"):
            with pytest.raises(ValidationError) as error:
                catalog.set_price(actor=admin, price_book=book, product=aircon, list_price=bad)
            assert set(error.value.message_dict) == {"list_price"}
        catalog.set_price(actor=admin, price_book=book, product=aircon, list_price="2799")
        assert PriceBookEntry.objects.filter(product=aircon).count() == 1
        assert catalog.list_price(aircon, "CNY") == Decimal("2799.00")
        assert catalog.remove_price(actor=admin, price_book=book, product=aircon) is True
        assert catalog.remove_price(actor=admin, price_book=book, product=aircon) is False
        with pytest.raises(PriceNotFound):
            catalog.list_price(aircon, "CNY")


def test_products_are_validated_field_by_field(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        build.product(admin, sku="AC-TAKEN")
        count = Product.objects.count()
        with pytest.raises(ValidationError) as error:
            catalog.create_product(
                actor=admin, line=None, unit=999_999, sku="AC-TAKEN", name=" ", tax_rate="130"
            )
        assert set(error.value.message_dict) == {"line", "unit", "sku", "name", "tax_rate"}
        with pytest.raises(ValidationError) as error:
            catalog.create_product(actor=admin, line=None, unit=None, sku="x", name="y", tax_rate="abc")
        assert "tax_rate" in error.value.message_dict
        assert Product.objects.count() == count


def test_product_updates_are_audited(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, tax_rate="13")
        catalog.update_product(actor=admin, product=aircon, name="变频空调 Inverter AC", tax_rate="9")
        catalog.update_product(actor=admin, product=aircon, is_active=False)
        with pytest.raises(ValidationError):
            catalog.update_product(actor=admin, product=aircon, tax_rate="-1")
        with pytest.raises(TypeError):
            catalog.update_product(actor=admin, product=aircon, price=1)
        aircon.refresh_from_db()
        trail = audit.history(aircon)
    assert (aircon.name, aircon.tax_rate, aircon.is_active) == ("变频空调 Inverter AC", Decimal("9"), False)
    assert [change.action for change in trail] == ["created", "updated", "updated"]
    assert trail[1].changes["tax_rate"] == [13.0, 9.0] and trail[1].user_id == admin.pk


def test_beta_sees_none_of_alphas_catalog(alpha, beta):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        aircon = build.product(admin, sku="AC-ALPHA-ONLY", price="2999")
    with tenant_context(beta):
        assert not Product.objects.filter(sku="AC-ALPHA-ONLY").exists()
        assert not PriceBookEntry.objects.filter(product_id=aircon.pk).exists()
        with pytest.raises(NotFound):
            catalog.update_product(actor=None, product=aircon.pk, name="stolen")
