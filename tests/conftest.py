"""Shared fixtures: a migrated test database with the sign-up template, and two tenants.

Every isolation test has a second tenant to fail against (STYLE.md: fixtures with two tenants).
Tenants are signed up once per session through the real service and committed; tests that
change data run inside a transaction that is rolled back, DDL included.
"""

import os
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants import services

PASSWORD = "Sturdy-Harbour-2026"


def host(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def tenant_client(tenant) -> Client:
    return Client(HTTP_HOST=host(tenant.slug))


def signed_in(tenant, user=None) -> Client:
    """A client of `tenant`'s host with a session of `user` (default: the tenant's admin); the
    session lives in the tenant's schema, so it is made there."""
    client = tenant_client(tenant)
    with tenant_context(tenant):
        client.force_login(user or User.objects.get(is_superuser=True))
    return client


def public_client() -> Client:
    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.fixture(scope="session")
def two_tenants(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        # pytest-django creates the test database only if some collected test asks for `db`;
        # a run of committed_db-only tests alone would otherwise sign tenants up in the real one.
        assert connection.settings_dict["NAME"].startswith("test_"), (
            "no test database: include a test that uses the `db` fixture in this run"
        )
        alpha = services.sign_up(
            company_name="Alpha 阿尔法科技",
            slug="alpha",
            admin_name="Ann Alpha",
            email="ann@alpha.example",
            password=PASSWORD,
        )
        beta = services.sign_up(
            company_name="Beta 贝塔贸易",
            slug="beta",
            admin_name="Bo Beta",
            email="bo@beta.example",
            password=PASSWORD,
            language="en",
        )
        connection.set_schema_to_public()
    return alpha, beta


@pytest.fixture
def alpha(two_tenants, db):
    return two_tenants[0]


@pytest.fixture
def beta(two_tenants, db):
    return two_tenants[1]


@pytest.fixture
def committed_db(two_tenants, django_db_blocker):
    """Database access with real commits and no flush afterwards (pytest-django's transactional_db
    truncates every public table, tenants included). Tests using it clean up after themselves."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    connection.set_schema_to_public()


def admin_of(tenant) -> User:
    with tenant_context(tenant):
        return User.objects.get(is_superuser=True)


@pytest.fixture(scope="module")
def live_worker(two_tenants):
    """A real Celery worker process on the real broker, connected to the test database.

    `python3 dev.py test` provides the broker (the machine's, or an embedded Redis); without one
    the tests that need a worker fail loudly rather than skip.
    """
    from crm_platform.celery import app

    broker = settings.CELERY_BROKER_URL
    assert broker, "no Celery broker: run the tests with `python3 dev.py test` or set CELERY_BROKER_URL"
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_database = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    env = {**os.environ, "DATABASE_URL": test_database, "CELERY_BROKER_URL": broker}
    app.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm_platform",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while not app.control.ping(timeout=0.5):
            assert worker.poll() is None, "the Celery worker exited during start-up"
            assert time.monotonic() < deadline, "the Celery worker did not answer within 90 s"
        yield worker
    finally:
        # Per module: background refills must not race the pool tests of other modules.
        worker.terminate()
        worker.wait(timeout=30)
        app.control.purge()


def wait_until(condition, timeout: float = 60, interval: float = 0.2):
    """Poll `condition` until it is true (work done by another process); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for background work"
        time.sleep(interval)
