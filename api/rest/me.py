"""Who the caller is: the user a session or token acts as, and the token's scopes."""

from rest_framework.response import Response
from rest_framework.views import APIView


class MeView(APIView):
    def get(self, request):
        user = request.user
        token = request.auth if hasattr(request.auth, "scopes") else None
        return Response(
            {
                "id": user.pk,
                "email": user.email,
                "name": user.get_full_name() if hasattr(user, "get_full_name") else str(user),
                "language": getattr(user, "language", ""),
                "token": None if token is None else {"name": token.name, "scopes": token.scopes},
            }
        )
