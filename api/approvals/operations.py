"""The approval operations both APIs offer, written once: each checks its input (inputs.py),
finds what it names as the caller may reach it (workflows/lookups.py: one not-found for missing
and not theirs), calls the engine or the services, and answers in the shapes of shapes.py.

Lists are keyset pages: `after` is the `next` of the page before, so nothing repeats or goes
missing while rows come and go.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from access.permissions import can, require_access_admin
from api import operations as records
from api import representation
from api.approvals import shapes
from api.approvals.inputs import Reader, storable_json_problems
from crm_platform.errors import NotFound
from metadata.views.fields import ViewFields
from workflows import engine, inbox, lookups, personal, services
from workflows.models import ApprovalProcess, ApprovalRequest

DEFAULT_PAGE = 50
MAX_PAGE = 100
BOXES = ("waiting", "submitted", "decided")


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    cursors: list[str]
    next_cursor: str | None


# --- processes ---------------------------------------------------------------------------------


def list_processes(user) -> list[dict]:
    return [shapes.process_json(process) for process in lookups.processes()]


def read_process(user, key) -> dict:
    return shapes.process_json(lookups.get_process(key))


def list_versions(user, key) -> list[dict]:
    process = lookups.get_process(key)
    return [shapes.version_json(version) for version in lookups.versions_of(process)]


def save_process(user, key: str, body) -> tuple[dict, bool]:
    """Create or change the process `key` (administrators only); (the process, whether it is
    new). A changed definition makes a new version."""
    require_access_admin(user)  # first: a non-administrator is refused, whatever the body says
    reader = Reader(body)
    if not lookups.is_key(key):
        reader.fail("key", _("Letters, digits, hyphens and underscores, at most 60."))
    values = {
        "object": reader.text("object", required=True, max_length=100),
        "name": reader.text("name", required=True, max_length=200),
        "description": reader.text("description"),
        "is_active": reader.boolean("is_active", True),
        "order": 100,
    }
    if reader.body.get("order") is not None:
        order = reader.body["order"]
        if isinstance(order, int) and not isinstance(order, bool) and 0 <= order <= 2**31 - 1:
            values["order"] = order
        else:
            reader.fail("order", _("A whole number from 0."))
    definition = reader.body.get("definition")
    if not isinstance(definition, dict):
        reader.fail("definition", _("Send the definition as an object."))
    else:
        reader.errors.update(storable_json_problems(definition, "definition"))
    reader.done()
    created = not ApprovalProcess.objects.filter(key=key).exists()
    process = services.save_process(actor=user, key=key, definition=definition, **values)
    return shapes.process_json(process), created


# --- requests ----------------------------------------------------------------------------------


def submit(user, body, attachments=()) -> dict:
    reader = Reader(body)
    object_key = reader.text("object", required=True, max_length=100)
    record_id = reader.whole("record_id", required=True)
    process = reader.text("process", default=None, max_length=60)
    comment = reader.text("comment")
    reader.done()
    request = engine.submit(
        actor=user,
        object_key=object_key,
        record_id=record_id,
        process=process,
        comment=comment,
        attachments=attachments,
    )
    return _detail(user, request.pk)


def read_request(user, request_id) -> dict:
    return _detail(user, lookups.get_request_for(user, request_id).pk)


def _record_under_approval(user, request: ApprovalRequest) -> dict | None:
    """The record as `user` may read it: through their data scope, or, when the request involves
    them (an approver outside the submitter's branch, say), through the request itself. Either way
    only the fields their role may read, and nothing when it may not read the object at all."""
    try:
        fields = ViewFields(request.object, user)
    except ValidationError:  # the object is gone
        return None
    if not can(user, fields.object.key, "read"):
        return None
    queryset = fields.object.queryset()
    for source in (queryset.visible_to(user), queryset if lookups.involved(user, request) else None):
        if source is None:
            continue
        try:
            return representation.jsonable(representation.one(fields, source, request.record_id))
        except NotFound:
            continue
    return None


def decide(user, request_id, decision: str, body, attachments=()) -> dict:
    """`decision` ("approve", "reject", "recall") on a request the caller may see."""
    request = lookups.get_request_for(user, request_id)
    reader = Reader(body if body is not None else {})
    comment = reader.text("comment")
    to_step = reader.step("to_step") if decision == "reject" else None
    reader.done()
    if decision == "approve":
        engine.approve(actor=user, request=request, comment=comment, attachments=attachments)
    elif decision == "reject":
        engine.reject(actor=user, request=request, comment=comment, to_step=to_step, attachments=attachments)
    else:
        engine.recall(actor=user, request=request, comment=comment)
    return _detail(user, request.pk)


def comment(user, request_id, body, attachments=()) -> dict:
    """A comment (with files) on a request; the event it makes."""
    request = lookups.get_request_for(user, request_id)
    reader = Reader(body if body is not None else {})
    text = reader.text("comment")
    reader.done()
    event = engine.add_comment(actor=user, request=request, comment=text, attachments=attachments)
    return shapes.event_json(event)


def reassign(user, task_id, body) -> dict:
    """Hand a pending task to another user; the request as it now stands."""
    task = lookups.get_task_for(user, task_id)
    reader = Reader(body)
    to = reader.whole("to", required=True)
    text = reader.text("comment")
    reader.done()
    engine.reassign(actor=user, task=task, to=to, comment=text)
    return _detail(user, task.request_id)


def record_history(user, object_key: str, record_id) -> list[dict]:
    """Every approval of a record, with its history; the records' own not-found when the caller
    may not see the record."""
    fields = records.fields_for(user, object_key)
    records.current(fields, record_id)
    found = inbox.history(user, fields.object.key, record_id).prefetch_related(None)
    return shapes.requests_json(found, events=True)


def _detail(user, request_id: int) -> dict:
    """The request with its history and the record under approval, as `user` may read it."""
    request = ApprovalRequest.objects.select_related("version__process").get(pk=request_id)
    found = shapes.requests_json([request], events=True)[0]
    return {**found, "record": _record_under_approval(user, request)}


# --- the inbox ---------------------------------------------------------------------------------


def inbox_page(user, box, *, after=None, limit=DEFAULT_PAGE, events: bool = False) -> Page:
    """One page of a box: "waiting" (tasks the user may decide, oldest first: each row has its
    task), "submitted" or "decided" (requests, newest first); with `events`, each request's
    history too."""
    errors = {}
    if box not in BOXES:
        errors["box"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(BOXES)}]
    _check_page(errors, limit, after, r"\d{1,18}")
    if errors:
        raise ValidationError(errors)
    if box == "waiting":
        tasks = inbox.waiting_for(user).order_by("id")
        if after:
            tasks = tasks.filter(id__gt=int(after))
        tasks = list(tasks[: limit + 1])
        shown = tasks[:limit]
        requests = shapes.requests_json([task.request for task in shown], events=events)
        rows = [{"task": shapes.task_json(t), "request": r} for t, r in zip(shown, requests, strict=True)]
        cursors = [str(task.pk) for task in shown]
        more = len(tasks) > limit
    else:
        found = (inbox.submitted_by if box == "submitted" else inbox.decided_by)(user).order_by("-id")
        if after:
            found = found.filter(id__lt=int(after))
        found = list(found[: limit + 1])
        shown = found[:limit]
        rows = [{"task": None, "request": r} for r in shapes.requests_json(shown, events=events)]
        cursors = [str(request.pk) for request in shown]
        more = len(found) > limit
    return Page(rows, cursors, cursors[-1] if more else None)


def _check_page(errors: dict, limit, after, pattern: str) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        errors["limit"] = [_("A whole number from 1 to %(max)s.") % {"max": MAX_PAGE}]
    if after is not None and (not isinstance(after, str) or not re.fullmatch(pattern, after)):
        errors["after"] = [_("Send the `next` of the page before.")]


# --- delegations and notifications ------------------------------------------------------------


def list_delegations(user) -> list[dict]:
    return [shapes.delegation_json(d) for d in personal.delegations_of(user)]


def add_delegation(user, body) -> dict:
    reader = Reader(body)
    for_user = reader.whole("user") or user
    to = reader.whole("to", required=True)
    starts_at, ends_at = reader.moment("starts_at"), reader.moment("ends_at")
    named, process = reader.body.get("process"), None
    if isinstance(named, str) and not named.strip().isdigit():
        key = reader.text("process", max_length=60)
        process = lookups.processes().filter(key=key).first() if lookups.is_key(key) else None
        if process is None and "process" not in reader.errors:
            reader.fail("process", _("No such approval process."))
    elif named is not None:
        process = reader.whole("process")  # an id: the service says whether it exists
    reader.done()
    delegation = services.delegate(
        actor=user, user=for_user, to=to, starts_at=starts_at, ends_at=ends_at, process=process
    )
    return shapes.delegation_json(delegation)


def withdraw_delegation(user, delegation_id) -> None:
    personal.withdraw_delegation(actor=user, delegation=delegation_id)


def notifications_page(user, *, after=None, limit=DEFAULT_PAGE) -> Page:
    """The caller's notifications, unread first, newest first within each."""
    errors = {}
    _check_page(errors, limit, after, r"[ur]\d{1,18}")
    if errors:
        raise ValidationError(errors)
    found = personal.notifications_of(user)
    if after:
        pk = int(after[1:])
        if after[0] == "u":
            found = found.filter(Q(unread=True, id__lt=pk) | Q(unread=False))
        else:
            found = found.filter(unread=False, id__lt=pk)
    found = list(found[: limit + 1])
    shown = found[:limit]
    cursors = [f"{'u' if row.unread else 'r'}{row.pk}" for row in shown]
    more = len(found) > limit
    return Page([shapes.notification_json(row) for row in shown], cursors, cursors[-1] if more else None)


def read_notification(user, notification_id) -> dict:
    return shapes.notification_json(personal.mark_read(actor=user, notification=notification_id))
