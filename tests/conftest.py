"""Shared fixtures: a migrated test database with the sign-up template, and two tenants.

Every isolation test has a second tenant to fail against (STYLE.md: fixtures with two tenants).
Tenants are signed up once per session through the real service and committed; tests that
change data run inside a transaction that is rolled back, DDL included.
"""

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


def public_client() -> Client:
    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.fixture(scope="session")
def two_tenants(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
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
