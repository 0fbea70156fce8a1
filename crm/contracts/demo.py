"""Demo contracts (合同): from the accepted demo quotes, plus annual maintenance agreements.

Run after the quotes seed. Contracts are signed by both sides and activated; some are still drafts
or waiting for approval, one was terminated, those near their end get renewal reminders, and one
was renewed already. Numbers follow the day of seeding (numbering is by day of entry).
"""

# Chinese text uses full-width punctuation, as it should.
# ruff: noqa: RUF001

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from crm.catalog.models import Product
from crm.contracts import renewals
from crm.contracts import services as contracts
from crm.contracts.models import Contract
from crm.customers.models import Account
from crm.quotes.models import Quote

OUR_SIGNATORIES = [("陈志华", "总经理"), ("王丽", "销售总监")]
THEIR_TITLES = ["总经理", "采购总监", "行政总监", "Managing director", "Head of procurement"]
SURNAMES = "王李张刘陈杨黄赵吴周"
PAYMENT_TERMS = [
    "合同签订后预付30%，到货验收后30天内付清余款。",
    "货到验收合格后60天内一次性付款。",
    "Net 30 days after delivery, by bank transfer.",
]
KEY_TERMS = "整机保修三年，压缩机保修十年；48小时内上门维修；违约方承担合同金额10%的违约金。"
MAINTENANCE_COUNT = 6


def seed(*, rng: random.Random, today: date, staff: list[User], accounts: list[Account]) -> None:
    """Contracts for accepted quotes and yearly maintenance agreements, in every state."""
    sellers = [
        user for user in staff if user.role and user.role.code in ("sales_rep", "sales_manager")
    ] or staff
    managers = [user for user in staff if user.role and user.role.code == "sales_manager"] or sellers
    if not sellers:
        return
    made = []
    for quote in Quote.objects.filter(status=Quote.Status.ACCEPTED).select_related("account").order_by("id"):
        signed = (quote.answered_at or timezone.now()).date() + timedelta(days=rng.randint(2, 10))
        signed = min(signed, today)
        contract = contracts.create_contract_from_quote(
            actor=quote.owner or rng.choice(sellers),
            quote=quote,
            start_date=signed,
            end_date=signed + timedelta(days=364),
            payment_terms=rng.choice(PAYMENT_TERMS),
            signatories=_signatories(rng, signed),
        )
        made.append((contract, signed))
    maintenance = Product.objects.filter(sku="HC-SV-MAINT").first()
    for _ in range(MAINTENANCE_COUNT if maintenance else 0):
        account = rng.choice(accounts)
        # Started 11-12 months ago: these come up for renewal about now.
        signed = today - timedelta(days=rng.randint(330, 360))
        contract = contracts.create_contract(
            actor=account.owner if account.owner in sellers else rng.choice(sellers),
            account=account,
            title=f"{account.name} 年度维保合同",
            start_date=signed,
            end_date=signed + timedelta(days=364),
            lines=[
                {
                    "product": maintenance,
                    "quantity": rng.randint(1, 3),
                    "unit_price": maintenance.prices.first().list_price,
                }
            ],
            key_terms=KEY_TERMS,
            payment_terms=PAYMENT_TERMS[0],
            signatories=_signatories(rng, signed),
        )
        made.append((contract, signed))
    for index, (contract, signed) in enumerate(made):
        actor = contract.owner or rng.choice(sellers)
        if index % 9 == 4:
            continue  # still a draft
        if index % 9 == 7:
            contracts.submit_contract_for_approval(actor=actor, contract=contract)
            continue
        if contract.amount > 200_000:
            contracts.submit_contract_for_approval(actor=actor, contract=contract)
            contracts.record_contract_approval(
                actor=rng.choice(managers), contract=contract, approved=True, comment="金额较大，已审核"
            )
        contract = contracts.activate_contract(actor=actor, contract=contract)
        activated = timezone.make_aware(datetime.combine(signed, time(15)))
        Contract.objects.filter(pk=contract.pk).update(
            created_at=activated - timedelta(days=2), activated_at=activated
        )
        if index % 9 == 2 and contract.end_date > today + timedelta(days=90):
            contracts.terminate_contract(
                actor=actor, contract=contract, reason="客户项目取消 / project cancelled"
            )
    renewals.remind_renewals()
    due = Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__lte=today + timedelta(days=30))
    for contract in due.order_by("end_date")[:1]:
        renewals.renew_contract(actor=contract.owner, contract=contract)


def _signatories(rng: random.Random, signed: date) -> list[dict]:
    ours_name, ours_title = rng.choice(OUR_SIGNATORIES)
    theirs = rng.choice(SURNAMES) + rng.choice(["伟", "敏", "静", "强", "晓东", "建国"])
    return [
        {"side": "ours", "name": ours_name, "title": ours_title, "signed_on": signed},
        {"side": "theirs", "name": theirs, "title": rng.choice(THEIR_TITLES), "signed_on": signed},
    ]
