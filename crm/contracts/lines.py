"""Contract lines and signatories from service input, and lines copied from an accepted quote."""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.catalog.models import Product
from crm.contracts.models import ContractLine, Signatory
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.money import rounded

HUNDRED = Decimal("100")


def priced_lines(lines: Iterable[Mapping]) -> list[ContractLine]:
    """Validated, priced (unsaved) lines; problems come back as `lines[i].field`. A contract may have
    no lines (a service agreement); then its amount is given directly.

    Each line: product, quantity, unit_price (net of tax), and optionally discount_percent, tax_rate
    (default: the product's) and description.
    """
    lines = list(lines or [])
    products = Product.objects.in_bulk(
        {_id(line.get("product")) for line in lines if isinstance(line, Mapping)} - {None}
    )
    errors: dict[str, list[str]] = {}
    result = []
    for index, data in enumerate(lines):
        if not isinstance(data, Mapping):
            errors[f"lines[{index}]"] = [_("Each line is an object with a product and a quantity.")]
            continue
        line_errors: dict[str, str] = {}
        product = products.get(_id(data.get("product")))
        if product is None:
            line_errors["product"] = _("Choose a product.")
        quantity = decimal_or_error(data.get("quantity"), "quantity", line_errors)
        price = decimal_or_error(data.get("unit_price"), "unit_price", line_errors)
        discount = decimal_or_error(data.get("discount_percent") or 0, "discount_percent", line_errors)
        rate = data.get("tax_rate")
        default_rate = product.tax_rate if product else Decimal("0")
        tax_rate = decimal_or_error(default_rate if rate in (None, "") else rate, "tax_rate", line_errors)
        if quantity is not None and quantity <= 0:
            line_errors["quantity"] = _("The quantity must be more than zero.")
        if price is not None and price < 0:
            line_errors["unit_price"] = _("The price cannot be negative.")
        if discount is not None and not 0 <= discount <= HUNDRED:
            line_errors["discount_percent"] = _("The discount must be between 0 and 100%.")
        if tax_rate is not None and not 0 <= tax_rate <= HUNDRED:
            line_errors["tax_rate"] = _("The tax rate must be between 0 and 100%.")
        if not line_errors:
            net = rounded(quantity * price * (HUNDRED - discount) / HUNDRED)
            tax = rounded(net * tax_rate / HUNDRED)
            line = ContractLine(
                position=index + 1,
                product=product,
                description=str(data.get("description") or product.name)[:300],
                quantity=quantity,
                unit_price=price,
                discount_percent=discount,
                tax_rate=tax_rate,
                net_amount=net,
                tax_amount=tax,
                line_total=net + tax,
            )
            try:
                line.full_clean(exclude=["contract"], validate_constraints=False)
            except ValidationError as exc:
                line_errors.update({field: messages[0] for field, messages in exc.message_dict.items()})
            result.append(line)
        for field, message in line_errors.items():
            errors[f"lines[{index}].{field}"] = [message]
    if errors:
        raise ValidationError(errors)
    return result


def lines_from_quote(quote) -> list[ContractLine]:
    """The accepted quote's lines as contract lines, amounts as quoted (the quote's discount included)."""
    return [
        ContractLine(
            position=line.position,
            product_id=line.product_id,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.list_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
            net_amount=line.net_amount,
            tax_amount=line.tax_amount,
            line_total=line.net_amount + line.tax_amount,
        )
        for line in quote.lines.all()
    ]


def signatories(rows: Iterable[Mapping]) -> list[Signatory]:
    """Validated (unsaved) signatories; problems come back as `signatories[i].field`.

    Each: side ("ours" or "theirs"), name, and optionally title and signed_on (a date).
    """
    errors: dict[str, list[str]] = {}
    result = []
    for index, data in enumerate(rows or []):
        if not isinstance(data, Mapping):
            errors[f"signatories[{index}]"] = [_("Each signatory is an object with a side and a name.")]
            continue
        signatory = Signatory(
            side=data.get("side") or "",
            name=str(data.get("name") or "").strip(),
            title=str(data.get("title") or "").strip(),
            signed_on=data.get("signed_on"),
        )
        row_errors: dict[str, list[str]] = {}
        if signatory.signed_on is not None and not isinstance(signatory.signed_on, date):
            row_errors["signed_on"] = [_("Enter a date.")]
        try:
            signatory.full_clean(exclude=["contract", *row_errors], validate_constraints=False)
        except ValidationError as exc:
            row_errors.update(exc.message_dict)
        for field, messages in row_errors.items():
            errors[f"signatories[{index}].{field}"] = messages
        result.append(signatory)
    if errors:
        raise ValidationError(errors)
    return result


def _id(value) -> int | None:
    try:
        return int(pk_of(value))
    except (TypeError, ValueError):
        return None
