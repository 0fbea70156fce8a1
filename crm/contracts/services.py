"""Contracts: numbering, create (or from an accepted quote), change while draft, approval hook,
signatures, files, activation and termination. Renewal and the periodic jobs: crm/contracts/renewals.py.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.contracts import lines as contract_lines
from crm.contracts.models import RENEWAL_NOTICE_DAYS, Contract, ContractLine, Signatory
from crm.customers.models import Account
from crm.quotes.models import Quote
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.models import NumberSequence
from crm.records.services import attach, dismiss_reminders, get_for, next_number
from crm_platform.errors import Conflict, NotFound

# 合同编号: HT202603-0001, restarting every month. Tenants change it with
# records.services.configure_numbering("contract", pattern, reset).
CONTRACT_NUMBERING = ("contract", "HT{yyyy}{mm}-{seq:04d}")
RENEWAL_REMINDER = "contract_renewal"
UPDATABLE = frozenset(
    {
        "title",
        "start_date",
        "end_date",
        "key_terms",
        "payment_terms",
        "renewal_notice_days",
        "amount",
        "currency",
    }
)


def contract_number(today: date | None = None) -> str:
    """The next contract number; the sequence starts life with a monthly reset to match its pattern."""
    key, pattern = CONTRACT_NUMBERING
    NumberSequence.objects.get_or_create(
        key=key, defaults={"pattern": pattern, "reset": NumberSequence.Reset.MONTHLY}
    )
    return next_number(key, pattern, today)


def create_contract(
    *,
    actor,
    account,
    title: str,
    start_date,
    end_date,
    lines: Iterable[Mapping] = (),
    amount=None,
    currency: str = settings.DEFAULT_CURRENCY,
    key_terms: str = "",
    payment_terms: str = "",
    signatories: Iterable[Mapping] = (),
    renewal_notice_days: int = RENEWAL_NOTICE_DAYS,
    owner=None,
) -> Contract:
    """A draft contract. With lines (see crm/contracts/lines.py) the amount is their total; without,
    `amount` (tax included) is required. The end date must be after the start date."""
    with transaction.atomic(), acting_as(actor):
        contract = Contract(
            title=(title or "").strip(),
            currency=currency,
            start_date=start_date,
            end_date=end_date,
            key_terms=key_terms or "",
            payment_terms=payment_terms or "",
            renewal_notice_days=renewal_notice_days,
        )
        errors = {}
        try:
            contract.account = get_for(actor, Account, pk_of(account))
            contract.place(owner=owner or actor, channel_node=contract.account.channel_node)
        except NotFound as exc:
            errors["account"] = [str(exc.detail)]
        new_lines, new_signatories = _collect(errors, lines, signatories)
        _set_amount(contract, new_lines, amount, errors)
        _check_header(contract, errors)
        if errors:
            raise ValidationError(errors)
        return _save_new(contract, new_lines, new_signatories)


def create_contract_from_quote(
    *,
    actor,
    quote,
    start_date,
    end_date,
    title: str = "",
    payment_terms: str = "",
    signatories: Iterable[Mapping] = (),
    renewal_notice_days: int = RENEWAL_NOTICE_DAYS,
) -> Contract:
    """A draft contract for an accepted quote: its account, currency, terms and lines as quoted.

    A quote backs one contract (a terminated one aside).
    """
    with transaction.atomic(), acting_as(actor):
        quote = get_for(actor, Quote, pk_of(quote), for_update=True)
        if quote.status != Quote.Status.ACCEPTED:
            raise Conflict(_("Only an accepted quote can become a contract."))
        if quote.contracts.exclude(status=Contract.Status.TERMINATED).exists():
            raise Conflict(_("This quote already has a contract."))
        contract = Contract(
            title=(title or quote.title or _("Contract for quote %(number)s") % {"number": quote.number})[
                :200
            ],
            account=quote.account,
            quote=quote,
            currency=quote.currency,
            start_date=start_date,
            end_date=end_date,
            key_terms=quote.terms,
            payment_terms=payment_terms or "",
            renewal_notice_days=renewal_notice_days,
        )
        contract.place(owner=quote.owner or actor, channel_node=quote.channel_node)
        errors = {}
        new_lines = contract_lines.lines_from_quote(quote)
        _no_lines, new_signatories = _collect(errors, (), signatories)
        _set_amount(contract, new_lines, None, errors)
        _check_header(contract, errors)
        if errors:
            raise ValidationError(errors)
        return _save_new(contract, new_lines, new_signatories)


def update_contract(*, actor, contract, lines: Iterable[Mapping] | None = None, **changes) -> Contract:
    """Change a draft (or pending) contract: header fields, and the lines when `lines` is given.

    A change voids a pending or given approval (the contract goes back to draft).
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"update_contract() got unexpected fields: {', '.join(sorted(unknown))}")
    with transaction.atomic(), acting_as(actor):
        contract = _editable(actor, contract)
        for field, value in changes.items():
            setattr(contract, field, (value or "").strip() if field == "title" else value)
        errors: dict[str, list[str]] = {}
        new_lines = None
        if lines is not None:
            new_lines, _signatories = _collect(errors, lines, ())
        if new_lines is not None or "amount" in changes:
            current = new_lines if new_lines is not None else list(contract.lines.all())
            _set_amount(contract, current, changes.get("amount", contract.amount), errors)
        _check_header(contract, errors)
        if errors:
            raise ValidationError(errors)
        voided = _void_approval(contract)
        contract.save()
        if new_lines is not None:
            contract.lines.all().delete()
            _add_lines(contract, new_lines)
        publish("contract.updated", contract, fields=sorted(changes), approval_voided=voided)
        return contract


def submit_contract_for_approval(*, actor, contract) -> Contract:
    """Ask for approval of a draft contract (the workflow engine subscribes to the event)."""
    with transaction.atomic(), acting_as(actor):
        contract = get_for(actor, Contract, pk_of(contract), for_update=True)
        if contract.status != Contract.Status.DRAFT:
            raise Conflict(_("Only draft contracts can be submitted for approval."))
        contract.status = Contract.Status.PENDING_APPROVAL
        contract.save(update_fields=["status", "updated_at"])
        publish(
            "contract.approval_requested",
            contract,
            amount=str(contract.amount),
            submitted_by=getattr(actor, "pk", None),
        )
        return contract


def record_contract_approval(*, actor, contract, approved: bool, comment: str = "") -> Contract:
    """The approval's outcome: back to draft either way, approved (may be activated) or not."""
    with transaction.atomic(), acting_as(actor, comment=comment):
        contract = get_for(actor, Contract, pk_of(contract), for_update=True)
        if contract.status != Contract.Status.PENDING_APPROVAL:
            raise Conflict(_("This contract is not waiting for approval."))
        contract.status = Contract.Status.DRAFT
        contract.approved_by = actor if approved else None
        contract.approved_at = timezone.now() if approved else None
        contract.approval_comment = (comment or "")[:500]
        contract.save()
        publish("contract.approved" if approved else "contract.approval_rejected", contract, comment=comment)
        return contract


def sign_contract(*, actor, contract, side: str, name: str, title: str = "", signed_on=None) -> Signatory:
    """Record a signature for one side (ours or theirs), by default today; a named signatory already on
    the contract gets the date."""
    with transaction.atomic(), acting_as(actor):
        contract = get_for(actor, Contract, pk_of(contract), for_update=True)
        if contract.status != Contract.Status.DRAFT:
            raise Conflict(_("Only draft contracts can be signed."))
        row = {"side": side, "name": name, "title": title, "signed_on": signed_on or timezone.localdate()}
        try:
            (signatory,) = contract_lines.signatories([row])
        except ValidationError as exc:
            prefix = "signatories[0]."
            raise ValidationError(
                {field.removeprefix(prefix): messages for field, messages in exc.message_dict.items()}
            ) from None
        existing = contract.signatories.filter(side=signatory.side, name=signatory.name).first()
        if existing:
            existing.signed_on = signatory.signed_on
            existing.title = signatory.title or existing.title
            signatory = existing
        signatory.contract = contract
        signatory.save()
        publish("contract.signed", contract, side=signatory.side, signatory=signatory.name)
        return signatory


def attach_contract_file(*, actor, contract, uploaded_file):
    """Attach a file (the scanned contract, an annex) to a contract in any state."""
    with transaction.atomic(), acting_as(actor):
        contract = get_for(actor, Contract, pk_of(contract))
        attachment = attach(contract, uploaded_file, by=actor)
        publish("contract.file_attached", contract, attachment=attachment.pk, file_name=attachment.name)
        return attachment


