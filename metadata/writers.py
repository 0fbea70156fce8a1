"""How records of each object are written: through that object's services, so validation, scope,
duplicate checks, audit and events hold exactly as in the app. The importer, the REST API and
GraphQL all write through here.

Custom objects all use metadata.records. A standard object is writable once it has an entry in
`STANDARD`; the others are refused by name rather than saved around their services.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext as _

from access.permissions import require
from crm.activities import services as activities
from crm.catalog import services as catalog
from crm.customers import leads
from crm.customers import services as customers
from crm.records.services import delete_record, get_for
from crm.sales import services as sales
from crm.service import services as service
from crm_platform.errors import ServiceError
from metadata import records, registry
from workflows.locks import ensure_editable


class NotWritable(ServiceError):
    status = 405
    kind = "not-writable"
    title = _("Not possible on this object")


@dataclass(frozen=True)
class Writer:
    """The standard fields the services take (custom values go in `custom`), and the calls:
    create(actor, info, values) and update(actor, info, record, values) return the record,
    delete(actor, info, record) returns nothing. A missing call is an operation the object's
    services do not offer."""

    fields: frozenset[str]
    create: Callable | None = None
    update: Callable | None = None
    delete: Callable | None = None


def _standard_delete(actor, info, record) -> None:
    delete_record(actor, info.model, record.pk, object_key=info.key)


CUSTOM_OBJECT = Writer(
    fields=frozenset({"name"}),
    # A body without the name still gets the service's "required" error, not a TypeError.
    create=lambda actor, info, values: records.create_record(actor, info.key, **{"name": "", **values}),
    update=lambda actor, info, record, values: records.update_record(actor, record, **values),
    delete=lambda actor, info, record: records.delete_record(actor, record),
)

STANDARD: dict[str, Writer] = {
    "customers.account": Writer(
        fields=frozenset(customers.EDITABLE) - {"custom", "tags"},
        create=lambda actor, info, values: customers.create_account(actor=actor, **values).account,
        update=lambda actor, info, record, values: (
            customers.update_account(actor=actor, account=record, **values).account
        ),
        delete=_standard_delete,
    ),
    # Contacts are only added (there is no contact update service yet).
    "customers.contact": Writer(
        fields=frozenset({"account", "name", "title", "phone", "email", "wechat", "is_primary"}),
        create=lambda actor, info, values: customers.add_contact(
            actor=actor, **{"account": None, "name": "", **values}
        ),
        delete=_standard_delete,
    ),
    "customers.lead": Writer(
        fields=frozenset({"person", "company", "phone", "email", "source"}),
        create=lambda actor, info, values: leads.create_lead(actor=actor, **{"person": "", **values}),
    ),
    "sales.opportunity": Writer(
        fields=frozenset({"account", "name", "amount", "currency", "expected_close_date"}),
        create=lambda actor, info, values: sales.create_opportunity(
            actor=actor, **{"account": None, "name": "", **values}
        ),
        update=lambda actor, info, record, values: sales.update_opportunity(
            actor=actor, opportunity=record, **values
        ),
    ),
    "activities.followup": Writer(
        fields=frozenset(
            {"account", "method", "occurred_at", "outcome", "result", "details", "next_follow_up_on"}
        ),
        create=lambda actor, info, values: activities.log_follow_up(
            actor=actor, **{"account": None, "method": "", **values}
        ),
        update=lambda actor, info, record, values: activities.update_follow_up(
            actor=actor, follow_up=record, **values
        ),
    ),
    "catalog.product": Writer(
        fields=frozenset({"line", "sku", "name", "unit", "tax_rate", "description"}),
        create=lambda actor, info, values: catalog.create_product(
            actor=actor, **{"line": None, "sku": "", "name": "", "unit": None, **values}
        ),
        update=lambda actor, info, record, values: catalog.update_product(
            actor=actor, product=record, **values
        ),
    ),
    "service.case": Writer(
        fields=frozenset({"account", "subject", "kind", "priority", "description", "contact"}),
        create=lambda actor, info, values: service.open_case(
            actor=actor, **{"account": None, "subject": "", "kind": "", **values}
        ),
    ),
}

READ_ONLY = Writer(fields=frozenset())


def writer_for(info: registry.ObjectInfo) -> Writer:
    """The writer of `info`'s records (one with no calls for an object written only by its own
    workflow, such as orders and payments)."""
    return CUSTOM_OBJECT if info.custom else STANDARD.get(info.key, READ_ONLY)


def operation(info: registry.ObjectInfo, name: str, *, override_lock: bool = False) -> Callable:
    """The writer's `name` call ("create", "update", "delete") for `info`; NotWritable if the
    object's services offer none. Changes are refused while the record waits for an approval that
    locks it (workflows/locks.py), unless an administrator overrides."""
    call = getattr(writer_for(info), name)
    if call is None:
        verbs = {"create": _("created"), "update": _("changed"), "delete": _("deleted")}
        message = _("%(object)s records cannot be %(verb)s this way.")
        raise NotWritable(message % {"object": info.label(), "verb": verbs[name]})
    if name == "create":
        return call

    def unless_locked(actor, info, record, *values):
        ensure_editable(actor, info.key, record.pk, override=override_lock, change=name)
        return call(actor, info, record, *values)

    return unless_locked


def fetch(actor, info: registry.ObjectInfo, pk, *, for_update: bool = False):
    """The record `pk` of `info` as `actor` may see it (with `for_update`: change it, locked)."""
    if info.custom:
        return records.get_record(actor, info.key, pk, for_update=for_update)
    return get_for(actor, info.model, pk, for_update=for_update)


def match(actor, info: registry.ObjectInfo, key: registry.Field, value):
    """The visible record whose `key` ("id" or a unique custom field) equals `value`, or None."""
    visible = info.queryset().visible_to(actor)
    if key.path == "id":
        return visible.filter(pk=value).first() if isinstance(value, int) else None
    text = KeyTextTransform(key.name, "custom")
    return visible.annotate(_match_key=text).filter(_match_key=str(value)).first()


def check_create(actor, info: registry.ObjectInfo) -> None:
    """The object permission to create, checked before any value is read (and by the services)."""
    require(actor, info.key, "create")
