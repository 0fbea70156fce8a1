"""The approval endpoints' description (api/rest/approvals.py): their components, and a view
extension per view. Like webhooks.py, the targets are optional: without the views, nothing here
applies. A record's approvals (`/api/v1/records/{object_key}/{id}/approvals`) are a generic
record path, copied per object by objects.py.
"""

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from api.approvals.operations import BOXES, DEFAULT_PAGE, MAX_PAGE
from api.openapi.annotations import IDEMPOTENCY_KEY, JSON, RECORD_TAG, WRITE, answered_header, problems
from api.openapi.components import ref
from workflows.models import ApprovalEvent, ApprovalRequest, ApprovalTask

TAG = ["approvals"]
FORM = "multipart/form-data"
_DATE_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATE_TIME = {**_DATE_TIME, "nullable": True}
_ID = {"type": "integer"}
_USER = {"type": "integer", "description": "A user's id."}
_JSON_OBJECT = {"type": "object", "additionalProperties": True}
_COMMENT = {"type": "string", "maxLength": 10_000}
_FILES = {
    "type": "array",
    "items": {"type": "string", "format": "binary"},
    "description": "Files to attach (a multipart form only).",
}


def _object(properties: dict, *, required=None, description=None) -> dict:
    schema = {"type": "object", "required": list(properties) if required is None else required}
    if description:
        schema["description"] = description
    schema["properties"] = properties
    if not schema["required"]:
        del schema["required"]
    return schema


def _page(item: str, description: str) -> dict:
    return _object(
        {
            "results": {"type": "array", "items": ref(item)},
            "next": {"type": "string", "nullable": True, "description": "The `after` of the next page."},
        },
        description=description,
    )


_PROCESS = {
    "id": _ID,
    "key": {"type": "string"},
    "name": {"type": "string"},
    "object": {"type": "string", "example": "quotes.quote"},
    "description": {"type": "string"},
    "is_active": {"type": "boolean"},
    "order": {"type": "integer", "minimum": 0},
    "version": {"type": "integer", "nullable": True, "description": "The current version's number."},
    "definition": {**_JSON_OBJECT, "nullable": True, "description": "The current version's definition."},
    "created_at": _DATE_TIME,
}
_TASK = {
    "id": _ID,
    "request": _ID,
    "step": {"type": "integer", "minimum": 0},
    "approver": _USER,
    "on_behalf_of": {
        **_USER,
        "nullable": True,
        "description": "For whom the approver decides, if not themselves.",
    },
    "status": {"type": "string", "enum": list(ApprovalTask.Status.values)},
    "due_at": _NULLABLE_DATE_TIME,
    "created_at": _DATE_TIME,
}
_EVENT = {
    "id": _ID,
    "kind": {"type": "string", "enum": list(ApprovalEvent.Kind.values)},
    "step": {"type": "integer", "nullable": True},
    "step_name": {"type": "string", "nullable": True},
    "actor": {**_USER, "nullable": True},
    "comment": {"type": "string"},
    "data": _JSON_OBJECT,
    "at": _DATE_TIME,
    "attachments": {"type": "array", "items": ref("ApprovalAttachment")},
}
_REQUEST = {
    "id": _ID,
    "title": {"type": "string"},
    "object": {"type": "string"},
    "record_id": _ID,
    "status": {"type": "string", "enum": list(ApprovalRequest.Status.values)},
    "process": _object({"id": _ID, "key": {"type": "string"}, "name": {"type": "string"}}),
    "version": {"type": "integer", "description": "The process version the request runs by."},
    "step": {"type": "integer", "minimum": 0, "description": "The current step (the last one once decided)."},
    "step_name": {"type": "string", "nullable": True},
    "steps": {"type": "array", "items": {"type": "string"}, "description": "Every step's name, in order."},
    "locks_record": {"type": "boolean"},
    "submitted_by": {**_USER, "nullable": True},
    "submitted_at": _DATE_TIME,
    "decided_at": _NULLABLE_DATE_TIME,
    "approvers": {
        "type": "array",
        "items": ref("ApprovalTask"),
        "description": "The tasks waiting for a decision.",
    },
}
_SUBMISSION = {
    "object": {"type": "string", "maxLength": 100, "example": "quotes.quote"},
    "record_id": {"type": "integer", "minimum": 1},
    "process": {
        "type": "string",
        "maxLength": 60,
        "description": "A process key; default: the first active one whose entry criteria the record meets.",
    },
    "comment": _COMMENT,
}
_REJECTION = {
    "comment": _COMMENT,
    "to_step": {
        "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "maxLength": 100}],
        "description": "Send the request back to an earlier step (its index or name) instead of ending it.",
    },
}
_DELEGATION = {
    "id": _ID,
    "user": {**_USER, "description": "Who is away."},
    "delegate": {**_USER, "description": "Who decides for them meanwhile."},
    "process": {"type": "integer", "nullable": True, "description": "Only this process's tasks (null: all)."},
    "starts_at": _DATE_TIME,
    "ends_at": _DATE_TIME,
    "created_at": _DATE_TIME,
}
_NOTIFICATION = {
    "id": _ID,
    "kind": {"type": "string", "example": "approval_waiting"},
    "request": {"type": "integer", "nullable": True},
    "subject": {"type": "string"},
    "body": {"type": "string"},
    "created_at": _DATE_TIME,
    "read_at": _NULLABLE_DATE_TIME,
}

