"""Liveness and readiness probes, answered before host routing so a probe by pod IP works."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not ready"; the reason goes to the probe output
        return f"database: {exc.__class__.__name__}"
    return None


def _broker_ok() -> str | None:
    if not settings.CELERY_BROKER_URL:
        return None
    from crm_platform.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker: {exc.__class__.__name__}"
    return None


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            problems = [p for p in (_database_ok(), _broker_ok()) if p]
            status = 503 if problems else 200
            return JsonResponse(
                {"status": "unavailable" if problems else "ok", "problems": problems}, status=status
            )
        return self.get_response(request)
