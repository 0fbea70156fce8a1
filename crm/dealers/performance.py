"""Channel performance: per node, figures over its whole subtree, for a date range.

One SQL statement: the facts of every source (orders, payments, open instalments, won deals,
registrations, rebates), each from its `visible_to(actor)` queryset, are summed per channel path,
then joined to the nodes on the materialised-path prefix and grouped per node. The number of
queries does not grow with the number of nodes.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CharField, DecimalField, ExpressionWrapper, F, Value
from django.utils.translation import gettext as _

from channels.models import ChannelNode
from crm.dealers.models import DealRegistration, RebateAccrual
from crm.dealers.reviewers import node_of
from crm.finance.models import Payment, PaymentPlan
from crm.finance.receivables import ACTIVE_ORDERS, open_instalments
from crm.orders.models import Order
from crm.records.money import rounded
from crm.sales.models import Opportunity, Stage
from crm_platform.errors import PermissionDenied

ZERO = Decimal("0")
NUMBER = DecimalField(max_digits=24, decimal_places=6)
BRAND_ROLES = frozenset({"admin", "sales_manager", "finance"})
DEALER_ADMIN_ROLE = "dealer_admin"
AMOUNTS = ("order_amount", "paid_amount", "receivables", "won_amount", "rebates_accrued")
COUNTS = ("won_opportunities", "registrations_submitted", "registrations_approved")


def channel_performance(
    actor, *, start: date, end: date, root=None, currency: str = settings.DEFAULT_CURRENCY
) -> list[dict]:
    """For brand staff: every node (or `root` and its subtree), each with its subtree's figures."""
    role = getattr(getattr(actor, "role", None), "code", None)
    if role not in BRAND_ROLES or actor.role.is_portal or node_of(actor) is not None:
        raise PermissionDenied(_("The channel performance report is for the brand's staff."))
    nodes = ChannelNode.objects.order_by("path")
    if root is not None:
        root = ChannelNode.objects.get(pk=getattr(root, "pk", root))
        nodes = nodes.filter(path__startswith=root.path)
    return _report(actor, list(nodes), start, end, currency)


def node_performance(
    actor, *, start: date, end: date, currency: str = settings.DEFAULT_CURRENCY
) -> list[dict]:
    """For a dealer administrator: its own node, then each child node, each over its subtree."""
    node = node_of(actor)
    if node is None or getattr(actor.role, "code", None) != DEALER_ADMIN_ROLE:
        raise PermissionDenied(_("This report is for dealer administrators."))
    children = list(ChannelNode.objects.filter(parent=node).order_by("path"))
    return _report(actor, [node, *children], start, end, currency)


def _report(actor, nodes: list[ChannelNode], start, end, currency) -> list[dict]:
    errors = {}
    if not isinstance(start, date):
        errors["start"] = [_("Enter the first day of the period.")]
    if not isinstance(end, date):
        errors["end"] = [_("Enter the last day of the period.")]
    elif isinstance(start, date) and start > end:
        errors["end"] = [_("The end of the period is before its start.")]
    if errors:
        raise ValidationError(errors)
    figures = _figures(actor, [node.pk for node in nodes], start, end, currency)
    rows = []
    for node in nodes:
        found = figures.get(node.pk, {})
        row = {
            "node": node.pk,
            "code": node.code,
            "name": node.name,
            "level": node.level,
            "path": node.path,
            "currency": currency,
        }
        row.update({name: rounded(found.get(name, ZERO)) for name in AMOUNTS})
        row.update({name: int(found.get(name, 0)) for name in COUNTS})
        rows.append(row)
    return rows


def _facts(name: str, queryset, value, path: str = "channel_path"):
    if not isinstance(value, Value):
        value = ExpressionWrapper(value, output_field=NUMBER)
    return (
        queryset.order_by()
        .annotate(fact_path=F(path), fact_metric=Value(name, output_field=CharField()), fact_value=value)
        .values_list("fact_path", "fact_metric", "fact_value")
    )


def _sources(actor, start, end, currency):
    one = Value(Decimal("1"), output_field=NUMBER)
    won = Opportunity.objects.visible_to(actor).filter(
        stage__outcome=Stage.Outcome.WON, close_date__range=(start, end)
    )
    registrations = DealRegistration.objects.visible_to(actor)
    return [
        _facts(
            "order_amount",
            Order.objects.visible_to(actor).filter(
                status__in=ACTIVE_ORDERS, order_date__range=(start, end), currency=currency
            ),
            F("total"),
        ),
        _facts(
            "paid_amount",
            Payment.objects.visible_to(actor).filter(
                status=Payment.Status.RECORDED, paid_on__range=(start, end), currency=currency
            ),
            F("amount"),
        ),
        # What is still owed today on plans the actor sees, whenever it falls due.
        _facts(
            "receivables",
            open_instalments().filter(
                plan__in=PaymentPlan.objects.visible_to(actor), plan__currency=currency
            ),
            F("amount") - F("paid_amount"),
            path="plan__channel_path",
        ),
        _facts("won_opportunities", won, one),
        _facts("won_amount", won.filter(currency=currency), F("amount")),
        _facts("registrations_submitted", registrations.filter(submitted_at__date__range=(start, end)), one),
        _facts("registrations_approved", registrations.filter(approved_at__date__range=(start, end)), one),
        _facts(
            "rebates_accrued",
            RebateAccrual.objects.visible_to(actor).filter(
                period_start__gte=start, period_end__lte=end, currency=currency
            ),
            F("amount"),
        ),
    ]


def _figures(actor, node_ids: list[int], start, end, currency) -> dict[int, dict]:
    if not node_ids:
        return {}
    first, *rest = _sources(actor, start, end, currency)
    facts_sql, facts_params = first.union(*rest, all=True).query.sql_with_params()
    sql = f"""
        WITH facts (path, metric, value) AS ({facts_sql}),
        per_path AS (
            SELECT path, metric, SUM(value) AS total FROM facts WHERE path <> '' GROUP BY path, metric
        )
        SELECT node.id, per_path.metric, SUM(per_path.total)
        FROM {ChannelNode._meta.db_table} AS node
        JOIN per_path ON starts_with(per_path.path, node.path)
        WHERE node.id = ANY(%s)
        GROUP BY node.id, per_path.metric
    """
    result: dict[int, dict] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*facts_params, node_ids])
        for node_id, metric, total in cursor.fetchall():
            result.setdefault(node_id, {})[metric] = total
    return result
