"""The approval runtime: submit, approve, reject (to the submitter or back to an earlier step),
recall, reassign, comment. One function per operation, called by the APIs, the templates' event
handlers and the deadline jobs alike.

Every operation locks the request's row first, so decisions on one request happen one at a time:
two approvers acting at once on an any-one step give one outcome (the second finds the step
moved on), and a decision repeated with the same answer changes nothing and is not an error.
A request keeps the process version it started with (request.version).

How a step decides, over the approvers of its current visit:
- any: the first answer, approve or reject, decides;
- all: every approver approves; one rejection rejects;
- percent: approved once approvals reach the share; rejected once they no longer can.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import attach
from crm_platform.errors import Conflict, NotFound, PermissionDenied
from metadata import registry
from metadata.filters import FilterContext, compile_filter
from metadata.resolver import resolver_for
from workflows import approvers, notify, outcomes
from workflows.models import ApprovalEvent, ApprovalProcess, ApprovalRequest, ApprovalTask, Delegation

Status, TaskStatus, Kind = ApprovalRequest.Status, ApprovalTask.Status, ApprovalEvent.Kind
DECIDED = (TaskStatus.PENDING, TaskStatus.APPROVED, TaskStatus.REJECTED)  # the seats of a visit


# --- submitting --------------------------------------------------------------------------------


def submit(*, actor, object_key: str, record_id, process=None, comment: str = "", attachments=(), now=None):
    """Start the approval of a record the actor can see, by `process` (a key or row) or by the
    first active process of the object whose entry criteria the record meets."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(actor):
        info = registry.describe(object_key)
        record = _visible_record(actor, info, record_id)
        chosen = _process_for(info, record, actor, process)
        version = chosen.current
        request = ApprovalRequest(
            version=version,
            object=info.key,
            record_id=record.pk,
            title=f"{chosen.name}: {record}"[:300],
            submitted_by=actor,
            locks_record=version.definition.get("lock_record", True),
        )
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError:
            raise Conflict(_("This record is already waiting for approval.")) from None
        record_event(
            request,
            Kind.SUBMITTED,
            actor,
            comment,
            now=now,
            attachments=attachments,
            data={"version": version.number},
        )
        _enter(request, record, 0, now=now)
        return request


def _visible_record(actor, info, record_id):
    try:
        return info.queryset().visible_to(actor).get(pk=record_id)
    except (info.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("%(object)s not found.") % {"object": info.label()}) from None


def _process_for(info, record, actor, process) -> ApprovalProcess:
    candidates = ApprovalProcess.objects.filter(object=info.key, is_active=True, current__isnull=False)
    if process is not None:
        key = process.key if isinstance(process, ApprovalProcess) else process
        found = candidates.filter(key=key).select_related("current").first()
        if found is None:
            raise ValidationError(
                {"process": [_("No active approval process with this key for this object.")]}
            )
        if not matches(found.current.definition.get("entry"), info, record, actor):
            raise ValidationError({"process": [_("The record does not meet this process's entry criteria.")]})
        return found
    for found in candidates.select_related("current").order_by("order", "id"):
        if matches(found.current.definition.get("entry"), info, record, actor):
            return found
    raise ValidationError({"process": [_("No active approval process accepts this record.")]})


def matches(criteria, info, record, user) -> bool:
    """Does `record` meet `criteria` (the filter language; None: always), `user` being "me"?"""
    if not criteria:
        return True
    condition = compile_filter(criteria, info.model, FilterContext(user=user), resolver_for(info.key))
    return info.queryset().filter(condition, pk=record.pk).exists()


# --- steps -------------------------------------------------------------------------------------


def _enter(request: ApprovalRequest, record, start: int, *, now, actor=None, comment: str = "") -> None:
    """Enter the first step from `start` that applies; finish approved when none is left (the
    last decision, `actor` and `comment`, then stands for the whole request)."""
    steps = request.version.steps
    info = registry.describe(request.object)
    for index in range(start, len(steps)):
        step = steps[index]
        if not matches(step.get("criteria"), info, record, request.submitted_by):
            record_event(request, Kind.STEP_SKIPPED, None, step=index, now=now)
            continue
        chosen = approvers.resolve(step, record, request.submitted_by)
        if not chosen:
            policy = step["when_no_approver"]
            record_event(request, Kind.NO_APPROVER, None, step=index, now=now, data={"policy": policy})
            if policy == "approve":
                continue
            if policy == "reject":
                _finish(request, record, Status.REJECTED, None, _("No approver could be found."), now=now)
                return
            chosen = approvers.administrators()
            if not chosen:
                continue
        _open_step(request, index, chosen, now=now)
        return
    _finish(request, record, Status.APPROVED, actor, comment, now=now)