SCHEMAS = {
    "ApprovalProcess": _object(_PROCESS),
    "ApprovalProcessInput": _object(
        {
            "object": {"type": "string", "maxLength": 100, "example": "quotes.quote"},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "definition": {
                **_JSON_OBJECT,
                "description": "Steps, approvers, entry criteria and final actions.",
            },
            "description": {"type": "string"},
            "is_active": {"type": "boolean", "default": True},
            "order": {"type": "integer", "minimum": 0, "default": 100},
        },
        required=["object", "name", "definition"],
    ),
    "ApprovalProcessVersion": _object(
        {
            "number": {"type": "integer", "minimum": 1},
            "definition": _JSON_OBJECT,
            "created_by": {**_USER, "nullable": True},
            "created_at": _DATE_TIME,
        }
    ),
    "ApprovalAttachment": _object(
        {"id": _ID, "name": {"type": "string"}, "size": {"type": "integer", "minimum": 0}}
    ),
    "ApprovalTask": _object(_TASK),
    "ApprovalEvent": _object(_EVENT, description="One line of a request's history."),
    "ApprovalRequest": _object(
        {
            **_REQUEST,
            "events": {"type": "array", "items": ref("ApprovalEvent")},
            "record": {
                "type": "object",
                "nullable": True,
                "additionalProperties": True,
                "description": "The record under approval as the caller may read it (also when "
                "it is outside their data scope but the request involves them); null when their "
                "role may not read the object. Absent from a record's history.",
            },
        },
        required=[*_REQUEST, "events"],
        description="A record's run through an approval process, with its history.",
    ),
    "ApprovalRequestSummary": _object(_REQUEST, description="A request without its history."),
    "ApprovalSubmission": _object(_SUBMISSION, required=["object", "record_id"]),
    "ApprovalSubmissionForm": _object(
        {**_SUBMISSION, "attachments": _FILES}, required=["object", "record_id"]
    ),
    "ApprovalDecision": _object({"comment": _COMMENT}, required=[]),
    "ApprovalDecisionForm": _object({"comment": _COMMENT, "attachments": _FILES}, required=[]),
    "ApprovalRejection": _object(_REJECTION, required=[]),
    "ApprovalRejectionForm": _object(
        {"comment": _COMMENT, "to_step": {"type": "string"}, "attachments": _FILES}, required=[]
    ),
    "ApprovalReassignment": _object(
        {"to": {**_USER, "minimum": 1, "description": "The user to hand the task to."}, "comment": _COMMENT},
        required=["to"],
    ),
    "ApprovalInboxItem": _object(
        {
            "task": {"allOf": [ref("ApprovalTask")], "nullable": True, "description": "Mine (waiting box)."},
            "request": ref("ApprovalRequestSummary"),
        },
        description="A request in a box; in the waiting box, with my task.",
    ),
    "ApprovalInboxPage": _page("ApprovalInboxItem", "A page of a box."),
    "Delegation": _object(_DELEGATION, description="Out of office: who decides for whom, when."),
    "DelegationInput": _object(
        {
            "to": {**_USER, "minimum": 1, "description": "Who decides meanwhile."},
            "starts_at": _DATE_TIME,
            "ends_at": _DATE_TIME,
            "user": {
                **_USER,
                "minimum": 1,
                "description": "Who is away (default: the caller; someone else: administrators only).",
            },
            "process": {
                "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 60}],
                "description": "Only this process (its id or key); default: all.",
            },
        },
        required=["to", "starts_at", "ends_at"],
    ),
    "Notification": _object(_NOTIFICATION),
    "NotificationPage": _page("Notification", "A page of notifications, unread first."),
}

