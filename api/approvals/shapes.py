"""Approval rows as the APIs show them. Users are ids, as records show them; times stay
datetimes (REST renders ISO 8601, GraphQL its DateTime).

Requests are shaped a page at a time: their current tasks, and their events with the events'
files when asked, load in one query each for the whole page, never per request.
"""

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType

from crm.records.models import Attachment
from workflows.models import ApprovalEvent, ApprovalProcess, ApprovalTask, Delegation, Notification


def process_json(process: ApprovalProcess) -> dict:
    current = process.current
    return {
        "id": process.pk,
        "key": process.key,
        "name": process.name,
        "object": process.object,
        "description": process.description,
        "is_active": process.is_active,
        "order": process.order,
        "version": current.number if current else None,
        "definition": current.definition if current else None,
        "created_at": process.created_at,
    }


def version_json(version) -> dict:
    return {
        "number": version.number,
        "definition": version.definition,
        "created_by": version.created_by_id,
        "created_at": version.created_at,
    }


def requests_json(requests, *, events: bool = False) -> list[dict]:
    """`requests` (with version__process loaded), each with its pending tasks, and with its
    history when `events`."""
    requests = list(requests)
    ids = [request.pk for request in requests]
    waiting = defaultdict(list)
    if ids:
        pending = ApprovalTask.objects.filter(request_id__in=ids, status=ApprovalTask.Status.PENDING)
        for task in pending.order_by("id"):
            waiting[task.request_id].append(task_json(task))
    history = _events_of(requests) if events and ids else {}
    out = []
    for request in requests:
        body = request_json(request, waiting[request.pk])
        if events:
            body["events"] = history.get(request.pk, [])
        out.append(body)
    return out


def request_json(request, approvers: list[dict]) -> dict:
    version = request.version
    steps = version.steps
    return {
        "id": request.pk,
        "title": request.title,
        "object": request.object,
        "record_id": request.record_id,
        "status": request.status,
        "process": {"id": version.process_id, "key": version.process.key, "name": version.process.name},
        "version": version.number,
        "step": request.step,
        "step_name": steps[request.step]["name"] if request.step < len(steps) else None,
        "steps": [step["name"] for step in steps],
        "locks_record": request.locks_record,
        "submitted_by": request.submitted_by_id,
        "submitted_at": request.submitted_at,
        "decided_at": request.decided_at,
        "approvers": approvers,
    }


def task_json(task: ApprovalTask) -> dict:
    return {
        "id": task.pk,
        "request": task.request_id,
        "step": task.step,
        "approver": task.approver_id,
        "on_behalf_of": task.on_behalf_of_id,
        "status": task.status,
        "due_at": task.due_at,
        "created_at": task.created_at,
    }


def _events_of(requests) -> dict[int, list[dict]]:
    names = {request.pk: [step["name"] for step in request.version.steps] for request in requests}
    rows = ApprovalEvent.objects.filter(request_id__in=list(names)).order_by("at", "id")
    found = defaultdict(list)
    for event in _shaped_events(list(rows), names):
        found[event.pop("request")].append(event)
    return found


def event_json(event: ApprovalEvent) -> dict:
    """One event, as in a request's history (`event.request` with its version loaded)."""
    names = {event.request_id: [step["name"] for step in event.request.version.steps]}
    body = _shaped_events([event], names)[0]
    del body["request"]
    return body


def _shaped_events(rows: list[ApprovalEvent], step_names: dict[int, list[str]]) -> list[dict]:
    files = defaultdict(list)
    if rows:
        kind = ContentType.objects.get_for_model(ApprovalEvent)
        attached = Attachment.objects.filter(content_type=kind, object_id__in=[row.pk for row in rows])
        for attachment in attached.order_by("id"):
            files[attachment.object_id].append(
                {"id": attachment.pk, "name": attachment.name, "size": attachment.size}
            )
    shaped = []
    for event in rows:
        steps = step_names[event.request_id]
        named = event.step is not None and event.step < len(steps)
        shaped.append(
            {
                "request": event.request_id,
                "id": event.pk,
                "kind": event.kind,
                "step": event.step,
                "step_name": steps[event.step] if named else None,
                "actor": event.actor_id,
                "comment": event.comment,
                "data": event.data,
                "at": event.at,
                "attachments": files[event.pk],
            }
        )
    return shaped


def delegation_json(delegation: Delegation) -> dict:
    return {
        "id": delegation.pk,
        "user": delegation.user_id,
        "delegate": delegation.delegate_id,
        "process": delegation.process_id,
        "starts_at": delegation.starts_at,
        "ends_at": delegation.ends_at,
        "created_at": delegation.created_at,
    }


def notification_json(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "request": notification.request_id,
        "subject": notification.subject,
        "body": notification.body,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }
