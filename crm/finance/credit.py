"""Credit control (信用控制), after SAP SD's automatic credit check and ERPNext's credit limit.

Exposure = confirmed orders' undelivered value + delivered-not-invoiced + invoiced-not-paid, in the
profile's currency (CNY unless set otherwise). A check fails when the account is blocked, when
exposure plus the new amount is over the limit, or when overdue instalments exceed the profile's
days or percentage thresholds. Orders are checked at confirmation and again at delivery; a failed
order goes to credit hold until someone with the right releases it (or an approval does).

One currency per sum: a check in another currency than the profile's, or for an account with open
business in several currencies, is refused (Conflict) rather than adding yuan to dollars.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.customers.models import Account
from crm.finance import receivables
from crm.finance.models import CreditCheck, CreditProfile
from crm.orders.models import Order
from crm.orders.status import OPEN_FOR_DELIVERY, delivery_status
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import pk_of
from crm.records.services import get_for
from crm_platform.errors import ApprovalRequired, Conflict, PermissionDenied

# Roles that may set credit profiles and release credit holds. This is where the permission engine
# will plug in (a "credit.release" right on roles); until then, this set is the only place to change.
CREDIT_CONTROLLER_ROLES = frozenset({"admin", "finance"})

Stage = CreditCheck.Stage
ZERO = Decimal("0")


def may_control_credit(user) -> bool:
    """Whether `user` may release holds and change credit profiles. None is the system (an approval's
    outcome, a migration): it acts on decisions already taken, so it may."""
    if user is None:
        return True
    role = getattr(user, "role", None)
    return role is not None and role.code in CREDIT_CONTROLLER_ROLES


@dataclass(frozen=True)
class Reason:
    code: str  # blocked | limit_exceeded | overdue_days | overdue_share | released
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class CreditResult:
    account_id: int
    currency: str
    at: datetime
    passed: bool
    figures: receivables.Receivables
    additional_amount: Decimal
    credit_limit: Decimal | None  # None: no profile or no limit
    overdue: receivables.Overdue
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def exposure(self) -> Decimal:
        return self.figures.exposure


class CreditBlocked(ApprovalRequired):
    """The credit check failed; the order is on credit hold until released."""

    def __init__(self, result: CreditResult):
        self.result = result
        messages = "; ".join(reason.message for reason in result.reasons)
        super().__init__(
            _("Credit check failed, the order is on credit hold: %(reasons)s") % {"reasons": messages}
        )


def check_credit(
    account, additional_amount=ZERO, at: datetime | None = None, *, currency=None
) -> CreditResult:
    """Whether `account` may take on `additional_amount` more at time `at`; writes nothing.

    `at` (default now) fixes the day overdue days are counted to; exposure is today's. Without a
    credit profile every check passes (no credit control for that account).
    """
    at = at or timezone.now()
    as_of = timezone.localdate(at)
    account_id = pk_of(account)
    profile = CreditProfile.objects.filter(account_id=account_id).first()
    currency = currency or (profile.currency if profile else settings.DEFAULT_CURRENCY)
    if profile is not None:
        _refuse_mixed_currencies(account_id, currency, profile.currency)
    figures = receivables.receivables_of(account_id, currency, as_of)
    late = receivables.overdue(account_id, as_of, currency)
    additional_amount = Decimal(additional_amount)
    reasons = _reasons(profile, figures.exposure, additional_amount, late) if profile else []
    return CreditResult(
        account_id=account_id,
        currency=currency,
        at=at,
        passed=not reasons,
        figures=figures,
        additional_amount=additional_amount,
        credit_limit=profile.credit_limit if profile else None,
        overdue=late,
        reasons=tuple(reasons),
    )


def _refuse_mixed_currencies(account_id: int, currency: str, profile_currency: str) -> None:
    if currency != profile_currency:
        raise Conflict(
            _("The credit limit is in %(limit)s; a credit check in %(currency)s is not possible.")
            % {"limit": profile_currency, "currency": currency}
        )
    others = receivables.foreign_currency_items(account_id, currency)
    if others:
        raise Conflict(
            _("The account has open business in %(others)s besides %(currency)s; exposure cannot be summed.")
            % {"others": ", ".join(others), "currency": currency}
        )


def _reasons(profile, exposure, additional_amount, late) -> list[Reason]:
    reasons = []
    if profile.blocked:
        reasons.append(
            Reason(
                "blocked",
                _("The account is blocked for credit: %(why)s") % {"why": profile.block_reason or "-"},
            )
        )
    if profile.credit_limit is not None and exposure + additional_amount > profile.credit_limit:
        reasons.append(
            Reason(
                "limit_exceeded",
                _("Exposure %(exposure)s plus %(amount)s exceeds the credit limit of %(limit)s %(currency)s.")
                % {
                    "exposure": exposure,
                    "amount": additional_amount,
                    "limit": profile.credit_limit,
                    "currency": profile.currency,
                },
            )
        )
    if profile.overdue_days_threshold is not None and late.oldest_days > profile.overdue_days_threshold:
        reasons.append(
            Reason(
                "overdue_days",
                _("An instalment is %(days)d days overdue (allowed: %(limit)d).")
                % {"days": late.oldest_days, "limit": profile.overdue_days_threshold},
            )
        )
    if profile.overdue_percent_threshold is not None and late.percent > profile.overdue_percent_threshold:
        reasons.append(
            Reason(
                "overdue_share",
                _("%(share)s%% of the open instalments are overdue (allowed: %(limit)s%%).")
                % {"share": late.percent, "limit": profile.overdue_percent_threshold},
            )
        )
    return reasons


def log_check(
    result: CreditResult, *, stage, actor, order=None, outcome=None, comment="", reasons=None
) -> CreditCheck:
    return CreditCheck.objects.create(
        account_id=result.account_id,
        order=order,
        stage=stage,
        result=outcome or (CreditCheck.Result.PASSED if result.passed else CreditCheck.Result.BLOCKED),
        currency=result.currency,
        exposure=result.exposure,
        additional_amount=result.additional_amount,
        credit_limit=result.credit_limit,
        overdue_amount=result.overdue.amount,
        oldest_overdue_days=result.overdue.oldest_days,
        reasons=[reason.as_dict() for reason in (result.reasons if reasons is None else reasons)],
        comment=comment,
        checked_by=actor,
        checked_at=result.at,
    )


def enforce_credit(*, actor, order: Order, stage) -> CreditResult:
    """Check `order`'s account, log the check, and put the order on hold when it fails.

    Called by confirm_order and create_delivery inside their transaction, with the order locked.
    An order not yet counted in the exposure adds its open value; a confirmed one adds nothing.
    A release covers the order at later deliveries unless the account is blocked outright.
    """
    # Lock the account's terms: two orders of one customer confirmed at once must not both fit
    # under the limit that only one of them fits under.
    CreditProfile.objects.select_for_update().filter(account_id=order.account_id).first()
    additional = ZERO if order.status in OPEN_FOR_DELIVERY else receivables.open_value_of(order)
    result = check_credit(order.account, additional, currency=order.currency)
    reasons = list(result.reasons)
    passed = result.passed
    released = stage == Stage.DELIVERY and order.credit_released_at is not None
    if not passed and released and all(reason.code != "blocked" for reason in reasons):
        passed = True
        reasons.append(Reason("released", _("Credit hold on this order was released; delivery goes ahead.")))
    outcome = CreditCheck.Result.PASSED if passed else CreditCheck.Result.BLOCKED
    log_check(result, stage=stage, actor=actor, order=order, outcome=outcome, reasons=reasons)
    if not passed:
        order.status = Order.Status.CREDIT_HOLD
        order.credit_hold_reasons = [reason.as_dict() for reason in reasons]
        order.credit_released_at = None
        order.credit_released_by = None
        order.save(
            update_fields=[
                "status",
                "credit_hold_reasons",
                "credit_released_at",
                "credit_released_by",
                "updated_at",
            ]
        )
        publish("order.credit_held", order, stage=stage, reasons=[reason.code for reason in reasons])
    return replace(result, passed=passed, reasons=tuple(reasons))


def check_account_credit(*, actor, account, additional_amount=ZERO, currency=None) -> CreditResult:
    """A manual credit check (e.g. before quoting a large deal), logged like the automatic ones."""
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account))
        result = check_credit(account, additional_amount, currency=currency)
        log_check(result, stage=Stage.MANUAL, actor=actor)
        return result


def release_credit_hold(*, actor, order, comment: str) -> Order:
    """Release an order from credit hold; it continues as confirmed (or partially delivered).

    Only users whose role is in CREDIT_CONTROLLER_ROLES may (PermissionDenied otherwise); others ask
    with `request_credit_release_approval`. The release is logged with the figures of the moment.
    """
    if not may_control_credit(actor):
        raise PermissionDenied(_("Only finance may release a credit hold; request an approval instead."))
    if not (comment or "").strip():
        raise ValidationError({"comment": [_("Say why the hold is released.")]})
    with transaction.atomic(), acting_as(actor, comment=comment):
        order = get_for(actor, Order, pk_of(order), for_update=True)
        if order.status != Order.Status.CREDIT_HOLD:
            raise Conflict(_("This order is not on credit hold."))
        result = check_credit(order.account, ZERO, currency=order.currency)
        held_for = [Reason(**reason) for reason in order.credit_hold_reasons]
        log_check(
            result,
            stage=Stage.RELEASE,
            actor=actor,
            order=order,
            outcome=CreditCheck.Result.RELEASED,
            comment=comment,
            reasons=held_for,
        )
        order.status = delivery_status(order)
        order.confirmed_at = order.confirmed_at or timezone.now()
        order.credit_hold_reasons = []
        order.credit_released_at = result.at
        order.credit_released_by = actor
        order.save(
            update_fields=[
                "status",
                "confirmed_at",
                "credit_hold_reasons",
                "credit_released_at",
                "credit_released_by",
                "updated_at",
            ]
        )
        publish("order.credit_released", order, comment=comment)
        return order


def request_credit_release_approval(*, actor, order, comment: str = "") -> Order:
    """Ask for a credit hold to be released: the hook the approval engine subscribes to.

    Publishes "order.credit_release_requested" after commit with the hold reasons; the approval flow,
    once approved, calls `release_credit_hold(actor=<approver or None>, ...)`.
    """
    with transaction.atomic(), acting_as(actor):
        order = get_for(actor, Order, pk_of(order))
        if order.status != Order.Status.CREDIT_HOLD:
            raise Conflict(_("This order is not on credit hold."))
        publish(
            "order.credit_release_requested",
            order,
            requested_by=getattr(actor, "pk", None),
            comment=comment,
            reasons=order.credit_hold_reasons,
            total=str(order.total),
        )
        return order


def set_credit_profile(
    *,
    actor,
    account,
    credit_limit=None,
    currency: str = settings.DEFAULT_CURRENCY,
    risk_class: str = CreditProfile.RiskClass.MEDIUM,
    overdue_days_threshold: int | None = None,
    overdue_percent_threshold=None,
    blocked: bool = False,
    block_reason: str = "",
) -> CreditProfile:
    """Create or change an account's credit profile (finance only)."""
    if not may_control_credit(actor):
        raise PermissionDenied(_("Only finance may change credit limits."))
    with transaction.atomic(), acting_as(actor):
        account = get_for(actor, Account, pk_of(account))
        profile = CreditProfile.objects.select_for_update().filter(account=account).first() or CreditProfile(
            account=account
        )
        profile.credit_limit = credit_limit
        profile.currency = currency
        profile.risk_class = risk_class
        profile.overdue_days_threshold = overdue_days_threshold
        profile.overdue_percent_threshold = overdue_percent_threshold
        profile.blocked = blocked
        profile.block_reason = block_reason
        errors = _profile_errors(profile)
        if blocked and not block_reason.strip():
            errors.setdefault("block_reason", []).append(_("Say why the account is blocked."))
        if errors:
            raise ValidationError(errors)
        profile.save()
        publish("credit_profile.changed", profile, account=account.pk)
        return profile


def _profile_errors(profile: CreditProfile) -> dict[str, list[str]]:
    try:
        profile.full_clean(exclude=["account"], validate_constraints=False)
        errors = {}
    except ValidationError as exc:
        errors = exc.message_dict
    if "credit_limit" not in errors and profile.credit_limit is not None and profile.credit_limit < 0:
        errors["credit_limit"] = [_("The credit limit cannot be negative.")]
    share = profile.overdue_percent_threshold
    if "overdue_percent_threshold" not in errors and share is not None and not 0 <= share <= 100:
        errors["overdue_percent_threshold"] = [_("Enter a percentage between 0 and 100.")]
    return errors