def _open_step(request, index: int, chosen: list[User], *, now) -> None:
    step = request.version.steps[index]
    request.step, request.visit = index, request.visit + 1
    request.save(update_fields=["step", "visit"])
    due, remind_at = deadlines_of(step, now)
    # One query for who is away, then a delegate lookup for those only (not one per approver).
    away = set(
        Delegation.objects.filter(user__in=chosen, starts_at__lte=now, ends_at__gt=now).values_list(
            "user_id", flat=True
        )
    )
    tasks = []
    for user in chosen:
        delegate = approvers.delegate_of(user, request.version.process_id, now) if user.pk in away else None
        tasks.append(
            ApprovalTask(
                request=request,
                step=index,
                visit=request.visit,
                approver=delegate or user,
                on_behalf_of=user if delegate else None,
                due_at=due,
                remind_at=remind_at,
            )
        )
    ApprovalTask.objects.bulk_create(tasks)
    record_event(
        request,
        Kind.STEP_STARTED,
        None,
        step=index,
        now=now,
        data={
            "approvers": [t.approver_id for t in tasks],
            "mode": step["mode"],
            "due_at": due and due.isoformat(),
        },
    )
    notify.notify(
        [t.approver for t in tasks],
        "approval_waiting",
        request,
        _("Waiting for your approval: %(title)s") % {"title": request.title},
        _("Step: %(step)s") % {"step": step["name"]},
    )


def deadlines_of(step: dict, now):
    if step.get("sla_hours") is None:
        return None, None
    due = now + timedelta(hours=step["sla_hours"])
    before = step.get("remind_before_hours")
    return due, (due - timedelta(hours=before) if before else None)


def step_outcome(request: ApprovalRequest) -> str | None:
    """ "approved", "rejected" or None (still open) for the current visit, by the step's mode."""
    step = request.current_step
    seats = list(
        request.tasks.filter(visit=request.visit, status__in=DECIDED).values_list("status", flat=True)
    )
    approved, rejected, total = seats.count(TaskStatus.APPROVED), seats.count(TaskStatus.REJECTED), len(seats)
    if step["mode"] == "any":
        return "approved" if approved else ("rejected" if rejected else None)
    if step["mode"] == "all":
        return "rejected" if rejected else ("approved" if approved == total else None)
    needed = step["percent"] * total
    if approved * 100 >= needed:
        return "approved"
    return "rejected" if (total - rejected) * 100 < needed else None


# --- deciding ----------------------------------------------------------------------------------


def approve(*, actor, request, comment: str = "", attachments=(), now=None) -> ApprovalRequest:
    return decide(
        actor=actor, request=request, approved=True, comment=comment, attachments=attachments, now=now
    )


def reject(*, actor, request, comment: str = "", to_step=None, attachments=(), now=None) -> ApprovalRequest:
    """Reject: the request ends rejected, or with `to_step` (an earlier step's index or name) it
    goes back to that step."""
    return decide(
        actor=actor,
        request=request,
        approved=False,
        comment=comment,
        to_step=to_step,
        attachments=attachments,
        now=now,
    )


def decide(*, actor, request, approved: bool, comment: str = "", to_step=None, attachments=(), now=None):
    now = now or timezone.now()
    with transaction.atomic(), acting_as(actor, comment=comment):
        request = locked(request)
        task = _task_of(actor, request, now)
        wanted = TaskStatus.APPROVED if approved else TaskStatus.REJECTED
        if task is None:
            if _already_decided(actor, request, wanted):
                return request  # the same answer again: nothing to do
            raise Conflict(_("This request is not waiting for your decision."))
        back_to = None if approved or to_step is None else _earlier_step(request, to_step)
        close_task(task, wanted, actor, comment, now)
        record_event(
            request,
            Kind.APPROVED if approved else Kind.REJECTED,
            actor,
            comment,
            step=request.step,
            now=now,
            attachments=attachments,
            data={"on_behalf_of": task.on_behalf_of_id} if task.on_behalf_of_id else {},
        )
        settle(request, now=now, back_to=back_to, actor=actor, comment=comment)
        return request


