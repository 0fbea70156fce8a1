"""Errors that service functions raise for conditions a client caused, with their HTTP meaning.

Field-level input errors use Django's ValidationError; these are for the rest. Every entry point
(REST, GraphQL, HTML, tasks) maps them the same way.
"""

from django.utils.translation import gettext_lazy as _

PROBLEM_BASE = "https://crm.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class ServiceError(Exception):
    status = 400
    kind = "error"
    title = _("Request refused")

    def __init__(self, detail=""):
        super().__init__(detail or self.title)
        self.detail = detail or self.title

    def as_problem(self) -> dict:
        """RFC 9457 problem details, the body every API answers this error with."""
        return {
            "type": PROBLEM_BASE + self.kind,
            "title": str(self.title),
            "status": self.status,
            "detail": str(self.detail),
        }


class TenantReadOnly(ServiceError):
    status = 423
    kind = "tenant-read-only"
    title = _("This CRM is read-only")

    def __init__(self, detail=""):
        super().__init__(detail or _("This CRM is suspended and read-only. Contact your administrator."))


class SignUpPaused(ServiceError):
    status = 503
    kind = "sign-up-paused"
    title = _("Sign-up is paused")


class NotFound(ServiceError):
    """Missing, or not visible to the caller: the same answer either way (no existence leak)."""

    status = 404
    kind = "not-found"
    title = _("Not found")


class Conflict(ServiceError):
    """The record's state does not allow the operation (already sent, already merged...)."""

    status = 409
    kind = "conflict"
    title = _("Not possible in the current state")


class LimitReached(ServiceError):
    """A configured cap refuses the operation (pool claim caps, plan limits...)."""

    status = 409
    kind = "limit-reached"
    title = _("Limit reached")


class ApprovalRequired(ServiceError):
    """The operation needs an approval first (a discount over the role's limit, a credit block)."""

    status = 409
    kind = "approval-required"
    title = _("Approval required")


class PermissionDenied(ServiceError):
    status = 403
    kind = "permission-denied"
    title = _("Not allowed")
