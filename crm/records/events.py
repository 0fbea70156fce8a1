"""Domain events, published only when the transaction that caused them commits.

A service calls `publish("quote.sent", quote)`; subscribers (webhooks, notifications, search
indexing) are registered explicitly with `subscribe` and run after commit, never on a rollback.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.db import connection, transaction

logger = logging.getLogger("crm.events")


@dataclass(frozen=True)
class Event:
    name: str
    model: str
    pk: int
    schema: str
    data: dict = field(default_factory=dict)


_subscribers: list[Callable[[Event], None]] = []


def subscribe(handler: Callable[[Event], None]) -> Callable[[Event], None]:
    _subscribers.append(handler)
    return handler


def publish(name: str, record, **data) -> None:
    event = Event(name, record._meta.label_lower, record.pk, connection.schema_name, data)
    transaction.on_commit(partial(_deliver, event))


def _deliver(event: Event) -> None:
    logger.debug("event %s %s#%s", event.name, event.model, event.pk)
    for handler in list(_subscribers):
        try:
            handler(event)
        except Exception:  # one failing subscriber must not starve the others
            logger.exception("event subscriber %r failed on %s", handler, event.name)
