"""Demo quotes (询报价): a year of quotes to the demo accounts, through the quote services.

Run after the catalog seed (quotes are priced from its books) and the sales seed (quotes hang off
open deals). Quotes are sent, accepted, rejected and revised, a few over the rep's discount limit go
through price approval, and old unanswered ones expire. The services stamp the present; the history
is then back-dated (created/sent/answered times, validity) so the list spreads over the year.
"""

# Chinese text uses full-width punctuation, as it should.
# ruff: noqa: RUF001

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from crm.catalog.models import Product
from crm.catalog.pricing import list_prices
from crm.customers.models import Account
from crm.quotes import approval
from crm.quotes import services as quotes
from crm.quotes.models import Quote
from crm.sales.models import Opportunity

QUOTE_COUNT = 30
DISCOUNTS = ["0", "0", "2", "3", "5", "5", "8", "12"]
TITLES = [
    "客房空调更新报价",
    "员工宿舍家电配套",
    "厨房设备升级",
    "年度采购框架报价",
    "Apartment fit-out quotation",
]
TERMS = "报价含13%增值税专用发票；含标准安装；交货期：合同签订后15个工作日。"


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    """About thirty quotes over the last year in every status, some revised, some approved."""
    sellers = [
        user for user in staff if user.role and user.role.code in ("sales_rep", "sales_manager")
    ] or staff
    managers = [user for user in staff if user.role and user.role.code == "sales_manager"] or sellers
    products = list(Product.objects.filter(is_active=True).exclude(line__code="service").order_by("sku"))
    if not products or not sellers:
        return
    # Brand sellers quote their own customers; dealers' customers are the dealers' business.
    owned = [account for account in accounts if account.owner in sellers] or accounts
    for _ in range(QUOTE_COUNT):
        account = rng.choice(owned)
        actor = account.owner if account.owner in sellers else rng.choice(sellers)
        level = account.channel_node.level if account.channel_node_id else None
        priced = [p for p in products if p.pk in list_prices(products, "CNY", level)]
        chosen = rng.sample(priced, k=min(len(priced), rng.randint(1, 3)))
        quote = quotes.save_quote(
            actor=actor,
            account=account,
            contact=account.contacts.visible_to(actor).order_by("-is_primary", "id").first(),
            opportunity=Opportunity.objects.visible_to(actor).filter(account=account).order_by("-id").first(),
            title=rng.choice(TITLES),
            terms=TERMS,
            discount_percent=rng.choice(["0", "0", "0", "2"]),
            lines=[
                {
                    "product": product,
                    "quantity": rng.choice([5, 10, 20, 40, 60]),
                    "discount_percent": rng.choice(DISCOUNTS),
                }
                for product in chosen
            ],
        )
        days_ago = rng.randint(1, 350)
        quote = _progress(quote, actor, rng.choice(managers), rng, days_ago)
        _back_date(quote, today, days_ago)
    quotes.expire_quotes(today=today)


def _progress(quote: Quote, actor: User, manager: User, rng: random.Random, days_ago: int) -> Quote:
    if rng.random() < 0.15:
        return quote  # still being prepared
    if approval.needs_price_approval(quote, actor):
        quote = approval.submit_for_price_approval(actor=actor, quote=quote)
        if rng.random() < 0.2:
            return quote  # waiting for the manager
        approved = rng.random() < 0.8
        comment = "重点客户，同意特价" if approved else "折扣过高，请重新报价"
        quote = approval.record_price_approval(actor=manager, quote=quote, approved=approved, comment=comment)
        if not approved:
            return quote
    quote = quotes.send_quote(actor=actor, quote=quote)
    fate = rng.random()
    if days_ago < 20 or fate < 0.25:
        return quote  # waiting for the customer (old ones will expire)
    if fate < 0.65:
        return quotes.accept_quote(actor=actor, quote=quote)
    quote = quotes.reject_quote(
        actor=actor, quote=quote, reason=rng.choice(["价格偏高", "Chose a competitor"])
    )
    if fate < 0.85:
        revised = quotes.revise_quote(actor=actor, quote=quote)
        revised = (
            quotes.send_quote(actor=actor, quote=revised)
            if not approval.needs_price_approval(revised, actor)
            else revised
        )
        if revised.status == Quote.Status.SENT:
            revised = quotes.accept_quote(actor=actor, quote=revised)
        return revised
    return quote


def _back_date(quote: Quote, today: date, days_ago: int) -> None:
    """Move the quote (and the versions before it) back to when it was made; demo history only."""
    created = timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), time(10)))
    for offset, version in enumerate(_versions(quote)):
        made = created + timedelta(days=3 * offset)
        sent = made + timedelta(days=1) if version.sent_at else None
        answered = made + timedelta(days=6) if version.answered_at else None
        Quote.objects.filter(pk=version.pk).update(
            created_at=made,
            updated_at=answered or sent or made,
            sent_at=sent,
            answered_at=answered,
            valid_until=made.date() + timedelta(days=quotes.VALIDITY_DAYS),
        )


def _versions(quote: Quote) -> list[Quote]:
    chain = [quote]
    while chain[-1].revises_id:
        chain.append(Quote.objects.get(pk=chain[-1].revises_id))
    return list(reversed(chain))
