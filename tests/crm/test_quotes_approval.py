"""Quotes: the discount limit and its approval hook, sending, frozen sent quotes, versions, expiry."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from crm.quotes import approval
from crm.quotes import services as quotes
from crm.quotes.models import Quote, QuoteLine
from crm.records import events
from crm_platform.errors import ApprovalRequired, Conflict
from tests.conftest import admin_of
from tests.crm import test_catalog_support as build
from tests.crm.test_orders_support import on


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in English; the tenants' default language is zh-Hans."""
    with translation.override("en"):
        yield


@pytest.fixture
def published(monkeypatch):
    """The events published, delivered at once (the test's transaction never commits)."""
    seen = []
    monkeypatch.setattr(events.transaction, "on_commit", lambda callback: callback())
    monkeypatch.setattr(events, "_subscribers", [seen.append])
    return seen


def draft(actor, *, discount="0", quote_discount="0", quantity=1):
    product = build.product(actor, price="1000", tax_rate="13")
    return quotes.save_quote(
        actor=actor,
        account=build.account(),
        discount_percent=quote_discount,
        lines=[{"product": product, "quantity": quantity, "discount_percent": discount}],
    )


def test_a_discount_within_the_reps_limit_is_sent_without_approval(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")  # 5% limit
        quote = draft(rep, discount="5")
        assert approval.needs_price_approval(quote, rep) == []
        sent = quotes.send_quote(actor=rep, quote=quote)
    assert sent.status == "sent" and sent.sent_at is not None


def test_a_line_discount_over_the_limit_is_refused_on_send_until_approved(alpha, published):
    with tenant_context(alpha):
        rep, manager = build.user("sales_rep"), build.user("sales_manager")
        quote = draft(rep, discount="12")
        reasons = approval.needs_price_approval(quote, rep)
        assert reasons == [
            f"Line 1 ({quote.lines.get().product.sku}): discount 12% is over the limit of 5%.",
            "The quote's overall discount of 12% is over the limit of 5%.",
        ]
        with pytest.raises(ApprovalRequired, match="over the limit of 5%"):
            quotes.send_quote(actor=rep, quote=quote)
        quote = approval.submit_for_price_approval(actor=rep, quote=quote)
        assert quote.status == "pending_approval"
        requested = [event for event in published if event.name == "quote.approval_requested"]
        assert requested[0].pk == quote.pk and requested[0].data["reasons"] == reasons
        with pytest.raises(ApprovalRequired, match="waiting"):
            quotes.send_quote(actor=rep, quote=quote)
        quote = approval.record_price_approval(
            actor=manager, quote=quote, approved=True, comment="大客户 同意"
        )
        assert (quote.status, quote.approved_by, quote.approval_comment) == (
            "approved",
            manager,
            "大客户 同意",
        )
        sent = quotes.send_quote(actor=rep, quote=quote)
    assert sent.status == "sent"


def test_the_whole_quote_discount_counts_towards_the_limit(alpha):
    with tenant_context(alpha):
        rep = build.user("sales_rep")
        # 4% on the line and 2% on the quote: each within 5%, together 5.92% below list.
        quote = draft(rep, discount="4", quote_discount="2")
        assert approval.needs_price_approval(quote, rep) == [
            "The quote's overall discount of 5.92% is over the limit of 5%."
        ]
        with pytest.raises(ApprovalRequired):
            quotes.send_quote(actor=rep, quote=quote)
        manager = build.user("sales_manager")  # 20%: the manager's own quote needs no approval
        own = draft(manager, discount="4", quote_discount="2")
        assert quotes.send_quote(actor=manager, quote=own).status == "sent"


def test_the_submitters_limit_decides_not_the_preparers(alpha):
    with tenant_context(alpha):
        rep, manager = build.user("sales_rep"), build.user("sales_manager")
        quote = draft(rep, discount="12")  # over the rep's 5%, within the manager's 20%
        assert approval.needs_price_approval(quote, manager) == []
        assert quotes.send_quote(actor=manager, quote=quote).status == "sent"


def test_a_user_without_a_role_may_give_no_discount(alpha):
    with tenant_context(alpha):
        quote = draft(build.user("sales_rep"), discount="1")
        nobody = build.user("sales_rep")
        nobody.role = None
        nobody.save()
        assert approval.discount_limit(nobody) == 0 and approval.discount_limit(None) == 0
        assert len(approval.needs_price_approval(quote, nobody)) == 2


def test_a_rejected_approval_returns_the_quote_to_draft(alpha):
    with tenant_context(alpha):
        rep, manager = build.user("sales_rep"), build.user("sales_manager")
        quote = approval.submit_for_price_approval(actor=rep, quote=draft(rep, discount="30"))
        quote = approval.record_price_approval(actor=manager, quote=quote, approved=False, comment="折扣太大")
        assert (quote.status, quote.approved_by, quote.approval_comment) == ("draft", None, "折扣太大")
        with pytest.raises(Conflict):
            approval.record_price_approval(actor=manager, quote=quote, approved=True)
        with pytest.raises(ApprovalRequired):
            quotes.send_quote(actor=rep, quote=quote)


def test_an_edit_after_approval_voids_it(alpha, published):
    with tenant_context(alpha):
        rep, manager = build.user("sales_rep"), build.user("sales_manager")
        quote = approval.submit_for_price_approval(actor=rep, quote=draft(rep, discount="10"))
        quote = approval.record_price_approval(actor=manager, quote=quote, approved=True)
        line = quote.lines.get()
        quote = quotes.save_quote(
            actor=rep,
            quote_id=quote.pk,
            lines=[{"product": line.product, "quantity": 2, "discount_percent": "10"}],
        )
        assert (quote.status, quote.approved_by, quote.approved_at) == ("draft", None, None)
        assert published[-1].name == "quote.updated" and published[-1].data["approval_voided"] is True
        with pytest.raises(ApprovalRequired):
            quotes.send_quote(actor=rep, quote=quote)
        # A change while the approval is pending withdraws the request too.
        quote = approval.submit_for_price_approval(actor=rep, quote=quote)
        quote = quotes.save_quote(
            actor=rep, quote_id=quote.pk, lines=[{"product": line.product, "quantity": 1}]
        )
        assert quote.status == "draft"
        with pytest.raises(Conflict):
            approval.submit_for_price_approval(actor=rep, quote=quotes.send_quote(actor=rep, quote=quote))


def test_a_sent_quote_is_frozen(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        quote = quotes.send_quote(actor=admin, quote=draft(admin))
        product = quote.lines.get().product
        with pytest.raises(Conflict, match="revise it instead"):
            quotes.save_quote(
                actor=admin, quote_id=quote.pk, title="x", lines=[{"product": product, "quantity": 5}]
            )
        with pytest.raises(Conflict):
            quotes.send_quote(actor=admin, quote=quote)
        quote.refresh_from_db()
        assert quote.title == "" and quote.lines.get().quantity == 1


def test_the_customer_accepts_or_rejects_a_sent_quote(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        with pytest.raises(Conflict):
            quotes.accept_quote(actor=admin, quote=draft(admin))
        accepted = quotes.accept_quote(actor=admin, quote=quotes.send_quote(actor=admin, quote=draft(admin)))
        rejected = quotes.reject_quote(
            actor=admin, quote=quotes.send_quote(actor=admin, quote=draft(admin)), reason="价格偏高"
        )
        assert (accepted.status, rejected.status) == ("accepted", "rejected")
        with pytest.raises(Conflict):
            quotes.revise_quote(actor=admin, quote=accepted)


def test_a_revision_is_the_next_version_and_supersedes_the_old(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha), on(date(2026, 5, 10)):
        first = quotes.send_quote(actor=admin, quote=draft(admin, discount="3", quantity=4))
        first = quotes.reject_quote(actor=admin, quote=first, reason="数量要改")
        second = quotes.revise_quote(actor=admin, quote=first)
        first.refresh_from_db()
        assert (first.status, second.status) == ("superseded", "draft")
        assert (second.number, second.version, second.revises) == (first.number, 2, first)
        assert first.revised_by == second
        assert list(
            second.lines.values_list("product", "quantity", "discount_percent", "net_amount")
        ) == list(first.lines.values_list("product", "quantity", "discount_percent", "net_amount"))
        assert second.grand_total == first.grand_total and QuoteLine.objects.count() == 2
        # The old version is frozen and cannot be revised twice; the new one is revised in turn.
        with pytest.raises(Conflict):
            quotes.revise_quote(actor=admin, quote=first)
        with pytest.raises(Conflict):
            quotes.save_quote(actor=admin, quote_id=first.pk, lines=[])
        third = quotes.revise_quote(actor=admin, quote=second)
        assert third.version == 3 and str(third) == f"{first.number} v3"
        assert sorted(Quote.objects.filter(number=first.number).values_list("version", "status")) == [
            (1, "superseded"),
            (2, "superseded"),
            (3, "draft"),
        ]


def test_sent_quotes_past_their_validity_expire_once(alpha):
    admin = admin_of(alpha)
    with tenant_context(alpha):
        with on(date(2026, 6, 1)):
            quote = quotes.send_quote(actor=admin, quote=draft(admin))
            still_draft = draft(admin)
        assert quote.valid_until == date(2026, 7, 1)
        assert quotes.expire_quotes(today=date(2026, 7, 1)) == 0
        assert quotes.expire_quotes(today=date(2026, 7, 2)) == 1
        assert quotes.expire_quotes(today=date(2026, 7, 2)) == 0
        quote.refresh_from_db()
        still_draft.refresh_from_db()
        assert (quote.status, still_draft.status) == ("expired", "draft")
        with on(date(2026, 7, 3)), pytest.raises(ValidationError) as error:
            quotes.send_quote(actor=admin, quote=still_draft)
        assert "valid_until" in error.value.message_dict
        with on(date(2026, 7, 3)):
            revised = quotes.revise_quote(actor=admin, quote=quote)
        assert revised.valid_until == date(2026, 7, 3) + timedelta(days=30)
        assert Decimal(revised.grand_total) == quote.grand_total
