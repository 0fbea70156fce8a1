"""Sales reports as plain data: the funnel of a pipeline and the weighted forecast.

Both aggregate in the database (a grouped query or two), whatever the number of deals. Amounts are
summed in one currency (the tenant's by default): adding CNY to USD would mean nothing.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, DecimalField, F, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, TruncMonth, TruncQuarter
from django.utils.translation import gettext as _

from crm.records.money import rounded
from crm.sales.models import Opportunity, Stage
from crm.sales.pipelines import get_pipeline

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=24, decimal_places=6)


def _deals(actor, currency: str, start: date | None, end: date | None):
    deals = Opportunity.objects.visible_to(actor).filter(currency=currency)
    if start:
        deals = deals.filter(expected_close_date__gte=start)
    if end:
        deals = deals.filter(expected_close_date__lte=end)
    return deals


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def funnel(
    actor,
    *,
    pipeline=None,
    start: date | None = None,
    end: date | None = None,
    currency: str = settings.DEFAULT_CURRENCY,
) -> dict:
    """The pipeline's funnel for deals expected to close between `start` and `end` (both optional).

    Per stage: `count` and `amount` of the deals in it now. The open stages in order, then won, form
    the ladder: `reached` counts deals that got at least that far (by their stage history, so a deal
    lost at negotiation still counts as having reached negotiation), and `conversion` is the percent
    of those that went on to the next rung. The lost stage has count and amount only.
    """
    pipeline = get_pipeline(pipeline)
    stages = list(pipeline.stages.order_by("position"))
    ladder = [s for s in stages if s.outcome == Stage.Outcome.OPEN] + [
        s for s in stages if s.outcome == Stage.Outcome.WON
    ]
    deals = _deals(actor, currency, start, end).filter(stage__in=[s.pk for s in stages])

    now = {
        row["stage"]: row
        for row in deals.order_by().values("stage").annotate(count=Count("id"), amount=Sum("amount"))
    }

    def rung(field: str) -> Case:
        return Case(
            *(When(**{field: s.pk}, then=Value(i)) for i, s in enumerate(ladder)), output_field=IntegerField()
        )

    # Deals created before stage history existed have none: their current stage counts too.
    furthest = deals.order_by().annotate(
        furthest=Greatest(Max(rung("stage_changes__to_stage")), Max(rung("stage")))
    )
    reached_counts = furthest.aggregate(
        **{f"r{i}": Count("id", filter=Q(furthest__gte=i)) for i in range(len(ladder))}
    )
    reached = [reached_counts[f"r{i}"] for i in range(len(ladder))]

    rows = []
    for stage in stages:
        current = now.get(stage.pk, {})
        row = {
            "stage": stage.code,
            "label": str(stage),
            "outcome": stage.outcome,
            "probability": stage.probability,
            "count": current.get("count", 0),
            "amount": current.get("amount") or ZERO,
            "reached": None,
            "conversion": None,
        }
        if stage in ladder:
            i = ladder.index(stage)
            row["reached"] = reached[i]
            if i + 1 < len(ladder):
                row["conversion"] = _percent(reached[i + 1], reached[i])
        rows.append(row)
    won = reached[-1] if ladder else 0
    return {
        "pipeline": pipeline.code,
        "currency": currency,
        "stages": rows,
        "win_rate": _percent(won, reached[0]) if reached else None,
    }


def _period_label(value: date, by: str) -> str:
    return f"{value:%Y-%m}" if by == "month" else f"{value.year}-Q{(value.month - 1) // 3 + 1}"


GROUPINGS = ("owner", "team", "month", "quarter")


def weighted_forecast(
    actor,
    *,
    start: date,
    end: date,
    by: str = "owner",
    pipeline=None,
    currency: str = settings.DEFAULT_CURRENCY,
) -> dict:
    """Deals expected to close between `start` and `end`, grouped `by` owner, team (org unit), month
    or quarter of the expected close date.

    Per group: `count` and `amount` of the deals, `weighted` = sum of amount x probability (the
    deal's override, else its stage's; won deals at 100 %), and `won` = the amount already won.
    Lost deals are left out.
    """
    errors = {}
    if by not in GROUPINGS:
        errors["by"] = [_("Group by one of: %(choices)s.") % {"choices": ", ".join(GROUPINGS)}]
    if start and end and start > end:
        errors["end"] = [_("The end of the period is before its start.")]
    if errors:
        raise ValidationError(errors)
    deals = _deals(actor, currency, start, end).exclude(stage__outcome=Stage.Outcome.LOST)
    if pipeline is not None:
        deals = deals.filter(stage__pipeline=get_pipeline(pipeline))
    probability = Case(
        When(stage__outcome=Stage.Outcome.WON, then=Value(100)),
        default=Coalesce("probability_override", "stage__probability"),
        output_field=IntegerField(),
    )
    keys = {
        "owner": {"key": F("owner"), "group_label": F("owner__full_name")},
        "team": {"key": F("org_unit"), "group_label": F("org_unit__name")},
        "month": {"key": TruncMonth("expected_close_date"), "group_label": Value("")},
        "quarter": {"key": TruncQuarter("expected_close_date"), "group_label": Value("")},
    }[by]
    grouped = (
        deals.order_by()
        .annotate(**keys)
        .values("key", "group_label")
        .annotate(
            # Named apart from the model's fields: F("amount") must still mean the column.
            deals=Count("id"),
            total_amount=Sum("amount"),
            weighted_amount=Sum(F("amount") * probability / Value(100), output_field=MONEY),
            won_amount=Sum("amount", filter=Q(stage__outcome=Stage.Outcome.WON), default=ZERO),
        )
        .order_by(F("key").asc(nulls_last=True))
    )
    rows = []
    for group in grouped:
        key = group["key"]
        if by in ("month", "quarter"):
            label = _period_label(key, by)
            key = label
        else:
            label = group["group_label"] or (_("Unassigned") if by == "owner" else _("No team"))
        rows.append(
            {
                "key": key,
                "label": label,
                "count": group["deals"],
                "amount": group["total_amount"],
                "weighted": rounded(group["weighted_amount"]),
                "won": group["won_amount"],
            }
        )
    total = {
        "count": sum(row["count"] for row in rows),
        "amount": sum((row["amount"] for row in rows), ZERO),
        "weighted": sum((row["weighted"] for row in rows), ZERO),
        "won": sum((row["won"] for row in rows), ZERO),
    }
    return {"by": by, "currency": currency, "start": start, "end": end, "rows": rows, "total": total}
