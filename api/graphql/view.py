"""The GraphQL endpoint of a tenant's host (`/graphql`): the tenant's own schema, the same
authentication as REST (a session with CSRF, or a bearer token), token scopes by operation
("read" for queries, "write" for mutations), the depth and cost limits, and answers in the
GraphQL-over-HTTP shape: {"data": ..., "errors": [...]}.

Errors a client caused in a mutation come back in the payload's `errors` (field, code, message,
as in REST's problem documents); errors reading come back as GraphQL errors whose extensions
carry the same field errors.
"""

import json
from functools import lru_cache

from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.shortcuts import render
from django.utils.translation import gettext as _
from graphql import GraphQLError, OperationType, execute, get_operation_ast, parse, specified_rules, validate
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.graphql.execution import RowExecution
from api.graphql.limits import limit_problems
from api.graphql.schema import tenant_schema
from api.idempotency import idempotent
from api.models import ApiToken


class GraphQLView(APIView):
    permission_classes = [IsAuthenticated]  # the token's scope depends on the operation: below

    def dispatch(self, request, *args, **kwargs):
        """A browser opening /graphql gets GraphiQL (signed in with its session); everything
        else is the API."""
        if request.method == "GET" and "query" not in request.GET and _wants_html(request):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            context = {"tenant_name": getattr(connection.tenant, "name", "")}
            return render(request, "api/graphiql.html", context)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        """Queries only: a GET must never change anything."""
        return self._run(request, request.query_params, mutations=False)

    @idempotent
    def post(self, request):
        return self._run(request, request.data, mutations=True)

    def _run(self, request, params, *, mutations: bool) -> Response:
        try:
            source, variables, operation_name = _request_parts(params)
            schema = tenant_schema()
            document, problems = checked_document(schema, source)
        except (GraphQLError, ValueError) as error:
            return _errors([str(error)], status=400)
        # The limits depend on the variables (page sizes), so they are checked on every request.
        if not problems:
            problems = limit_problems(document, variables)
        if problems:
            return _errors(list(problems), status=400)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return _errors([_("Name the operation to run (operationName).")], status=400)
        is_mutation = operation.operation == OperationType.MUTATION
        if is_mutation and not mutations:
            return _errors([_("Send mutations with POST.")], status=405)
        self._check_scope(request, "write" if is_mutation else "read")
        result = execute(
            schema,
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=request,
            execution_context_class=RowExecution,
        )
        body = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        return Response(body)

    def _check_scope(self, request, needed: str) -> None:
        token = request.auth
        if isinstance(token, ApiToken) and needed not in token.scopes:
            raise PermissionDenied(_("This token lacks the “%(scope)s” scope.") % {"scope": needed})


@lru_cache(maxsize=512)
def checked_document(schema, source: str) -> tuple:
    """(the parsed document, the messages of the standard validation) for `source` against
    `schema`. Clients send the same few documents again and again: parsing and validating each
    once per schema saves about a tenth of a request. Kept by the schema object, so a new
    metadata version (a new schema) checks afresh."""
    document = parse(source)
    return document, tuple(problem.message for problem in validate(schema, document, specified_rules))


def _wants_html(request) -> bool:
    accepted = request.headers.get("Accept", "")
    return "text/html" in accepted and "application/json" not in accepted


def _request_parts(params) -> tuple[str, dict | None, str | None]:
    source = params.get("query")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(_("Send the GraphQL document as `query`."))
    variables = params.get("variables")
    if isinstance(variables, str):
        variables = json.loads(variables) if variables.strip() else None
    if variables is not None and not isinstance(variables, dict):
        raise ValueError(_("`variables` must be an object."))
    operation_name = params.get("operationName") or None
    if operation_name is not None and not isinstance(operation_name, str):
        raise ValueError(_("`operationName` must be a string."))
    return source, variables, operation_name


def _errors(messages: list[str], *, status: int) -> Response:
    return Response({"errors": [{"message": message} for message in messages]}, status=status)
