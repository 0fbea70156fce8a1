"""Money is a Decimal with a currency beside it; CNY unless the tenant says otherwise."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")


AMOUNT = _("amount")


def amount_field(verbose_name=AMOUNT, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    return models.CharField(_("currency"), max_length=3, default=settings.DEFAULT_CURRENCY, **kwargs)


def rounded(value: Decimal) -> Decimal:
    """Round to the cent the way Chinese invoices do (half up, not banker's rounding)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
