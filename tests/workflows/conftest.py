"""A small company for approval tests: a rep reporting to a manager reporting to a director,
three finance users, and accounts the rep owns."""

import uuid

import pytest
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from crm.customers.models import Account
from tests.conftest import admin_of
from workflows import services


def person(role: str, *, manager=None, name=None) -> User:
    n = uuid.uuid4().hex[:10]  # unique however often this module is imported
    return User.objects.create(
        email=f"{role}.{n}@approvals.example",
        full_name=name or f"{role} {n}",
        role=Role.objects.get(code=role),
        manager=manager,
    )


def account(owner, name="华辰科技") -> Account:
    record = Account(name=name)
    record.place(owner=owner)
    record.save()
    return record


def save(admin, steps, *, key="p", object="customers.account", **extra):
    return services.save_process(
        actor=admin, key=key, object=object, name=f"Process {key}", definition={"steps": steps, **extra}
    )


@pytest.fixture
def company(alpha):
    with tenant_context(alpha):
        admin = admin_of(alpha)
        director = person("sales_manager", name="Director 总监")
        manager = person("sales_manager", manager=director, name="Manager 经理")
        rep = person("sales_rep", manager=manager, name="Rep 代表")
        finance = [person("finance") for _ in range(3)]
        yield {"admin": admin, "director": director, "manager": manager, "rep": rep, "finance": finance}
