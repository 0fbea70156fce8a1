from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from channels.models import ChannelNode
from crm.records.audit import tracked
from crm.records.models import SharedQuerySet
from crm.records.money import amount_field, currency_field
from crm_platform.i18n import Labels


class ProductLine(models.Model):
    """A family of products (空调, 冰箱...), labelled per language."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    labels = models.JSONField(_("labels"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")

    def __str__(self):
        return Labels(self.labels).current() or self.code


class Unit(models.Model):
    """A unit of sale (台, 套, 箱, 件...)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    labels = models.JSONField(_("labels"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self):
        return Labels(self.labels).current() or self.code


@tracked
class Product(models.Model):
    """Something the company sells, at prices kept in price books."""

    line = models.ForeignKey(
        ProductLine, verbose_name=_("product line"), on_delete=models.PROTECT, related_name="products"
    )
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    # China's standard VAT rate on goods is 13%.
    tax_rate = models.DecimalField(_("tax rate %"), max_digits=5, decimal_places=2, default=Decimal("13"))
    is_active = models.BooleanField(_("active"), default=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    objects = SharedQuerySet.as_manager()

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self):
        return f"{self.sku} {self.name}"


@tracked
class PriceBook(models.Model):
    """List prices in one currency, for everyone (the default book) or for one level of the channel tree.

    At most one active default book and one active book per channel level exist per currency, so
    price resolution (crm/catalog/pricing.py) never has to choose between two books.
    """

    name = models.CharField(_("name"), max_length=100)
    currency = currency_field()
    channel_level = models.CharField(
        _("channel level"),
        max_length=16,
        blank=True,
        choices=ChannelNode.Level.choices,
        help_text=_("Leave empty for the default book that applies to every level."),
    )
    is_default = models.BooleanField(_("default"), default=False, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("price book")
        verbose_name_plural = _("price books")
        constraints = [
            # The default book is exactly the one without a level: one fact, two columns kept in step.
            models.CheckConstraint(
                condition=models.Q(is_default=True, channel_level="")
                | (models.Q(is_default=False) & ~models.Q(channel_level="")),
                name="price_book_default_has_no_level",
            ),
            models.UniqueConstraint(
                fields=["currency", "channel_level"],
                condition=models.Q(is_active=True),
                name="one_active_price_book_per_currency_level",
            ),
        ]

    def __str__(self):
        return self.name


@tracked
class PriceBookEntry(models.Model):
    price_book = models.ForeignKey(
        PriceBook, verbose_name=_("price book"), on_delete=models.CASCADE, related_name="entries"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="prices"
    )
    list_price = amount_field(_("list price"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("price book entry")
        verbose_name_plural = _("price book entries")
        constraints = [
            models.UniqueConstraint(fields=["price_book", "product"], name="one_price_per_book"),
            models.CheckConstraint(condition=models.Q(list_price__gte=0), name="list_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.product} @ {self.list_price}"
