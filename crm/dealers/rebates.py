"""Rebates (返利): policies per channel level or node, and accruals per node and period computed from
what the node's customers paid (回款, recorded payments placed on the node) in the period.

Rates come in tiers: the rate of the tier the period's paid amount falls into applies to the whole
amount. Accruals are recomputed while `accrued`; confirmed and paid-out ones are frozen.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import ChannelNode
from crm.dealers.models import RebateAccrual, RebatePeriod, RebatePolicy
from crm.finance.models import Payment
from crm.records.audit import acting_as
from crm.records.events import publish
from crm.records.inputs import decimal_or_error, pk_of
from crm.records.money import rounded
from crm.records.services import get_for
from crm_platform.errors import Conflict, PermissionDenied

REBATE_MANAGER_ROLES = frozenset({"admin", "finance"})
ZERO = Decimal("0")
HUNDRED = Decimal("100")
_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])))?$")


@dataclass(frozen=True)
class Period:
    key: str  # 2026-03, 2026-Q1 or 2026
    kind: str  # RebatePeriod
    start: date
    end: date


def parse_period(value) -> Period:
    """A month (2026-03), quarter (2026-Q1) or year (2026), with its first and last day."""
    match = _PERIOD.match(str(value or "").strip())
    month = int(match.group(2)) if match and match.group(2) else None
    if not match or (month is not None and not 1 <= month <= 12):
        raise ValidationError(
            {"period": [_("Enter a month (2026-03), a quarter (2026-Q1) or a year (2026).")]}
        )
    year = int(match.group(1))
    if month is not None:
        last = calendar.monthrange(year, month)[1]
        return Period(
            f"{year}-{month:02d}", RebatePeriod.MONTH, date(year, month, 1), date(year, month, last)
        )
    if match.group(3):
        quarter = int(match.group(3))
        first, last_month = 3 * quarter - 2, 3 * quarter
        end = date(year, last_month, calendar.monthrange(year, last_month)[1])
        return Period(f"{year}-Q{quarter}", RebatePeriod.QUARTER, date(year, first, 1), end)
    return Period(str(year), RebatePeriod.YEAR, date(year, 1, 1), date(year, 12, 31))


def rate_for(tiers: list[dict], base: Decimal) -> Decimal:
    """The percentage of the tier `base` falls into (a tier's `up_to` is inclusive)."""
    for tier in tiers:
        if tier.get("up_to") is None or base <= Decimal(str(tier["up_to"])):
            return Decimal(str(tier["rate"]))
    return ZERO


def _require_manager(actor) -> None:
    if actor is not None and getattr(actor.role, "code", None) not in REBATE_MANAGER_ROLES:
        raise PermissionDenied(_("Only finance or an administrator may manage rebates."))


def _validated_tiers(tiers) -> list[dict]:
    if not isinstance(tiers, list | tuple) or not tiers:
        raise ValidationError({"tiers": [_("Give at least one tier with its rate.")]})
    errors: dict[str, list[str]] = {}
    result, previous = [], None
    for index, tier in enumerate(tiers):
        row: dict[str, str] = {}
        tier = tier if isinstance(tier, dict) else {}
        rate = decimal_or_error(tier.get("rate"), "rate", row)
        if rate is not None and not (ZERO <= rate <= HUNDRED and rate == rate.quantize(Decimal("0.0001"))):
            row["rate"] = _("Enter a rate between 0 and 100%, with at most four decimals.")
        up_to = None
        if tier.get("up_to") not in (None, ""):
            up_to = decimal_or_error(tier["up_to"], "up_to", row)
            if up_to is not None and (up_to <= 0 or up_to != rounded(up_to)):
                row["up_to"] = _("Enter an amount above zero, in cents at most.")
            elif up_to is not None and previous is not None and up_to <= previous:
                row["up_to"] = _("Tiers must go up in order.")
        elif index != len(tiers) - 1:
            row["up_to"] = _("Only the last tier may be open-ended.")
        errors.update({f"tiers[{index}].{name}": [message] for name, message in row.items()})
        previous = up_to if up_to is not None else previous
        result.append({"up_to": str(up_to) if up_to is not None else None, "rate": str(rate)})
    if errors:
        raise ValidationError(errors)
    return result


def set_rebate_policy(
    *,
    actor,
    name: str,
    period: str,
    tiers,
    channel_level: str = "",
    channel_node=None,
    currency: str = settings.DEFAULT_CURRENCY,
) -> RebatePolicy:
    """Create, or change, the active rebate policy of a channel level or of one node for a kind of
    period (month, quarter, year) and currency."""
    _require_manager(actor)
    with transaction.atomic(), acting_as(actor):
        errors: dict[str, list[str]] = {}
        node = None
        if channel_node is not None:
            node = ChannelNode.objects.filter(pk=pk_of(channel_node)).first()
            if node is None:
                errors["channel_node"] = [_("Choose a dealer of the channel tree.")]
        if bool(channel_level) == (channel_node is not None):
            errors["channel_level"] = [_("Give either a channel level or one dealer, not both.")]
        elif channel_level and channel_level not in ChannelNode.Level.values:
            errors["channel_level"] = [_("Choose a channel level.")]
        if period not in RebatePeriod.values:
            errors["period"] = [_("Choose month, quarter or year.")]
        try:
            tiers = _validated_tiers(tiers)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        target = {"channel_node": node} if node is not None else {"channel_level": channel_level}
        policy = (
            RebatePolicy.objects.select_for_update()
            .filter(is_active=True, period=period, currency=currency, **target)
            .first()
        ) or RebatePolicy(period=period, currency=currency, **target)
        policy.name, policy.tiers = name, tiers
        policy.full_clean(validate_constraints=False)
        policy.save()
        return policy


def accrue_rebates(period, *, actor=None) -> list[RebateAccrual]:
    """Compute every node's rebate for `period` (2026-03, 2026-Q1, 2026) under the active policies of
    that kind of period: a node's own policy, else its level's. Re-running updates accrued rows and
    never duplicates them; confirmed and paid-out rows are left as they are."""
    _require_manager(actor)
    period = parse_period(period)
    with transaction.atomic(), acting_as(actor, job="accrue_rebates"):
        policies = list(RebatePolicy.objects.filter(is_active=True, period=period.kind))
        by_node = {(p.channel_node_id, p.currency): p for p in policies if p.channel_node_id}
        by_level = {(p.channel_level, p.currency): p for p in policies if not p.channel_node_id}
        currencies = sorted({p.currency for p in policies})
        paid = {
            (row["channel_node"], row["currency"]): row["total"]
            for row in Payment.objects.visible_to(actor)
            .filter(
                status=Payment.Status.RECORDED,
                paid_on__range=(period.start, period.end),
                currency__in=currencies,
                channel_node__isnull=False,
            )
            .order_by()
            .values("channel_node", "currency")
            .annotate(total=Sum("amount"))
        }
        existing = {
            (row.node_id, row.currency): row
            for row in RebateAccrual.objects.select_for_update().filter(period=period.key)
        }
        now, result = timezone.now(), []
        for node in ChannelNode.objects.order_by("path"):
            for currency in currencies:
                policy = by_node.get((node.pk, currency)) or by_level.get((node.level, currency))
                accrual = existing.get((node.pk, currency))
                if accrual is not None and accrual.status != RebateAccrual.Status.ACCRUED:
                    result.append(accrual)
                    continue
                base = paid.get((node.pk, currency), ZERO)
                if policy is None or (base == ZERO and accrual is None):
                    if accrual is not None:  # the policy went away: nothing is owed any more
                        accrual.delete()
                    continue
                rate = rate_for(policy.tiers, base)
                figures = {
                    "policy": policy,
                    "base": base,
                    "rate": rate,
                    "amount": rounded(base * rate / HUNDRED),
                }
                if accrual is None:
                    accrual = RebateAccrual(
                        node=node,
                        period=period.key,
                        period_start=period.start,
                        period_end=period.end,
                        currency=currency,
                        computed_at=now,
                        **figures,
                    )
                    accrual.place(owner=None, channel_node=node)
                    accrual.save()
                    publish("rebate.accrued", accrual, amount=str(accrual.amount))
                elif any(getattr(accrual, name) != value for name, value in figures.items()):
                    for name, value in figures.items():
                        setattr(accrual, name, value)
                    accrual.computed_at = now
                    accrual.save()
                    publish("rebate.recomputed", accrual, amount=str(accrual.amount))
                result.append(accrual)
        return result


def _advance(actor, accrual, source: str, target: str, stamp: str) -> RebateAccrual:
    _require_manager(actor)
    with transaction.atomic(), acting_as(actor):
        accrual = get_for(actor, RebateAccrual, pk_of(accrual), for_update=True)
        if accrual.status != source:
            raise Conflict(
                _("Only %(status)s rebates can move on to this step.")
                % {"status": RebateAccrual.Status(source).label}
            )
        accrual.status = target
        setattr(accrual, stamp, timezone.now())
        accrual.save()
        publish(f"rebate.{target}", accrual, amount=str(accrual.amount))
        return accrual


def confirm_rebate(*, actor, accrual) -> RebateAccrual:
    """Freeze an accrued rebate: later accrual runs leave it as it is."""
    return _advance(
        actor, accrual, RebateAccrual.Status.ACCRUED, RebateAccrual.Status.CONFIRMED, "confirmed_at"
    )


def pay_out_rebate(*, actor, accrual) -> RebateAccrual:
    return _advance(actor, accrual, RebateAccrual.Status.CONFIRMED, RebateAccrual.Status.PAID, "paid_at")