KEY = OpenApiParameter(
    "key",
    {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "maxLength": 60},
    OpenApiParameter.PATH,
    description="The process's key.",
)
REQUEST_ID = OpenApiParameter("request_id", int, OpenApiParameter.PATH, description="The request's id.")
PAGE = [
    OpenApiParameter(
        "limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE}
    ),
    OpenApiParameter("after", str, description="The `next` of the previous page."),
]
REPLAYED = answered_header("Idempotent-Replayed", [200, 201], "`true` when this is a replayed answer.")
ADMIN = " Administrators only."


def _answer(schema: str | dict, description: str) -> OpenApiResponse:
    return OpenApiResponse(ref(schema) if isinstance(schema, str) else schema, description=description)


def _list(schema: str, description: str) -> OpenApiResponse:
    return OpenApiResponse({"type": "array", "items": ref(schema)}, description=description)


def _body(name: str, *, form: bool = False) -> dict:
    return {JSON: ref(name), **({FORM: ref(name + "Form")} if form else {})}


def _describe(view: str, **methods) -> None:
    """Register the description of `view`'s `methods` (each extend_schema's arguments)."""

    def view_replacement(self):
        @extend_schema_view(**{method: extend_schema(**spec) for method, spec in methods.items()})
        class Annotated(self.target_class):
            pass

        return Annotated

    attributes = {"target_class": f"api.rest.approvals.{view}", "optional": True}
    type(f"{view}Schema", (OpenApiViewExtension,), {**attributes, "view_replacement": view_replacement})


def _decision(operation_id: str, summary: str, description: str, body: str, *, form=True) -> dict:
    return {
        "operation_id": operation_id,
        "summary": summary,
        "description": description,
        "tags": TAG,
        "parameters": [REQUEST_ID],
        "request": _body(body, form=form),
        "responses": {
            200: _answer("ApprovalRequest", "The request as it now stands."),
            **problems(400, 404, 409, *WRITE),
        },
    }