def settle(request, *, now, back_to=None, actor=None, comment="") -> None:
    """Move the request on if its current step has decided."""
    outcome = step_outcome(request)
    if outcome is None:
        return
    request.tasks.filter(visit=request.visit, status=TaskStatus.PENDING).update(
        status=TaskStatus.CANCELLED, decided_at=now
    )
    record = _record(request)
    if outcome == "approved":
        record_event(request, Kind.STEP_APPROVED, None, step=request.step, now=now)
        _enter(request, record, request.step + 1, now=now, actor=actor, comment=comment)
    elif back_to is not None:
        record_event(
            request, Kind.SENT_BACK, actor, comment, step=request.step, now=now, data={"to_step": back_to}
        )
        _enter(request, record, back_to, now=now)
    else:
        _finish(request, record, Status.REJECTED, actor, comment, now=now)


def _task_of(actor, request, now) -> ApprovalTask | None:
    """The actor's pending task in the current visit: their own, or one of someone they stand in for."""
    if actor is None or request.status != Status.PENDING:
        return None
    pending = request.tasks.filter(visit=request.visit, status=TaskStatus.PENDING)
    own = pending.filter(approver=actor).first()
    if own is not None:
        return own
    for_others = approvers.delegators_of(actor, now)
    task = pending.filter(approver_id__in=for_others).first() if for_others else None
    if task is not None and task.on_behalf_of_id is None:
        task.on_behalf_of_id = task.approver_id
    return task


def _already_decided(actor, request, wanted) -> bool:
    last = request.tasks.filter(decided_by=actor).order_by("-decided_at", "-id").first()
    return last is not None and last.status == wanted


def _earlier_step(request, to_step) -> int:
    steps = request.version.steps
    if isinstance(to_step, str) and not to_step.isdigit():
        names = [i for i, step in enumerate(steps) if step["name"] == to_step]
        index = names[0] if names else None
    elif isinstance(to_step, int | str) and not isinstance(to_step, bool):
        index = int(to_step)
    else:
        index = None
    if index is None or not 0 <= index < request.step:
        raise ValidationError({"to_step": [_("Name an earlier step of this request.")]})
    return index


def close_task(task, status, actor, comment, now) -> None:
    task.status, task.decided_by, task.decided_at, task.comment = status, actor, now, comment or ""
    task.save(update_fields=["status", "decided_by", "decided_at", "comment", "on_behalf_of"])


# --- the submitter and administrators ----------------------------------------------------------


def recall(*, actor, request, comment: str = "", now=None) -> ApprovalRequest:
    """The submitter (or an administrator) withdraws a pending request."""
    from access.permissions import is_access_admin

    now = now or timezone.now()
    with transaction.atomic(), acting_as(actor, comment=comment):
        request = locked(request)
        if request.status == Status.RECALLED and request.submitted_by_id == getattr(actor, "pk", None):
            return request
        if request.status != Status.PENDING:
            raise Conflict(_("Only a pending request can be recalled."))
        if request.submitted_by_id != getattr(actor, "pk", None) and not is_access_admin(actor):
            raise PermissionDenied(_("Only the submitter may recall this request."))
        if not request.definition.get("allow_recall", True) and not is_access_admin(actor):
            raise Conflict(_("This process does not allow recalling a request."))
        request.tasks.filter(status=TaskStatus.PENDING).update(status=TaskStatus.CANCELLED, decided_at=now)
        _finish(request, _record(request), Status.RECALLED, actor, comment, now=now)
        return request


def reassign(*, actor, task, to, comment: str = "", now=None) -> ApprovalTask:
    """Hand a pending task to another user: by its approver, or by an administrator."""
    from access.permissions import is_access_admin

    now = now or timezone.now()
    with transaction.atomic(), acting_as(actor, comment=comment):
        task = ApprovalTask.objects.select_related("request").filter(pk=pk_of(task)).first()
        if task is None:
            raise NotFound(_("Approval task not found."))
        request = locked(task.request)
        task.refresh_from_db()
        if task.status != TaskStatus.PENDING:
            raise Conflict(_("This task has already been decided or handed on."))
        if task.approver_id != getattr(actor, "pk", None) and not is_access_admin(actor):
            raise PermissionDenied(_("Only the approver or an administrator may reassign this task."))
        target = User.objects.filter(pk=pk_of(to), is_active=True).first()
        if target is None:
            raise ValidationError({"to": [_("No active user has this id.")]})
        if request.tasks.filter(visit=task.visit, status=TaskStatus.PENDING, approver=target).exists():
            raise ValidationError({"to": [_("This user is already an approver of this step.")]})
        new = hand_on(task, target, TaskStatus.REASSIGNED, now=now)
        record_event(
            request,
            Kind.REASSIGNED,
            actor,
            comment,
            step=task.step,
            now=now,
            data={"from": task.approver_id, "to": target.pk},
        )
        return new


