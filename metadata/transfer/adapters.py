"""How an import saves a record of each object: through that object's services, so validation,
scope, duplicate checks, audit and events hold exactly as in the app.

Custom objects all use metadata.records. A standard object is importable once it has an entry in
`STANDARD`; the others are refused by name rather than saved around their services.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.customers import services as customers
from metadata import records, registry


@dataclass(frozen=True)
class Adapter:
    """The standard fields a service takes (custom values go in `custom`), and its create and
    update calls: create(actor, values) and update(actor, record, values) return the record."""

    fields: frozenset[str]
    create: Callable
    update: Callable | None = None


CUSTOM_OBJECT = Adapter(
    fields=frozenset({"name"}),
    # A file without the column still gets the service's "required" error, not a TypeError.
    create=lambda actor, info, values: records.create_record(actor, info.key, **{"name": "", **values}),
    update=lambda actor, info, record, values: records.update_record(actor, record, **values),
)

STANDARD: dict[str, Adapter] = {
    "customers.account": Adapter(
        fields=frozenset(customers.EDITABLE) - {"custom", "tags"},
        create=lambda actor, info, values: customers.create_account(actor=actor, **values).account,
        update=lambda actor, info, record, values: (
            customers.update_account(actor=actor, account=record, **values).account
        ),
    ),
    # Contacts are only added (there is no contact update service yet): "create" mode only.
    "customers.contact": Adapter(
        fields=frozenset({"account", "name", "title", "phone", "email", "wechat", "is_primary"}),
        create=lambda actor, info, values: customers.add_contact(
            actor=actor, **{"account": None, "name": "", **values}
        ),
    ),
}


def adapter_for(info: registry.ObjectInfo) -> Adapter:
    """The adapter saving records of `info`; a field error on "object" when it has none."""
    if info.custom:
        return CUSTOM_OBJECT
    found = STANDARD.get(info.key)
    if found is None:
        message = _("%(object)s cannot be imported yet.") % {"object": info.label()}
        raise ValidationError({"object": [message]})
    return found
