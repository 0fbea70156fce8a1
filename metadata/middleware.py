"""One metadata snapshot per request (registry.pinned)."""

from metadata import registry


class PinnedMetadataMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with registry.pinned():
            return self.get_response(request)
