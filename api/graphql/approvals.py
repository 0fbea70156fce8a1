"""Approvals in every tenant's GraphQL schema: the same operations as REST
(api/approvals/operations.py), the same shapes. The types are static (not per object), so they
are built once per process and shared by every schema, like payloads.py's.

    approval_inbox(box:, first:, after:)   approval_request(id:)   approval_processes
    submit_approval   approve_request   reject_request   recall_request   comment_request
    reassign_approval_task

Mutations answer with a payload whose `errors` hold what the caller did wrong, as the record
mutations do; queries raise those as GraphQL errors with the REST problem's status.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)
from rest_framework.exceptions import APIException

from api.approvals import operations
from api.graphql import loading
from api.graphql.payloads import FIELD_ERRORS, PAGE_INFO
from api.graphql.scalars import DATETIME, GENERIC
from api.problems import problem_errors
from crm_platform.errors import NotFound, ServiceError

CLIENT_ERRORS = (ValidationError, ServiceError, APIException, IntegrityError)
INT, TEXT = GraphQLNonNull(GraphQLInt), GraphQLNonNull(GraphQLString)


def _list_of(kind) -> GraphQLNonNull:
    return GraphQLNonNull(GraphQLList(GraphQLNonNull(kind)))


ATTACHMENT = GraphQLObjectType(
    "ApprovalAttachment",
    {"id": GraphQLField(INT), "name": GraphQLField(TEXT), "size": GraphQLField(INT)},
    description="A file attached to an approval event.",
)
EVENT = GraphQLObjectType(
    "ApprovalEvent",
    {
        "id": GraphQLField(INT),
        "kind": GraphQLField(TEXT, description="submitted, step_started, approved, sent_back..."),
        "step": GraphQLField(GraphQLInt),
        "step_name": GraphQLField(GraphQLString),
        "actor": GraphQLField(GraphQLInt, description="The user's id; null for the system."),
        "comment": GraphQLField(TEXT),
        "data": GraphQLField(GENERIC),
        "at": GraphQLField(GraphQLNonNull(DATETIME)),
        "attachments": GraphQLField(_list_of(ATTACHMENT)),
    },
    description="One line of a request's history.",
)
TASK = GraphQLObjectType(
    "ApprovalTask",
    {
        "id": GraphQLField(INT),
        "request": GraphQLField(INT),
        "step": GraphQLField(INT),
        "approver": GraphQLField(INT),
        "on_behalf_of": GraphQLField(
            GraphQLInt, description="For whom the approver decides, if not themselves."
        ),
        "status": GraphQLField(TEXT),
        "due_at": GraphQLField(DATETIME),
        "created_at": GraphQLField(GraphQLNonNull(DATETIME)),
    },
    description="One approver's part in one step of a request.",
)
PROCESS_REF = GraphQLObjectType(
    "ApprovalProcessRef",
    {"id": GraphQLField(INT), "key": GraphQLField(TEXT), "name": GraphQLField(TEXT)},
)
REQUEST = GraphQLObjectType(
    "ApprovalRequest",
    {
        "id": GraphQLField(INT),
        "title": GraphQLField(TEXT),
        "object": GraphQLField(TEXT),
        "record_id": GraphQLField(INT),
        "status": GraphQLField(TEXT, description="pending, approved, rejected or recalled"),
        "process": GraphQLField(GraphQLNonNull(PROCESS_REF)),
        "version": GraphQLField(INT, description="The process version the request runs by."),
        "step": GraphQLField(INT),
        "step_name": GraphQLField(GraphQLString),
        "steps": GraphQLField(_list_of(GraphQLString), description="Every step's name, in order."),
        "locks_record": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
        "submitted_by": GraphQLField(GraphQLInt),
        "submitted_at": GraphQLField(GraphQLNonNull(DATETIME)),
        "decided_at": GraphQLField(DATETIME),
        "approvers": GraphQLField(_list_of(TASK), description="The tasks waiting for a decision."),
        "events": GraphQLField(GraphQLList(GraphQLNonNull(EVENT)), description="The history, oldest first."),
        "record": GraphQLField(
            GENERIC,
            description="The record under approval as you may read it (also outside your data scope "
            "when the request involves you), as REST shows it; null when your role may not read it.",
        ),
    },
    description="A record's run through an approval process.",
)
PROCESS = GraphQLObjectType(
    "ApprovalProcess",
    {
        "id": GraphQLField(INT),
        "key": GraphQLField(TEXT),
        "name": GraphQLField(TEXT),
        "object": GraphQLField(TEXT),
        "description": GraphQLField(TEXT),
        "is_active": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
        "order": GraphQLField(INT),
        "version": GraphQLField(GraphQLInt, description="The current version's number."),
        "definition": GraphQLField(GENERIC, description="The current version's definition."),
        "created_at": GraphQLField(GraphQLNonNull(DATETIME)),
    },
)
BOX = GraphQLEnumType(
    "ApprovalBox",
    {box: box for box in operations.BOXES},
    description="waiting: for my decision; submitted: by me; decided: by me.",
)
INBOX_ITEM = GraphQLObjectType(
    "ApprovalInboxItem",
    {
        "task": GraphQLField(TASK, description="My task (the waiting box only)."),
        "request": GraphQLField(GraphQLNonNull(REQUEST)),
    },
)
INBOX_EDGE = GraphQLObjectType(
    "ApprovalInboxEdge",
    {"cursor": GraphQLField(TEXT), "node": GraphQLField(GraphQLNonNull(INBOX_ITEM))},
)
INBOX = GraphQLObjectType(
    "ApprovalInboxConnection",
    {"edges": GraphQLField(_list_of(INBOX_EDGE)), "page_info": GraphQLField(GraphQLNonNull(PAGE_INFO))},
)
REQUEST_PAYLOAD = GraphQLObjectType(
    "ApprovalRequestPayload", {"request": GraphQLField(REQUEST), "errors": GraphQLField(FIELD_ERRORS)}
)
COMMENT_PAYLOAD = GraphQLObjectType(
    "ApprovalCommentPayload", {"event": GraphQLField(EVENT), "errors": GraphQLField(FIELD_ERRORS)}
)


# --- queries ----------------------------------------------------------------------------------


def _reading(function):
    """A query resolver: the caller's errors as GraphQL errors carrying the problem's status."""

    def resolve(root, info, **arguments):
        try:
            return function(info, **arguments)
        except CLIENT_ERRORS as error:
            raise loading.as_graphql_error(error) from None

    return resolve


def _inbox(info, box="waiting", first=operations.DEFAULT_PAGE, after=None):
    limit = operations.DEFAULT_PAGE if first is None else first
    page = operations.inbox_page(
        info.context.user, box, after=after, limit=limit, events=_events_selected(info)
    )
    edges = [{"cursor": cursor, "node": row} for cursor, row in zip(page.cursors, page.rows, strict=True)]
    more = page.next_cursor is not None
    return {"edges": edges, "page_info": {"has_next_page": more, "end_cursor": page.next_cursor}}


def _events_selected(info) -> bool:
    """Does the query ask for the requests' histories (`edges { node { request { events`)?"""
    nodes = info.field_nodes
    for name in ("edges", "node", "request"):
        found = loading.selected(info, nodes).get(name)
        if found is None:
            return False
        nodes = [found]
    return "events" in loading.selected(info, nodes)


