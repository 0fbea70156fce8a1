"""The shared core of the standard objects: audit trail, scoped lookups, numbering, reminders, files."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm.customers.models import Account
from crm.records import audit
from crm.records.services import (
    attach,
    attachments_of,
    configure_numbering,
    dismiss_reminders,
    get_for,
    next_number,
    open_reminders,
    remind,
)
from crm_platform.errors import NotFound
from tests.conftest import admin_of


def test_audit_trail_records_who_changed_which_fields(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        with audit.acting_as(admin):
            account = Account.objects.create(name="杭州数澜科技", industry="software")
        with audit.acting_as(admin, reason="typo"):
            account.industry = "SaaS"
            account.save()
        account.save()  # nothing changed: no event
        pk = account.pk
        with audit.acting_as(None):
            account.delete()
        trail = audit.history(Account(pk=pk))
    assert [change.action for change in trail] == ["created", "updated", "deleted"]
    assert trail[0].user_id == admin.pk and trail[0].changes["name"] == [None, "杭州数澜科技"]
    assert trail[1].changes == {"industry": ["software", "SaaS"]}
    assert trail[1].details == {"reason": "typo"}
    assert trail[2].user_id is None


def test_bulk_updates_are_audited_too(alpha):
    with tenant_context(alpha):
        account = Account.objects.create(name="Bulk Ltd")
        Account.objects.filter(pk=account.pk).update(city="苏州")
        assert audit.history(account)[-1].changes == {"city": ["", "苏州"]}


def test_a_scoped_lookup_gives_one_answer_for_missing_and_malformed(alpha):
    with tenant_context(alpha):
        account = Account.objects.create(name="Visible Co")
        assert get_for(None, Account, account.pk) == account
        for pk in (account.pk + 1000, "not-a-number", None):
            with pytest.raises(NotFound):
                get_for(None, Account, pk)


def test_records_of_another_tenant_are_not_found(alpha, beta):
    with tenant_context(alpha):
        account = Account.objects.create(name="Alpha only")
    with tenant_context(beta), pytest.raises(NotFound):
        get_for(None, Account, account.pk)


def test_numbers_follow_the_pattern_and_restart_each_period(alpha):
    with tenant_context(alpha):
        configure_numbering("contract", "HT{yyyy}{mm}-{seq:04d}", "monthly")
        assert next_number("contract", "x", today=date(2026, 3, 31)) == "HT202603-0001"
        assert next_number("contract", "x", today=date(2026, 3, 31)) == "HT202603-0002"
        assert next_number("contract", "x", today=date(2026, 4, 1)) == "HT202604-0001"
        # First use of a key creates it with the default pattern (reset yearly).
        assert next_number("case", "CS{yy}-{seq:03d}", today=date(2026, 5, 1)) == "CS26-001"


def test_a_bad_numbering_pattern_is_a_field_error(alpha):
    with tenant_context(alpha), pytest.raises(ValidationError) as error:
        configure_numbering("contract", "HT-{year}-{seq}")
    assert "pattern" in error.value.message_dict


def test_reminders_are_created_once(alpha):
    admin = admin_of(alpha)
    due = timezone.now() + timedelta(days=1)
    with tenant_context(alpha):
        account = Account.objects.create(name="Remind Me Ltd")
        first = remind(admin, "follow-up", account, "Call back", due)
        again = remind(admin, "follow-up", account, "Call back", due)
        assert first == again
        assert list(open_reminders(admin)) == [first]
        assert list(open_reminders(admin, until=timezone.now())) == []
        assert dismiss_reminders([account], kind="other-kind") == 0
        assert dismiss_reminders([account]) == 1
        assert list(open_reminders(admin)) == []


def test_attachments_are_stored_against_their_record(alpha, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    with tenant_context(alpha):
        account = Account.objects.create(name="Files Inc")
        attachment = attach(account, SimpleUploadedFile("合同.pdf", b"%PDF-1.4 demo"), by=admin_of(alpha))
        assert list(attachments_of(account)) == [attachment]
        assert attachment.size == 13
        # Files live under the tenant's own folder.
        assert alpha.schema_name in attachment.file.path
