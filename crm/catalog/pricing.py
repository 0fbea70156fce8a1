"""Price resolution: which list price a product has in a currency, for a level of the channel tree.

The most specific active book wins: the book for the channel level if it lists the product, else the
default book of the currency. A product no book prices is an error, never a silent zero.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from crm.catalog.models import PriceBook, PriceBookEntry, Product
from crm_platform.errors import NotFound


class PriceNotFound(NotFound):
    """No active price book lists the product in the currency (for the level or by default)."""


@dataclass(frozen=True)
class ListPrice:
    amount: Decimal
    currency: str
    price_book: PriceBook


def resolve_price(product: Product, currency: str, channel_level: str | None = None) -> ListPrice:
    """The list price with the book it came from; PriceNotFound when no book prices the product."""
    entries = {
        entry.price_book.channel_level: entry
        for entry in PriceBookEntry.objects.filter(
            product=product, price_book__currency=currency, price_book__is_active=True
        )
        .filter(price_book__channel_level__in=[channel_level or "", ""])
        .select_related("price_book")
    }
    entry = entries.get(channel_level or "") or entries.get("")
    if entry is None:
        if channel_level:
            message = _("%(product)s has no list price in %(currency)s for level %(level)s or by default.")
        else:
            message = _("%(product)s has no list price in %(currency)s.")
        raise PriceNotFound(
            message % {"product": product.sku, "currency": currency, "level": channel_level or ""}
        )
    return ListPrice(entry.list_price, currency, entry.price_book)


def list_price(product: Product, currency: str, channel_level: str | None = None) -> Decimal:
    """The product's list price in `currency` for `channel_level` (None: the default book)."""
    return resolve_price(product, currency, channel_level).amount


def list_prices(products, currency: str, channel_level: str | None = None) -> dict[int, Decimal]:
    """List prices of many products at once (product pk -> price); unpriced products are left out."""
    prices: dict[int, Decimal] = {}
    levels = [channel_level or "", ""]
    entries = PriceBookEntry.objects.filter(
        product__in=products,
        price_book__currency=currency,
        price_book__is_active=True,
        price_book__channel_level__in=levels,
    ).values_list("product_id", "price_book__channel_level", "list_price")
    # Default prices first, so a level's price overwrites the default for the same product.
    for product_id, _level, price in sorted(entries, key=lambda row: row[1] != ""):
        prices[product_id] = price
    return prices
