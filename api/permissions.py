"""Token scopes as a DRF permission. A scope limits a token. It never grants anything the
token's user couldn't already do."""

from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.models import ApiToken


class TokenScopes(BasePermission):
    """For a token-authenticated request: safe methods need "read" and the others "write". A
    view that sets `required_scope` (e.g. "admin" for the token endpoints) needs that scope for
    every method.

    A session request passes this check. Its user's permissions apply in the services, as they
    do for a token's user.
    """

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        needed = getattr(view, "required_scope", None) or (
            "read" if request.method in SAFE_METHODS else "write"
        )
        if needed in token.scopes:
            return True
        # DRF creates permission instances per request, so setting the message here is safe.
        self.message = _("This token lacks the “%(scope)s” scope.") % {"scope": needed}
        return False
