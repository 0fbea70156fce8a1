"""Catalog operations: product lines, units, products, price books and the prices in them.

Price resolution (which price a quote uses) lives in crm/catalog/pricing.py.
"""

from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.catalog.models import PriceBook, PriceBookEntry, Product, ProductLine, Unit
from crm.catalog.pricing import ListPrice, PriceNotFound, list_price, list_prices, resolve_price
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.services import validated
from crm_platform.errors import NotFound

__all__ = [
    "ListPrice",
    "PriceNotFound",
    "create_price_book",
    "create_product",
    "create_product_line",
    "create_unit",
    "list_price",
    "list_prices",
    "remove_price",
    "resolve_price",
    "set_price",
    "update_price_book",
    "update_product",
]

HUNDRED = Decimal("100")
PRODUCT_FIELDS = ("line", "sku", "name", "description", "unit", "tax_rate", "is_active", "custom")


def create_product_line(*, actor, code: str, labels: Mapping[str, str]) -> ProductLine:
    """A product line; `labels` per language, e.g. {"zh-hans": "空调", "en": "Air conditioners"}."""
    with transaction.atomic(), acting_as(actor):
        line = validated(ProductLine(code=code, labels=_labels(labels)))
        line.save()
        return line


def create_unit(*, actor, code: str, labels: Mapping[str, str]) -> Unit:
    """A unit of sale; `labels` per language, e.g. {"zh-hans": "台", "en": "set"}."""
    with transaction.atomic(), acting_as(actor):
        unit = validated(Unit(code=code, labels=_labels(labels)))
        unit.save()
        return unit


def create_product(
    *, actor, line, sku: str, name: str, unit, tax_rate="13", description: str = "", custom=None
) -> Product:
    """A new active product. SKUs are unique in the tenant; the tax rate is a percentage (0-100)."""
    with transaction.atomic(), acting_as(actor):
        product = Product(sku=(sku or "").strip(), name=(name or "").strip(), description=description)
        errors = _apply_product_fields(product, {"line": line, "unit": unit, "tax_rate": tax_rate})
        product.custom = custom or {}
        _validate(product, errors)
        product.save()
        publish("product.created", product)
        return product


def update_product(*, actor, product, **changes) -> Product:
    """Change any of line, sku, name, description, unit, tax_rate, is_active, custom."""
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"update_product() got unexpected fields: {', '.join(sorted(unknown))}")
    with transaction.atomic(), acting_as(actor):
        product = _product(product, for_update=True)
        errors = _apply_product_fields(product, changes)
        for field in ("sku", "name"):
            if field in changes:
                setattr(product, field, (changes[field] or "").strip())
        for field in ("description", "is_active", "custom"):
            if field in changes:
                setattr(product, field, changes[field])
        _validate(product, errors)
        product.save()
        publish("product.updated", product, fields=sorted(changes))
        return product


def create_price_book(*, actor, name: str, currency: str = "CNY", channel_level: str = "") -> PriceBook:
    """An active price book: the currency's default (no level) or one channel level's book.

    A currency has at most one active default book and one active book per level.
    """
    with transaction.atomic(), acting_as(actor):
        book = PriceBook(name=(name or "").strip(), currency=currency, channel_level=channel_level or "")
        book.is_default = book.channel_level == ""
        _validate_book(book)
        book.save()
        publish("price_book.created", book)
        return book


def update_price_book(
    *, actor, price_book, name: str | None = None, is_active: bool | None = None
) -> PriceBook:
    """Rename a price book or (de)activate it; reactivating checks that no other book took its place."""
    with transaction.atomic(), acting_as(actor):
        book = _book(price_book, for_update=True)
        if name is not None:
            book.name = name.strip()
        if is_active is not None:
            book.is_active = is_active
        _validate_book(book)
        book.save()
        publish("price_book.updated", book)
        return book


def set_price(*, actor, price_book, product, list_price) -> PriceBookEntry:
    """Set (add or change) the product's list price in the book; prices are net of tax, not negative."""
    with transaction.atomic(), acting_as(actor):
        book = _book(price_book)
        product = _product(product)
        errors: dict[str, str] = {}
        price = decimal_or_error(list_price, "list_price", errors)
        if price is not None and price < 0:
            errors["list_price"] = _("The price cannot be negative.")
        if errors:
            raise ValidationError({field: [message] for field, message in errors.items()})
        entry = PriceBookEntry.objects.select_for_update().filter(
            price_book=book, product=product
        ).first() or PriceBookEntry(price_book=book, product=product)
        entry.list_price = price
        validated(entry, exclude=["price_book", "product"])
        entry.save()
        publish("price.set", entry, list_price=str(entry.list_price), currency=book.currency)
        return entry


def remove_price(*, actor, price_book, product) -> bool:
    """Take the product out of the book; returns whether it was listed."""
    with transaction.atomic(), acting_as(actor):
        book = _book(price_book)
        deleted, _rows = PriceBookEntry.objects.filter(price_book=book, product=pk_of(product)).delete()
        return bool(deleted)


def _labels(labels) -> dict:
    labels = {str(language): str(text).strip() for language, text in (labels or {}).items() if text}
    if not labels:
        raise ValidationError({"labels": [_("Give a name in at least one language.")]})
    return labels


def _apply_product_fields(product: Product, changes: Mapping) -> dict[str, str]:
    """Set the related and numeric fields from `changes`, collecting field errors instead of raising."""
    errors: dict[str, str] = {}
    if "line" in changes:
        line = ProductLine.objects.filter(pk=pk_of(changes["line"])).first()
        if line is None:
            errors["line"] = _("Choose a product line.")
        else:
            product.line = line
    if "unit" in changes:
        unit = Unit.objects.filter(pk=pk_of(changes["unit"])).first()
        if unit is None:
            errors["unit"] = _("Choose a unit.")
        else:
            product.unit = unit
    if "tax_rate" in changes:
        rate = decimal_or_error(changes["tax_rate"], "tax_rate", errors)
        if rate is not None and not 0 <= rate <= HUNDRED:
            errors["tax_rate"] = _("The tax rate must be between 0 and 100%.")
        elif rate is not None:
            product.tax_rate = rate
    return errors


def _validate(product: Product, errors: dict[str, str]) -> None:
    messages = {field: [message] for field, message in errors.items()}
    try:
        product.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for field, field_messages in exc.message_dict.items():
            messages.setdefault(field, field_messages)
    if messages:
        raise ValidationError(messages)


def _validate_book(book: PriceBook) -> None:
    errors = {}
    try:
        book.full_clean(validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not (len(book.currency) == 3 and book.currency.isascii() and book.currency.isupper()):
        errors["currency"] = [_("Use a three-letter ISO currency code, e.g. CNY.")]
    if not errors and book.is_active:
        rivals = PriceBook.objects.filter(
            currency=book.currency, channel_level=book.channel_level, is_active=True
        ).exclude(pk=book.pk)
        if rivals.exists():
            field = "channel_level" if book.channel_level else "currency"
            errors[field] = [_("Another active price book already covers this currency and level.")]
    if errors:
        raise ValidationError(errors)


def _book(price_book, *, for_update: bool = False) -> PriceBook:
    queryset = PriceBook.objects.select_for_update() if for_update else PriceBook.objects
    try:
        return queryset.get(pk=pk_of(price_book))
    except (PriceBook.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Price book not found.")) from None


def _product(product, *, for_update: bool = False) -> Product:
    queryset = Product.objects.select_for_update() if for_update else Product.objects
    try:
        return queryset.get(pk=pk_of(product))
    except (Product.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Product not found.")) from None
