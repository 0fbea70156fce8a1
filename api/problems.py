"""The one error format of every API: RFC 9457 problem details, with field-level errors.

    {"type": "https://crm.dev/problems/validation", "title": "Invalid input", "status": 400,
     "detail": "...", "errors": [{"field": "slug", "code": "taken", "message": "..."}]}

Service functions raise Django's ValidationError (a dict of field -> messages) or one of the
errors in `crm_platform.errors`; this handler maps both, and DRF's own, into that shape.
Middleware, which has no DRF renderer, answers the same body with `problem_response`.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from crm_platform.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE, ServiceError


def field_errors(detail, prefix: str = "") -> list[dict]:
    """Flatten DRF's nested error detail into [{field, code, message}]."""
    if isinstance(detail, dict):
        return [
            e
            for key, value in detail.items()
            for e in field_errors(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
        ]
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [_error(prefix, item) for item in detail]
        return [e for i, item in enumerate(detail) for e in field_errors(item, f"{prefix}[{i}]")]
    return [_error(prefix, detail)]


def _error(field: str, item) -> dict:
    return {"field": field or None, "code": getattr(item, "code", "invalid"), "message": str(item)}


def problem_body(status: int, kind: str, title: str, detail: str = "", errors: list | None = None) -> dict:
    """The one shape of a problem document."""
    body = {"type": PROBLEM_BASE + kind, "title": str(title), "status": status}
    if detail:
        body["detail"] = str(detail)
    if errors is not None:
        body["errors"] = errors
    return body


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str = "",
    errors: list | None = None,
    headers: dict | None = None,
) -> Response:
    body = problem_body(status, kind, title, detail, errors)
    response = Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_response(
    status: int, kind: str, title: str, detail: str = "", headers: dict | None = None
) -> JsonResponse:
    """The same document as a plain Django response, for middleware (no DRF content negotiation)."""
    return JsonResponse(
        problem_body(status, kind, title, detail),
        status=status,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def request_too_large(limit: int) -> dict:
    """The 413 problem's arguments: the same from api/limits.py's Content-Length check and from
    Django's own (RequestDataTooBig, raised where a body is read past DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    return {
        "status": 413,
        "kind": "request-too-large",
        "title": _("Request too large"),
        "detail": _("The request body is larger than the %(limit)d bytes accepted.") % {"limit": limit},
    }


def _from_django_validation(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {
            field: [exceptions.ErrorDetail(m, code=e.code or "invalid") for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    else:
        detail = [
            exceptions.ErrorDetail(m, code=e.code or "invalid") for e in exc.error_list for m in e.messages
        ]
    return exceptions.ValidationError(detail)


def _from_unique_violation(exc: IntegrityError) -> exceptions.ValidationError | None:
    """A race past the duplicate check, stopped by a unique custom field's index: the same field
    error the check gives. Any other integrity error stays a bug (500)."""
    from metadata.indexes import unique_field_of

    name = unique_field_of(exc)
    if name is None:
        return None
    message = exceptions.ErrorDetail(_("Another record already has this value."), code="unique")
    return exceptions.ValidationError({f"custom.{name}": [message]})


def problem_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Reading the body (a multipart parse, the session CSRF check, an idempotency fingerprint)
        # went past DATA_UPLOAD_MAX_MEMORY_SIZE; Django alone would answer 400.
        return problem(**request_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    if isinstance(exc, IntegrityError):
        exc = _from_unique_violation(exc) or exc
    if isinstance(exc, DjangoValidationError):
        exc = _from_django_validation(exc)
    if isinstance(exc, ServiceError):
        return Response(exc.as_problem(), status=exc.status, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        return problem(400, "validation", _("Invalid input"), _("Some fields are not valid."), errors)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    kind = exc.default_code.replace("_", "-") if isinstance(exc, exceptions.APIException) else "error"
    detail = exc.detail if isinstance(exc, exceptions.APIException) else ""
    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    return problem(
        response.status_code, kind, str(getattr(exc, "default_detail", kind)), str(detail), headers=headers
    )


def problem_errors(exc) -> tuple[int, list[dict]] | None:
    """(status, [{field, code, message}]) for an error a client caused, as the handler would answer
    it; a problem without field errors becomes one error about the whole input (field null).
    None for a real bug. For answers that carry several outcomes (bulk writes, GraphQL payloads)."""
    response = problem_exception_handler(exc, {})
    if response is None:
        return None
    body = response.data
    if body.get("errors"):
        return response.status_code, body["errors"]
    code = body["type"].rsplit("/", 1)[-1]
    message = body.get("detail") or body["title"]
    return response.status_code, [{"field": None, "code": code, "message": message}]
