from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records.audit import tracked
from crm.records.models import StandardRecord


@tracked
class Account(StandardRecord):
    """A customer profile (客户), kept centrally so it stays when a sales rep leaves."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.COMPANY)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self):
        return self.name


@tracked
class Contact(StandardRecord):
    """A person at a customer."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta(StandardRecord.Meta):
        ordering = ["id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self):
        return self.name
