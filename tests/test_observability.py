"""Probes answer on any host; log lines carry the tenant and the request id."""

import logging

from django.test import Client

from tests.conftest import tenant_client


def test_healthz_answers_without_a_known_host(db):
    response = Client(HTTP_HOST="10.0.0.7").get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_the_database(db):
    response = Client(HTTP_HOST="10.0.0.7").get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["problems"] == []


def test_request_id_is_echoed_or_made(alpha):
    client = tenant_client(alpha)
    assert client.get("/accounts/login/", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    made = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\nforged")["X-Request-ID"]
    assert len(made) == 32 and "\n" not in made


def test_log_lines_carry_tenant_and_request_id(alpha, caplog):
    from crm_platform.observability import ContextFilter

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        tenant_client(alpha).get("/no-such-page", HTTP_X_REQUEST_ID="req-42")
    finally:
        logger.removeHandler(handler)
    assert records, "a 404 is logged"
    assert records[-1].tenant == "t_alpha" and records[-1].request_id == "req-42"