def _one_request(info, id):
    try:
        return operations.read_request(info.context.user, id)
    except NotFound:
        return None


QUERIES = {
    "approval_inbox": GraphQLField(
        GraphQLNonNull(INBOX),
        args={
            "box": GraphQLArgument(BOX, default_value="waiting"),
            "first": GraphQLArgument(GraphQLInt, default_value=operations.DEFAULT_PAGE),
            "after": GraphQLArgument(GraphQLString),
        },
        resolve=_reading(_inbox),
        description="My approvals a page at a time: waiting for me, submitted or decided by me.",
    ),
    "approval_request": GraphQLField(
        REQUEST,
        args={"id": GraphQLArgument(INT)},
        resolve=_reading(_one_request),
        description="One approval request with its history (null when you cannot see it).",
    ),
    "approval_processes": GraphQLField(
        _list_of(PROCESS),
        resolve=_reading(lambda info: operations.list_processes(info.context.user)),
        description="Every approval process, with its current version.",
    ),
}


# --- mutations --------------------------------------------------------------------------------


def _writing(key: str, function):
    """A mutation resolver: `{key: answer, errors: []}`, or the caller's errors in `errors`."""

    def resolve(root, info, **arguments):
        try:
            return {key: function(info.context.user, **arguments), "errors": []}
        except CLIENT_ERRORS as error:
            found = problem_errors(error)
            if found is None:
                raise
            return {key: None, "errors": found[1]}

    return resolve


