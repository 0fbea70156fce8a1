"""API tokens over REST: list, issue (the plaintext is in this one answer) and revoke.

A token caller needs the "admin" scope on these endpoints, so a read or write token can't mint
or revoke tokens. Errors are raised and become problem details in api/problems.py.
"""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api import tokens
from api.models import ApiToken


def token_json(token: ApiToken) -> dict:
    """What a client may see of a token. The secret isn't stored, so it is never included."""
    return {
        "id": token.pk,
        "name": token.name,
        "kind": token.kind,
        "prefix": token.prefix,
        "scopes": token.scopes,
        "user": token.user_id,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
    }


def _calling_token(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class TokenListView(APIView):
    required_scope = "admin"

    def get(self, request):
        return Response([token_json(t) for t in tokens.tokens_of(request.user)])

    # Deliberately not @idempotent: a replayed answer would have to store the plaintext token.
    def post(self, request):
        data = request.data
        scopes = data.getlist("scopes") if hasattr(data, "getlist") else data.get("scopes")
        token, plaintext = tokens.issue_token(
            request.user,
            name=data.get("name"),
            scopes=scopes,
            kind=data.get("kind", ApiToken.Kind.PERSONAL),
            user=data.get("user"),
            expires_in_days=data.get("expires_in_days", 90),
            within=_calling_token(request),
        )
        # The plaintext is in this answer only. Tell caches not to keep it.
        return Response(
            {**token_json(token), "token": plaintext},
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )


class TokenDetailView(APIView):
    required_scope = "admin"

    def delete(self, request, token_id: int):
        tokens.revoke_token(request.user, token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
