"""Group-by with aggregates and kanban boards over a view's records, as the viewer sees them.

Each group's count and the sums and averages of the view's aggregate fields come from one
GROUP BY query; custom numeric fields aggregate through the filter compiler's typed expression.
A kanban board adds one query for its cards: the first N of every column, by a window function.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Avg, CharField, Count, DecimalField, F, Sum, Value, Window
from django.db.models.functions import NullIf, RowNumber
from django.utils import translation
from django.utils.translation import gettext as _

from metadata.filters.fields import CHOICE, TEXT
from metadata.views.check import GROUPABLE, NUMERIC
from metadata.views.fields import ViewFields, expression
from metadata.views.run import records_of, selected, sort_keys

FUNCTIONS = {"sum": Sum, "avg": Avg}
MAX_CARDS = 100


@dataclass(frozen=True)
class Group:
    value: object  # None gathers records without a value ("" counts as none for text)
    count: int
    totals: dict[str, Decimal | int | None]  # "sum:amount", "avg:custom.score", "count"


@dataclass(frozen=True)
class KanbanColumn:
    value: object
    label: str
    count: int
    totals: dict
    cards: list[dict] = field(default_factory=list)


def view_groups(user, view, *, by: str | None = None) -> list[Group]:
    """Per value of the view's group-by field (or `by`): the count and the view's aggregates, in
    one query, ordered by value with the empty group last."""
    fields, queryset = records_of(user, view)
    path = by or view.group_by or view.kanban_field
    info = _group_field(fields, path, "kanban_field" if by else "group_by")
    wanted = _aggregates(fields, view)
    annotations = {f"view_total_{i}": agg for i, (_key, agg) in enumerate(wanted)}
    rows = (
        queryset.order_by()
        .values(view_group=_grouped(info))
        .annotate(view_count=Count("pk"), **annotations)
        .order_by(F("view_group").asc(nulls_last=True))
    )
    groups = []
    for row in rows:
        totals = {key: row[f"view_total_{i}"] for i, (key, _agg) in enumerate(wanted)}
        if any(aggregate["function"] == "count" for aggregate in view.aggregates):
            totals["count"] = row["view_count"]
        groups.append(Group(row["view_group"], row["view_count"], totals))
    return groups


def kanban_board(user, view, *, per_column: int = 20) -> list[KanbanColumn]:
    """A column per choice of the kanban field, in the choices' order (then stale values, then
    records without a value), each with its count, totals and first `per_column` cards in the
    view's sort."""
    fields, queryset = records_of(user, view)
    info = _group_field(fields, view.kanban_field, "kanban_field")
    groups = {group.value: group for group in view_groups(user, view, by=view.kanban_field)}
    per_column = max(1, min(int(per_column), MAX_CARDS))
    keys = sort_keys(fields, view)
    ordering = [getattr(expression(key.info), key.direction)(nulls_last=True) for key in keys]
    ranked = queryset.annotate(
        view_group=_grouped(info),
        view_rank=Window(RowNumber(), partition_by=[_grouped(info)], order_by=[*ordering, F("pk").asc()]),
    ).filter(view_rank__lte=per_column)
    ranked = ranked.order_by("view_rank")
    cards: dict = {}
    for row in selected(fields, view, ranked, extra=["view_group"])[:]:
        cards.setdefault(row.pop("view_group"), []).append(row)
    values = [*(info.choices or ()), *(value for value in groups if value not in (info.choices or ()))]
    values = [value for value in values if value is not None] + ([None] if None in groups else [])
    labels = _choice_labels(fields, view.kanban_field)
    empty = Group(None, 0, {})
    return [
        KanbanColumn(
            value,
            labels.get(value, "" if value is None else str(value)),
            groups.get(value, empty).count,
            groups.get(value, empty).totals,
            cards.get(value, []),
        )
        for value in values
    ]


def _group_field(fields: ViewFields, path: str, where: str):
    info = fields.typed(path) if path else None
    if info is None or info.type not in GROUPABLE:
        raise ValidationError({where: [_("This field cannot be grouped by.")]})
    return info


def _grouped(info):
    value = expression(info)
    # Empty text and no value are one group, as the filter language's is_null treats them.
    return NullIf(value, Value(""), output_field=CharField()) if info.type in (TEXT, CHOICE) else value


def _aggregates(fields: ViewFields, view) -> list[tuple[str, object]]:
    wanted = []
    for aggregate in view.aggregates:
        function = aggregate["function"]
        info = fields.typed(aggregate.get("field", "")) if function != "count" else None
        if info is None or info.type not in NUMERIC:
            continue  # counts come with every group; hidden or deleted fields are left out
        # Averages stay decimal: avg() of integers is numeric in PostgreSQL, not a float.
        output = {"output_field": DecimalField()} if function == "avg" else {}
        wanted.append((f"{function}:{aggregate['field']}", FUNCTIONS[function](expression(info), **output)))
    return wanted


def _choice_labels(fields: ViewFields, path: str) -> dict:
    found = fields.field(path)
    if found is None:
        return {}
    if found.standard:
        return {value: str(label) for value, label in fields.model._meta.get_field(found.name).flatchoices}
    chinese = translation.get_language() == "zh-hans"
    choices = found.definition.options.get("choices", [])
    return {
        c["value"]: (c.get("label_zh") if chinese and c.get("label_zh") else c.get("label_en") or c["value"])
        for c in choices
    }
