"""The audit trail: who changed which fields of which record, old -> new.

Row triggers (django-pghistory) write an event for every insert, update and delete of a tracked
model, bulk updates and raw SQL included, so no code path can skip the trail. A model opts in
with `@tracked` on its class; the service layer says who acts with `acting_as(user)`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

import pghistory
from django.apps import apps
from django.db import models
from pghistory.models import Events

# Bookkeeping columns that change on every save and say nothing a reader wants to see.
UNTRACKED = ["updated_at", "version"]


def tracked(model: type[models.Model]) -> type[models.Model]:
    """Class decorator: record every insert, update and delete of this model."""
    exclude = [f for f in UNTRACKED if f in {field.name for field in model._meta.local_fields}]
    return pghistory.track(
        pghistory.InsertEvent("created"),
        pghistory.UpdateEvent("updated"),
        pghistory.DeleteEvent("deleted"),
        exclude=exclude,
    )(model)


_actor: ContextVar = ContextVar("acting_user", default=None)


@contextmanager
def acting_as(user, **details) -> Iterator[None]:
    """Attach the acting user (None for the system) and details to every event in this block;
    checks that depend on who acts (a lookup to a record they cannot see) read `current_actor()`."""
    token = _actor.set(user)
    try:
        with pghistory.context(user=getattr(user, "pk", None), **details):
            yield
    finally:
        _actor.reset(token)


def current_actor():
    """The user the innermost `acting_as` names; None for the system or outside any."""
    return _actor.get()


@dataclass(frozen=True)
class Change:
    at: datetime
    action: str  # created | updated | deleted
    user_id: int | None
    changes: dict[str, list]  # field -> [old, new]; every field for "created"
    details: dict


def history(record: models.Model) -> list[Change]:
    """Every recorded change of `record`, oldest first."""
    events = Events.objects.tracks(record).order_by("pgh_created_at", "pgh_id")
    result = []
    for event in events:
        context = dict(event.pgh_context or {})
        user_id = context.pop("user", None)
        if event.pgh_label == "created":
            changes = {field: [None, value] for field, value in event.pgh_data.items()}
        else:
            changes = event.pgh_diff or {}
        result.append(Change(event.pgh_created_at, event.pgh_label, user_id, changes, context))
    return result


def event_model(model: type[models.Model]) -> type[models.Model]:
    return apps.get_model(model._meta.app_label, f"{model.__name__}Event")


def move_history(model: type[models.Model], from_pk: int, to_pk: int) -> int:
    """Re-home a merged record's events onto the record that survives the merge."""
    return event_model(model).objects.filter(pgh_obj_id=from_pk).update(pgh_obj_id=to_pk)
