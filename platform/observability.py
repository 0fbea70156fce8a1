"""Request ids and tenant names on every log line, from web requests and Celery tasks alike."""

import contextvars
import logging
import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
tenant_var: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="-")

# A caller-supplied id is kept only if it is short and plain, so it cannot forge log lines.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.tenant = tenant_var.get()
        return True


def bind_tenant(schema_name: str) -> None:
    tenant_var.set(schema_name)


@receiver(request_finished)
def _forget_request(**_kwargs) -> None:
    request_id_var.set("-")
    tenant_var.set("-")


class RequestContextMiddleware:
    """Outermost middleware: gives each request an id, echoed back in X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # Reset on request_finished, not here: Django logs 4xx/5xx responses after the middleware
        # chain returns, and those lines need the ids too.
        request_id_var.set(request_id)
        tenant_var.set("-")
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