def activate_contract(*, actor, contract) -> Contract:
    """Put a draft contract in force once both sides have signed (and a requested approval was given)."""
    with transaction.atomic(), acting_as(actor):
        contract = get_for(actor, Contract, pk_of(contract), for_update=True)
        if contract.status == Contract.Status.PENDING_APPROVAL:
            raise Conflict(_("This contract is waiting for approval."))
        if contract.status != Contract.Status.DRAFT:
            raise Conflict(_("Only draft contracts can be activated."))
        signed = set(contract.signatories.filter(signed_on__isnull=False).values_list("side", flat=True))
        missing = [label for side, label in Signatory.Side.choices if side not in signed]
        if missing:
            raise Conflict(
                _("Both sides must sign first; missing: %(sides)s.") % {"sides": ", ".join(map(str, missing))}
            )
        if contract.end_date < timezone.localdate():
            raise Conflict(_("This contract has already ended."))
        contract.status = Contract.Status.ACTIVE
        contract.activated_at = timezone.now()
        contract.save(update_fields=["status", "activated_at", "updated_at"])
        publish("contract.activated", contract, amount=str(contract.amount))
        return contract


def terminate_contract(*, actor, contract, reason: str, on: date | None = None) -> Contract:
    """End an active contract early, with the reason (required) and the day (default today)."""
    with transaction.atomic(), acting_as(actor, reason=reason):
        contract = get_for(actor, Contract, pk_of(contract), for_update=True)
        if contract.status != Contract.Status.ACTIVE:
            raise Conflict(_("Only active contracts can be terminated."))
        if not (reason or "").strip():
            raise ValidationError({"reason": [_("Say why the contract ends early.")]})
        contract.status = Contract.Status.TERMINATED
        contract.terminated_on = on or timezone.localdate()
        contract.termination_reason = reason.strip()[:500]
        contract.save(update_fields=["status", "terminated_on", "termination_reason", "updated_at"])
        dismiss_reminders([contract], RENEWAL_REMINDER)
        publish("contract.terminated", contract, reason=reason)
        return contract


def _editable(actor, contract) -> Contract:
    contract = get_for(actor, Contract, pk_of(contract), for_update=True)
    if not contract.is_editable:
        raise Conflict(
            _("A contract that is %(status)s cannot change.") % {"status": contract.get_status_display()}
        )
    return contract


def _collect(errors: dict, lines, signatories) -> tuple[list[ContractLine], list[Signatory]]:
    new_lines, new_signatories = [], []
    try:
        new_lines = contract_lines.priced_lines(lines)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        new_signatories = contract_lines.signatories(signatories)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    return new_lines, new_signatories


def _set_amount(contract: Contract, lines: list[ContractLine], amount, errors: dict) -> None:
    if any(field.startswith("lines[") for field in errors):
        return  # lines were given but are wrong: the amount will come from them once they are right
    if lines:
        contract.amount = sum((line.line_total for line in lines), Decimal("0"))
        contract.tax_amount = sum((line.tax_amount for line in lines), Decimal("0"))
        return
    problems: dict[str, str] = {}
    value = decimal_or_error(amount, "amount", problems)
    if value is not None and value < 0:
        problems["amount"] = _("The amount cannot be negative.")
    if problems:
        errors.setdefault(
            "amount", [_("Give the contract amount, or lines.")] if amount is None else [problems["amount"]]
        )
        return
    contract.amount = value
    contract.tax_amount = Decimal("0")


def _check_header(contract: Contract, errors: dict) -> None:
    for field in ("start_date", "end_date"):
        value = getattr(contract, field)
        if not isinstance(value, date):
            errors.setdefault(field, [_("Enter a date.")])
    if "start_date" not in errors and "end_date" not in errors and contract.end_date <= contract.start_date:
        errors["end_date"] = [_("The end date must be after the start date.")]
    if not (
        len(contract.currency or "") == 3 and contract.currency.isascii() and contract.currency.isupper()
    ):
        errors["currency"] = [_("Use a three-letter ISO currency code, e.g. CNY.")]
    exclude = [*errors, "number", "account", "owner", "org_unit", "channel_node"]
    try:
        contract.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages)


def _save_new(contract: Contract, new_lines, new_signatories) -> Contract:
    # Numbered only once valid, from the day of entry: a refused contract does not burn a number.
    contract.number = contract_number()
    contract.save()
    _add_lines(contract, new_lines)
    for signatory in new_signatories:
        signatory.contract = contract
    Signatory.objects.bulk_create(new_signatories)
    publish("contract.created", contract, amount=str(contract.amount), quote=contract.quote_id)
    return contract


def _add_lines(contract: Contract, new_lines: list[ContractLine]) -> None:
    for position, line in enumerate(new_lines, start=1):
        line.contract = contract
        line.position = position
    ContractLine.objects.bulk_create(new_lines)


def _void_approval(contract: Contract) -> bool:
    had = contract.status == Contract.Status.PENDING_APPROVAL or contract.approved_at is not None
    contract.status = Contract.Status.DRAFT
    contract.approved_by = None
    contract.approved_at = None
    contract.approval_comment = ""
    return had
