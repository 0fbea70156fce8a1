"""Quote arithmetic: lines priced from the price books, the whole-quote discount, tax, totals.

All Decimal, rounded to the cent half-up (`rounded`) at each stored amount:
- a line's total is quantity x list price less its discount, rounded once (not quantity x the
  rounded net price, which would compound the rounding);
- the whole-quote discount is taken off the subtotal (rounded once) and spread over the lines in
  proportion, so that the lines' net amounts add up to the quote's exactly;
- tax is computed per line on its net amount at the line's rate, and the quote's tax is their sum
  (what the VAT invoice will show line by line).
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.catalog.models import Product
from crm.catalog.pricing import list_prices
from crm.quotes.models import Quote, QuoteLine
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.money import rounded

HUNDRED = Decimal("100")
ZERO = Decimal("0")


def priced_lines(lines: Iterable[Mapping], *, currency: str, channel_level: str | None) -> list[QuoteLine]:
    """Validated, priced (unsaved) lines; every problem is reported as `lines[i].field`.

    Each line: product, quantity, and optionally discount_percent, tax_rate (default: the
    product's) and description. The list price always comes from the price books.
    """
    lines = list(lines)
    if not lines:
        raise ValidationError({"lines": [_("A quote needs at least one line.")]})
    wanted = {_id(line.get("product")) for line in lines if isinstance(line, Mapping)} - {None}
    products = Product.objects.select_related("unit").in_bulk(wanted)
    prices = list_prices(list(products.values()), currency, channel_level)
    errors: dict[str, list[str]] = {}
    result = []
    for index, data in enumerate(lines):
        line_errors: dict[str, str] = {}
        if not isinstance(data, Mapping):
            errors[f"lines[{index}]"] = [_("Each line is an object with a product and a quantity.")]
            continue
        product = products.get(_id(data.get("product")))
        if product is None:
            line_errors["product"] = _("Choose a product.")
        elif not product.is_active:
            line_errors["product"] = _("This product is no longer sold.")
        elif product.pk not in prices:
            line_errors["product"] = _("%(product)s has no list price in %(currency)s.") % {
                "product": product.sku,
                "currency": currency,
            }
        quantity = decimal_or_error(data.get("quantity"), "quantity", line_errors)
        discount = decimal_or_error(data.get("discount_percent") or 0, "discount_percent", line_errors)
        default_rate = product.tax_rate if product else ZERO
        rate = data.get("tax_rate")
        tax_rate = decimal_or_error(default_rate if rate in (None, "") else rate, "tax_rate", line_errors)
        if quantity is not None and quantity <= 0:
            line_errors["quantity"] = _("The quantity must be more than zero.")
        if discount is not None and not ZERO <= discount <= HUNDRED:
            line_errors["discount_percent"] = _("The discount must be between 0 and 100%.")
        if tax_rate is not None and not ZERO <= tax_rate <= HUNDRED:
            line_errors["tax_rate"] = _("The tax rate must be between 0 and 100%.")
        if not line_errors:
            line = _priced(index, product, prices[product.pk], quantity, discount, tax_rate, data)
            try:
                line.full_clean(exclude=["quote"], validate_constraints=False)
            except ValidationError as exc:
                line_errors.update({field: messages[0] for field, messages in exc.message_dict.items()})
            result.append(line)
        for field, message in line_errors.items():
            errors[f"lines[{index}].{field}"] = [message]
    if errors:
        raise ValidationError(errors)
    return result


def _after_quote_discount(amount: Decimal, discount_percent: Decimal) -> Decimal:
    return amount - rounded(amount * discount_percent / HUNDRED)


def _id(value) -> int | None:
    try:
        return int(pk_of(value))
    except (TypeError, ValueError):
        return None


def _priced(index, product, list_price, quantity, discount, tax_rate, data) -> QuoteLine:
    return QuoteLine(
        position=index + 1,
        product=product,
        unit=product.unit,
        description=str(data.get("description") or product.name)[:300],
        quantity=quantity,
        list_price=list_price,
        discount_percent=discount,
        net_price=rounded(list_price * (HUNDRED - discount) / HUNDRED),
        line_total=rounded(quantity * list_price * (HUNDRED - discount) / HUNDRED),
        tax_rate=tax_rate,
    )


def apply_totals(quote: Quote, lines: list[QuoteLine]) -> None:
    """Spread the quote's discount over `lines`, tax them, and set the quote's totals (nothing saved)."""
    subtotal = sum((line.line_total for line in lines), ZERO)
    net_total = _after_quote_discount(subtotal, quote.discount_percent)
    # Each line's net is the growth of the discounted running total: the nets add up to the quote's
    # exactly, none is negative, and each is within a cent of its proportional share.
    running = ZERO
    for line in lines:
        before = _after_quote_discount(running, quote.discount_percent)
        running += line.line_total
        line.net_amount = _after_quote_discount(running, quote.discount_percent) - before
    for line in lines:
        line.tax_amount = rounded(line.net_amount * line.tax_rate / HUNDRED)
    quote.list_amount = sum((rounded(line.list_amount) for line in lines), ZERO)
    quote.subtotal = subtotal
    quote.net_amount = net_total
    quote.discount_amount = quote.list_amount - net_total
    quote.tax_amount = sum((line.tax_amount for line in lines), ZERO)
    quote.grand_total = quote.net_amount + quote.tax_amount
