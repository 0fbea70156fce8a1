"""Bearer tokens for the REST API: `Authorization: Bearer crm_<prefix>_<secret>` (RFC 6750)."""

from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from api.tokens import authenticate_token


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticate the request as the token's user. `request.auth` is the ApiToken, which
    api/permissions.py checks scopes against.

    A header using another scheme (Basic, garbage) is not handled here, so the next class may
    try the request, and without a session it is anonymous (401). A Bearer header that is
    malformed, unknown, revoked or expired fails with 401. This class is listed first, so
    DRF takes the WWW-Authenticate challenge from it and unauthenticated requests get 401,
    not 403.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        # Read the header as the str WSGI gives. DRF's get_authorization_header() re-encodes it
        # as latin-1, which would raise (500) on characters outside latin-1.
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Send the header as: Authorization: Bearer <token>."))
        token = authenticate_token(parts[1])
        if token is None:
            raise AuthenticationFailed(_("The token is invalid, expired or revoked."))
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