_describe(
    "ProcessListView",
    get={
        "operation_id": "listApprovalProcesses",
        "summary": "List approval processes",
        "description": "Every process with its current version; any signed-in user may read them.",
        "tags": TAG,
        "responses": {200: _list("ApprovalProcess", "Processes."), **problems()},
    },
)
_describe(
    "ProcessView",
    get={
        "operation_id": "getApprovalProcess",
        "summary": "Read an approval process",
        "tags": TAG,
        "parameters": [KEY],
        "responses": {200: _answer("ApprovalProcess", "The process."), **problems(404)},
    },
    put={
        "operation_id": "saveApprovalProcess",
        "summary": "Create or change an approval process",
        "description": "A changed definition becomes a new version; running requests keep theirs. "
        "Errors locate each problem of the definition (`definition.steps[1].approvers[0].role`)." + ADMIN,
        "tags": TAG,
        "parameters": [KEY, answered_header("Location", [201], "The new process's path.")],
        "request": _body("ApprovalProcessInput"),
        "responses": {
            200: _answer("ApprovalProcess", "Changed."),
            201: _answer("ApprovalProcess", "Created."),
            **problems(400, *WRITE),
        },
    },
)
_describe(
    "ProcessVersionsView",
    get={
        "operation_id": "listApprovalProcessVersions",
        "summary": "An approval process's versions",
        "description": "Oldest first.",
        "tags": TAG,
        "parameters": [KEY],
        "responses": {200: _list("ApprovalProcessVersion", "Versions."), **problems(404)},
    },
)
_describe(
    "SubmitView",
    post={
        "operation_id": "submitApproval",
        "summary": "Submit a record for approval",
        "description": "By the named process, or the first active one of the object that accepts the "
        "record. A record has one pending request at a time (409).",
        "tags": TAG,
        "parameters": [answered_header("Location", [201], "The request's path.")],
        "request": _body("ApprovalSubmission", form=True),
        "responses": {
            201: _answer("ApprovalRequest", "Submitted."),
            **problems(400, 404, 409, *WRITE),
        },
    },
)
_describe(
    "RequestView",
    get={
        "operation_id": "getApprovalRequest",
        "summary": "Read an approval request",
        "description": "With its current approvers and its whole history.",
        "tags": TAG,
        "parameters": [REQUEST_ID],
        "responses": {200: _answer("ApprovalRequest", "The request."), **problems(404)},
    },
)
_describe(
    "ApproveView",
    post=_decision(
        "approveRequest",
        "Approve a request",
        "The same answer again changes nothing. 409 when it is not waiting for you.",
        "ApprovalDecision",
    ),
)
_describe(
    "RejectView",
    post=_decision(
        "rejectRequest",
        "Reject a request",
        "It ends rejected, or with `to_step` goes back to that earlier step.",
        "ApprovalRejection",
    ),
)
_describe(
    "RecallView",
    post=_decision(
        "recallRequest",
        "Recall a request",
        "Its submitter (or an administrator) withdraws it while pending.",
        "ApprovalDecision",
        form=False,
    ),
)
_describe(
    "CommentView",
    post={
        "operation_id": "commentRequest",
        "summary": "Comment on a request",
        "description": "Text, files, or both: by its submitter, an approver, or anyone who sees the record.",
        "tags": TAG,
        "parameters": [REQUEST_ID],
        "request": _body("ApprovalDecision", form=True),
        "responses": {201: _answer("ApprovalEvent", "The comment."), **problems(400, 404, *WRITE)},
    },
)
_describe(
    "ReassignView",
    post={
        "operation_id": "reassignApprovalTask",
        "summary": "Hand an approval task to someone else",
        "description": "By its approver, or an administrator.",
        "tags": TAG,
        "parameters": [
            OpenApiParameter("task_id", int, OpenApiParameter.PATH, description="The task's id."),
            IDEMPOTENCY_KEY,
            REPLAYED,
        ],
        "request": _body("ApprovalReassignment"),
        "responses": {
            200: _answer("ApprovalRequest", "The request as it now stands."),
            **problems(400, 404, 409, 422, *WRITE),
        },
    },
)
_describe(
    "InboxView",
    get={
        "operation_id": "approvalInbox",
        "summary": "My approvals",
        "description": "`waiting`: tasks I may decide (mine and those of whoever I stand in for), "
        "oldest first; `submitted`, `decided`: requests submitted or decided by me, newest first.",
        "tags": TAG,
        "parameters": [
            OpenApiParameter("box", {"type": "string", "enum": list(BOXES), "default": "waiting"}),
            *PAGE,
        ],
        "responses": {200: _answer("ApprovalInboxPage", "A page of the box."), **problems(400)},
    },
)
_describe(
    "DelegationListView",
    get={
        "operation_id": "listDelegations",
        "summary": "My delegations",
        "description": "Who decides for me while I am away, earliest first.",
        "tags": TAG,
        "responses": {200: _list("Delegation", "Delegations."), **problems()},
    },
    post={
        "operation_id": "addDelegation",
        "summary": "Delegate my approvals",
        "description": "Between two times, for one process or all. An administrator may delegate "
        "someone else's.",
        "tags": TAG,
        "parameters": [IDEMPOTENCY_KEY, REPLAYED],
        "request": _body("DelegationInput"),
        "responses": {201: _answer("Delegation", "Added."), **problems(400, 404, 422, *WRITE)},
    },
)
_describe(
    "DelegationView",
    delete={
        "operation_id": "withdrawDelegation",
        "summary": "Withdraw a delegation",
        "tags": TAG,
        "parameters": [OpenApiParameter("delegation_id", int, OpenApiParameter.PATH)],
        "responses": {204: OpenApiResponse(description="Withdrawn."), **problems(404, 423)},
    },
)
_describe(
    "NotificationListView",
    get={
        "operation_id": "listNotifications",
        "summary": "My notifications",
        "description": "Unread first, newest first within each.",
        "tags": TAG,
        "parameters": PAGE,
        "responses": {200: _answer("NotificationPage", "A page of notifications."), **problems(400)},
    },
)
_describe(
    "NotificationReadView",
    post={
        "operation_id": "readNotification",
        "summary": "Mark a notification read",
        "tags": TAG,
        "parameters": [OpenApiParameter("notification_id", int, OpenApiParameter.PATH)],
        "request": None,
        "responses": {200: _answer("Notification", "Read."), **problems(404, *WRITE)},
    },
)
_describe(
    "RecordApprovalsView",
    get={
        "operation_id": "listRecordApprovals",
        "summary": "A record's approvals",
        "description": "Every approval request of the record, newest first, each with its history.",
        "tags": RECORD_TAG,
        "responses": {200: _list("ApprovalRequest", "Requests."), **problems(404)},
    },
)