def hand_on(task: ApprovalTask, target: User, status: str, *, now, due_at=None) -> ApprovalTask:
    """Close `task` as handed on (reassigned, escalated) and open the same seat for `target`."""
    task.status, task.decided_at = status, now
    task.save(update_fields=["status", "decided_at"])
    new = ApprovalTask.objects.create(
        request_id=task.request_id,
        step=task.step,
        visit=task.visit,
        approver=target,
        on_behalf_of_id=task.on_behalf_of_id or task.approver_id,
        due_at=due_at if due_at is not None else task.due_at,
        remind_at=None,
    )
    request = task.request
    notify.notify(
        [target],
        "approval_waiting",
        request,
        _("Waiting for your approval: %(title)s") % {"title": request.title},
    )
    return new


def add_comment(*, actor, request, comment: str, attachments=(), now=None) -> ApprovalEvent:
    """A comment (with files) on a request, by its submitter, an approver, or anyone who sees the record."""
    if not (comment or "").strip() and not attachments:
        raise ValidationError({"comment": [_("Write a comment or attach a file.")]})
    with transaction.atomic(), acting_as(actor):
        request = locked(request)
        if not _involved(actor, request):
            _visible_record(actor, registry.describe(request.object), request.record_id)
        return record_event(
            request,
            Kind.COMMENTED,
            actor,
            comment,
            step=request.step,
            now=now or timezone.now(),
            attachments=attachments,
        )


def _involved(actor, request) -> bool:
    user_id = getattr(actor, "pk", None)
    return request.submitted_by_id == user_id or request.tasks.filter(approver_id=user_id).exists()


# --- finishing ---------------------------------------------------------------------------------


def _finish(request, record, status: str, actor, comment: str, *, now) -> None:
    request.status, request.decided_at = status, now
    request.save(update_fields=["status", "decided_at"])
    record_event(request, Kind.FINISHED, actor, comment, step=request.step, now=now, data={"status": status})
    moment = {Status.APPROVED: "on_approve", Status.REJECTED: "on_reject", Status.RECALLED: "on_recall"}[
        status
    ]
    outcomes.run(request, record, moment, comment=comment)
    if request.submitted_by is not None and status != Status.RECALLED:
        words = {Status.APPROVED: _("Approved: %(title)s"), Status.REJECTED: _("Rejected: %(title)s")}[status]
        notify.notify(
            [request.submitted_by], f"approval_{status}", request, words % {"title": request.title}, comment
        )
    publish(f"{event_prefix(request.object)}.approval_decided", record, request=request.pk, status=status)


def event_prefix(object_key: str) -> str:
    """The webhook event prefix of an object: "quotes.quote" -> "quote", "custom.project" stays."""
    return object_key if object_key.startswith("custom.") else object_key.split(".", 1)[1]


# --- helpers -----------------------------------------------------------------------------------


def locked(request) -> ApprovalRequest:
    # of=("self",): a plain FOR UPDATE would also lock the joined version row, shared by every
    # request of the process, and so serialise all of the process's decisions.
    try:
        return (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("version")
            .get(pk=pk_of(request))
        )
    except ApprovalRequest.DoesNotExist:
        raise NotFound(_("Approval request not found.")) from None


def _record(request):
    return registry.describe(request.object).queryset().get(pk=request.record_id)


def record_event(
    request, kind, actor, comment="", *, step=None, now, attachments=(), data=None
) -> ApprovalEvent:
    event = ApprovalEvent.objects.create(
        request=request, kind=kind, step=step, actor=actor, comment=comment or "", data=data or {}, at=now
    )
    for uploaded in attachments:
        attach(event, uploaded, by=actor)
    return event
