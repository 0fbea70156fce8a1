"""Per-tenant API rate limits by plan (RateLimit headers, 429) and request size limits (413).

The counters live in the real cache of CI: the Redis at REDIS_URL / CELERY_BROKER_URL. The clock
is frozen inside one window, so the window and the seconds to its end are known.
"""

import dataclasses
import logging

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.test import AsyncClient, override_settings
from django.test.client import FakePayload
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import limits
from api.problems import problem_exception_handler
from billing import plans
from tests import conftest
from tests.conftest import host, public_client, tenant_client

ME = "/api/v1/me"
LIMIT = 3
START = 1_800_000_020  # 20 s into window 30_000_000: 40 s to its end
WINDOW = START // limits.WINDOW_SECONDS
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fresh_counters(two_tenants):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), "tests count in the real Redis"
    keys = [
        limits.counter_key(tenant.schema_name, window)
        for tenant in two_tenants
        for window in (WINDOW, WINDOW + 1)
    ]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def small_plans(monkeypatch):
    for code, plan in list(plans.PLANS.items()):
        monkeypatch.setitem(plans.PLANS, code, dataclasses.replace(plan, api_requests_per_minute=LIMIT))


@pytest.fixture(autouse=True)
def clock():
    """Every test inside the window whose counters `_fresh_counters` clears."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def signed_in(tenant):
    """A client with a session of the tenant's admin, asking for English."""
    client = conftest.signed_in(tenant)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_every_api_answer_carries_the_tenant_budget(alpha, small_plans, clock):
    client = signed_in(alpha)
    for remaining in (2, 1, 0):
        response = client.get(ME)
        assert response.status_code == 200
        assert response["RateLimit-Policy"] == '"tenant";q=3;w=60'
        assert response["RateLimit"] == f'"tenant";r={remaining};t=40'


def test_over_the_budget_is_429_until_the_window_ends(alpha, small_plans, clock):
    client = signed_in(alpha)
    for _ in range(LIMIT):
        assert client.get(ME).status_code == 200

    refused = client.get(ME)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    assert refused["RateLimit"] == '"tenant";r=0;t=40'
    assert refused["Content-Type"] == PROBLEM
    assert refused.json() == {
        "type": "https://crm.dev/problems/rate-limited",
        "title": "Too many requests",
        "status": 429,
        "detail": "This CRM's plan allows 3 API requests a minute. Try again in 40 s.",
    }

    clock.shift(40)  # the next window
    again = client.get(ME)
    assert again.status_code == 200
    assert again["RateLimit"] == '"tenant";r=2;t=60'


def test_all_callers_of_a_tenant_share_its_budget(alpha, small_plans, clock):
    signed_in(alpha).get(ME)
    signed_in(alpha).get(ME)
    anonymous = tenant_client(alpha).get(ME)
    assert anonymous.status_code in (401, 403)
    assert anonymous["RateLimit"] == '"tenant";r=0;t=40'


def test_another_tenants_budget_is_untouched(alpha, beta, small_plans, clock):
    client = signed_in(alpha)
    for _ in range(LIMIT + 2):
        client.get(ME)
    assert client.get(ME).status_code == 429

    response = signed_in(beta).get(ME)
    assert response.status_code == 200
    assert response["RateLimit"] == '"tenant";r=2;t=40'


def test_pages_outside_the_api_are_not_counted(alpha, small_plans, clock):
    client = tenant_client(alpha)
    for _ in range(LIMIT + 2):
        page = client.get("/accounts/login/")
        assert page.status_code == 200
        assert "RateLimit" not in page and "RateLimit-Policy" not in page
    assert public_client().get("/api/v1/me").get("RateLimit") is None

    assert signed_in(alpha).get(ME)["RateLimit"] == '"tenant";r=2;t=40'


def test_a_cache_outage_lets_requests_through(alpha, small_plans, clock, caplog):
    client = signed_in(alpha)
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    with override_settings(CACHES=unreachable), caplog.at_level(logging.WARNING, logger="api.limits"):
        for _ in range(LIMIT + 2):
            response = client.get(ME)
            assert response.status_code == 200
            assert response["RateLimit-Policy"] == '"tenant";q=3;w=60'
            assert "RateLimit" not in response  # the remaining quota is unknown
    assert any("rate limit not applied" in r.getMessage() for r in caplog.records)


@override_settings(API_MAX_BODY_BYTES=1024)
def test_a_body_declared_too_large_is_refused_before_it_is_read(alpha, clock):
    response = signed_in(alpha).post(ME, "x" * 2048, content_type="application/json")
    # 413, not the view's 405: nothing past the middleware ran.
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "https://crm.dev/problems/request-too-large",
        "title": "Request too large",
        "status": 413,
        "detail": "The request body is larger than the 1024 bytes accepted.",
    }
    assert response["RateLimit"].startswith('"tenant";r=')


def test_malformed_json_is_a_4xx_problem(alpha):
    # /api/v1/me has no POST: DRF answers 405 before parsing, as a problem, never a 500.
    response = signed_in(alpha).post(ME, "{not json", content_type="application/json")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "https://crm.dev/problems/method-not-allowed"


# A stand-in for views that read bodies: a DRF view that parses, and a plain Django one
# (GraphQL is served outside DRF).
class Echo(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def post(self, request):
        return Response({"fields": sorted(request.data)})


def raw_body(request):
    return HttpResponse(str(len(request.body)))


urlpatterns = [path("api/echo", Echo.as_view()), path("graphql", raw_body)]


@override_settings(ROOT_URLCONF=__name__)
def test_malformed_json_on_a_parsing_view_is_a_400_problem(alpha):
    client = tenant_client(alpha)
    assert client.post("/api/echo", {"a": 1}, content_type="application/json").json() == {"fields": ["a"]}

    response = client.post("/api/echo", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "https://crm.dev/problems/parse-error" and body["status"] == 400


@override_settings(ROOT_URLCONF=__name__, DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_read_past_djangos_limit_is_a_413_problem(alpha):
    # Declared small enough for API_MAX_BODY_BYTES, too big for Django's in-memory limit.
    response = tenant_client(alpha).post("/api/echo", {"note": "x" * 2000})  # multipart, parsed by DRF
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "https://crm.dev/problems/request-too-large"

    response = tenant_client(alpha).post("/graphql", "x" * 2000, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["type"] == "https://crm.dev/problems/request-too-large"


@override_settings(ROOT_URLCONF=__name__, DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_without_content_length_past_djangos_limit_is_a_413_problem(alpha):
    # Over ASGI a chunked body has no Content-Length: only reading it finds it too big.
    headers = [(b"host", host(alpha.slug).encode()), (b"content-type", b"application/json")]
    response = async_to_sync(AsyncClient().request)(
        method="POST", path="/graphql", headers=headers, _body_file=FakePayload("x" * 2000)
    )
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "https://crm.dev/problems/request-too-large"
    assert response["RateLimit"].startswith('"tenant";r=')


def test_the_drf_handler_maps_request_data_too_big():
    from django.core.exceptions import RequestDataTooBig

    response = problem_exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert response.data["type"] == "https://crm.dev/problems/request-too-large"
