"""Roles as a tenant administers them (access.services.create_role / change_role): administrators
only, every problem refused per field, every change in the audit trail, rights taking effect."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from access import services
from access.permissions import can
from accounts.models import Role, User
from crm.customers.models import Account
from crm.records import audit
from crm_platform.errors import PermissionDenied
from tests.conftest import admin_of

LABELS = {"en": "Key accounts", "zh-hans": "大客户"}


@pytest.fixture
def admin(alpha):
    user = admin_of(alpha)
    with tenant_context(alpha), translation.override("en"):
        yield user


def refused(call) -> dict:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict


def seen(user) -> set[str]:
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


def test_only_administrators_create_or_change_roles(admin):
    manager = User.objects.create(
        email="boss@roles.example", full_name="Boss", role=Role.objects.get(code="sales_manager")
    )
    sales_rep = Role.objects.get(code="sales_rep")
    with pytest.raises(PermissionDenied):
        services.create_role(actor=manager, code="key_accounts", labels=LABELS)
    with pytest.raises(PermissionDenied):
        services.change_role(actor=manager, role=sales_rep, max_discount_percent=50)
    assert not Role.objects.filter(code="key_accounts").exists()
    assert Role.objects.get(code="sales_rep").max_discount_percent == Decimal("5.00")


def test_a_role_is_refused_field_by_field_and_nothing_is_saved(admin):
    bad = {"labels": {"fr": "Clés"}, "data_level": "everything", "max_discount_percent": "120"}
    errors = refused(lambda: services.create_role(actor=admin, code="key accounts!", **bad))
    assert set(errors) == {"code", "labels", "data_level", "max_discount_percent"}
    assert errors["labels"] == ["Name the role in at least one of zh-hans, en (at most 200 characters each)."]
    assert errors["max_discount_percent"] == ["A discount limit is between 0 and 100 percent."]
    assert refused(lambda: services.create_role(actor=admin, code="sales_rep", labels=LABELS)) == {
        "code": ["This CRM already has a role sales_rep."]
    }
    assert "max_discount_percent" in refused(
        lambda: services.create_role(actor=admin, code="k", labels=LABELS, max_discount_percent="1.234")
    )
    sales_rep = Role.objects.get(code="sales_rep")
    assert refused(lambda: services.change_role(actor=admin, role=sales_rep, code="rep")) == {
        "code": ["Unknown setting."]
    }
    assert refused(lambda: services.change_role(actor=admin, role=sales_rep, is_portal=True)) == {
        "is_portal": ["A shipped role cannot move into or out of the portal."]
    }
    assert refused(lambda: services.change_role(actor=admin, role=sales_rep, labels={"en": " "}))
    assert Role.objects.count() == 7 and Role.objects.get(code="sales_rep").labels["en"] == "Sales rep"


def test_role_changes_are_audited_and_take_effect(admin):
    role = services.create_role(actor=admin, code="key_accounts", labels=LABELS, max_discount_percent="12.5")
    assert (role.is_system, role.data_level, role.max_discount_percent) == (False, "own", Decimal("12.50"))
    holder = User.objects.create(email="ka@roles.example", full_name="KA", role=role)
    services.set_object_permission(actor=admin, role=role, object="customers.account", actions=["read"])
    for name in ("mine", "someone else's"):
        record = Account(name=name)
        record.place(owner=holder if name == "mine" else admin)
        record.save()
    assert can(holder, "customers.account", "read")
    assert seen(holder) == {"mine"}

    services.change_role(actor=admin, role=role, data_level="all", labels={"en": "Key accounts (all)"})
    holder = User.objects.get(pk=holder.pk)  # the next request
    assert seen(holder) == {"mine", "someone else's"}
    trail = audit.history(Role.objects.get(pk=role.pk))
    assert [(c.action, c.user_id) for c in trail] == [("created", admin.pk), ("updated", admin.pk)]
    assert trail[1].changes["data_level"] == ["own", "all"]
