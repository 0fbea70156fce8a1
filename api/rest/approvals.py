"""Approvals over REST (issue 6), thin over api/approvals/operations.py, which GraphQL shares:

    GET           /api/v1/approvals/processes                       every process, current version
    GET, PUT      /api/v1/approvals/processes/<key>                 one; create or change (admins)
    GET           /api/v1/approvals/processes/<key>/versions        its versions, oldest first
    POST          /api/v1/approvals/requests                        submit a record
    GET           /api/v1/approvals/requests/<id>                   one, with its history
    POST          /api/v1/approvals/requests/<id>/approve|reject|recall|comment
    POST          /api/v1/approvals/tasks/<id>/reassign             hand a task to someone else
    GET           /api/v1/approvals/inbox?box=waiting|submitted|decided&limit=&after=
    GET, POST     /api/v1/approvals/delegations                     mine; out of office
    DELETE        /api/v1/approvals/delegations/<id>
    GET           /api/v1/approvals/notifications?limit=&after=     mine, unread first
    POST          /api/v1/approvals/notifications/<id>/read
    GET           /api/v1/records/<object>/<id>/approvals           a record's approvals

Reads need a token's "read" scope, writes "write"; the services decide the rest (processes are
for administrators). Approve, reject, comment and submit also take a multipart form, its files
under `attachments`. Errors are raised and become problem details in api/problems.py.
"""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.approvals import operations
from api.idempotency import idempotent

ATTACHMENTS = "attachments"


def _body_and_files(request) -> tuple[object, list]:
    """The body as a dict (a form's fields one value each) and the files sent under `attachments`."""
    data = request.data
    files = request.FILES.getlist(ATTACHMENTS) if request.FILES else []
    if hasattr(data, "getlist"):
        return {key: data.get(key) for key in data if key not in request.FILES}, files
    return data, files


def _page_query(query) -> dict:
    limit = query.get("limit")
    if limit is not None:
        text = limit.strip()
        limit = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0
    return {"after": query.get("after") or None, "limit": operations.DEFAULT_PAGE if limit is None else limit}


def _page(page: operations.Page) -> Response:
    return Response({"results": page.rows, "next": page.next_cursor})


class ProcessListView(APIView):
    def get(self, request):
        return Response(operations.list_processes(request.user))


class ProcessView(APIView):
    def get(self, request, key: str):
        return Response(operations.read_process(request.user, key))

    def put(self, request, key: str):
        body, created = operations.save_process(request.user, key, request.data)
        if created:
            location = f"/api/v1/approvals/processes/{body['key']}"
            return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})
        return Response(body)


class ProcessVersionsView(APIView):
    def get(self, request, key: str):
        return Response(operations.list_versions(request.user, key))


class SubmitView(APIView):
    # Not @idempotent: a multipart body is read by the CSRF check before a key could fingerprint
    # it; submitting twice is refused anyway (one pending request per record).
    def post(self, request):
        body, files = _body_and_files(request)
        answer = operations.submit(request.user, body, files)
        location = f"/api/v1/approvals/requests/{answer['id']}"
        return Response(answer, status=status.HTTP_201_CREATED, headers={"Location": location})


class RequestView(APIView):
    def get(self, request, request_id: int):
        return Response(operations.read_request(request.user, request_id))


class _DecisionView(APIView):
    decision = ""

    # The same answer twice changes nothing (workflows/engine.py), so no Idempotency-Key is needed.
    def post(self, request, request_id: int):
        body, files = _body_and_files(request)
        return Response(operations.decide(request.user, request_id, self.decision, body, files))


class ApproveView(_DecisionView):
    decision = "approve"


class RejectView(_DecisionView):
    decision = "reject"


class RecallView(_DecisionView):
    decision = "recall"


class CommentView(APIView):
    def post(self, request, request_id: int):
        body, files = _body_and_files(request)
        event = operations.comment(request.user, request_id, body, files)
        return Response(event, status=status.HTTP_201_CREATED)


class ReassignView(APIView):
    @idempotent
    def post(self, request, task_id: int):
        return Response(operations.reassign(request.user, task_id, request.data))


class InboxView(APIView):
    def get(self, request):
        query = request.query_params
        box = query.get("box", "waiting")
        return _page(operations.inbox_page(request.user, box, **_page_query(query)))


class DelegationListView(APIView):
    def get(self, request):
        return Response(operations.list_delegations(request.user))

    @idempotent
    def post(self, request):
        body = operations.add_delegation(request.user, request.data)
        return Response(body, status=status.HTTP_201_CREATED)


class DelegationView(APIView):
    def delete(self, request, delegation_id: int):
        operations.withdraw_delegation(request.user, delegation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationListView(APIView):
    def get(self, request):
        return _page(operations.notifications_page(request.user, **_page_query(request.query_params)))


class NotificationReadView(APIView):
    def post(self, request, notification_id: int):
        return Response(operations.read_notification(request.user, notification_id))


class RecordApprovalsView(APIView):
    def get(self, request, object_key: str, pk: int):
        return Response(operations.record_history(request.user, object_key, pk))