def _body(**values) -> dict:
    return {name: value for name, value in values.items() if value is not None}


def _submit(user, object, record_id, process=None, comment=None):
    return operations.submit(
        user, _body(object=object, record_id=record_id, process=process, comment=comment)
    )


def _decision(decision: str):
    def run(user, id, comment=None, to_step=None):
        return operations.decide(user, id, decision, _body(comment=comment, to_step=to_step))

    return run


def _reassign(user, id, to, comment=None):
    return operations.reassign(user, id, _body(to=to, comment=comment))


def _comment(user, id, comment):
    return operations.comment(user, id, {"comment": comment})


COMMENT = {"comment": GraphQLArgument(GraphQLString)}
REQUEST_ID = {"id": GraphQLArgument(INT, description="The approval request's id.")}

MUTATIONS = {
    "submit_approval": GraphQLField(
        GraphQLNonNull(REQUEST_PAYLOAD),
        args={
            "object": GraphQLArgument(TEXT, description='The object key, e.g. "quotes.quote".'),
            "record_id": GraphQLArgument(INT),
            "process": GraphQLArgument(
                GraphQLString, description="A process key; default: the first whose entry criteria match."
            ),
            **COMMENT,
        },
        resolve=_writing("request", _submit),
        description="Submit a record for approval.",
    ),
    "approve_request": GraphQLField(
        GraphQLNonNull(REQUEST_PAYLOAD),
        args={**REQUEST_ID, **COMMENT},
        resolve=_writing("request", _decision("approve")),
        description="Approve a request waiting for you (again: nothing changes).",
    ),
    "reject_request": GraphQLField(
        GraphQLNonNull(REQUEST_PAYLOAD),
        args={
            **REQUEST_ID,
            **COMMENT,
            "to_step": GraphQLArgument(
                GraphQLString, description="Send it back to an earlier step (its index or name) instead."
            ),
        },
        resolve=_writing("request", _decision("reject")),
        description="Reject a request waiting for you.",
    ),
    "recall_request": GraphQLField(
        GraphQLNonNull(REQUEST_PAYLOAD),
        args={**REQUEST_ID, **COMMENT},
        resolve=_writing("request", _decision("recall")),
        description="Withdraw a pending request you submitted.",
    ),
    "reassign_approval_task": GraphQLField(
        GraphQLNonNull(REQUEST_PAYLOAD),
        args={
            "id": GraphQLArgument(INT, description="The task's id."),
            "to": GraphQLArgument(INT, description="The user to hand it to."),
            **COMMENT,
        },
        resolve=_writing("request", _reassign),
        description="Hand your task (or, for an administrator, anyone's) to another user.",
    ),
    "comment_request": GraphQLField(
        GraphQLNonNull(COMMENT_PAYLOAD),
        args={**REQUEST_ID, "comment": GraphQLArgument(TEXT)},
        resolve=_writing("event", _comment),
        description="Comment on a request.",
    ),
}
