"""Rows for GraphQL, loaded per page from what the query selects: the columns asked for, then,
for each `<lookup>_record` selected, the related records of the whole page in one query (and so
on down the selection). The number of queries follows the shape of the query, never the number
of rows: no N+1.

Related records go through the one scope filter like any list: a lookup to a record the reader
cannot see reads as null.
"""

from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode

from api import operations, representation
from api.graphql.types import RELATION_SUFFIX
from metadata import query
from metadata.views.fields import ViewFields


def selected(info, nodes) -> dict[str, FieldNode]:
    """The fields selected under `nodes` (field nodes), fragments flattened, by name."""
    found: dict[str, FieldNode] = {}

    def walk(selection_set):
        for item in selection_set.selections if selection_set else ():
            if isinstance(item, FieldNode):
                found.setdefault(item.name.value, item)
            elif isinstance(item, InlineFragmentNode):
                walk(item.selection_set)
            elif isinstance(item, FragmentSpreadNode):
                walk(info.fragments[item.name.value].selection_set)

    for node in nodes:
        walk(node.selection_set)
    return found


def columns_of(fields: ViewFields, types, selection: dict[str, FieldNode], info) -> list[str]:
    """The field paths a selection reads: standard fields, `custom { ... }`, and the lookups whose
    records it follows."""
    paths = []
    for name, node in selection.items():
        if name == "custom":
            paths += [f"custom.{sub}" for sub in selected(info, [node]) if not sub.startswith("__")]
        elif name.endswith(RELATION_SUFFIX) and name.removesuffix(RELATION_SUFFIX) in types.relations:
            paths.append(name.removesuffix(RELATION_SUFFIX))
        elif not name.startswith("__"):
            paths.append(name)
    return list(dict.fromkeys(paths))


def page(fields: ViewFields, types, all_types, info, node_selection, **arguments) -> operations.Listing:
    columns = columns_of(fields, types, node_selection, info)
    listing = operations.list_records(fields, columns=columns, **arguments)
    parse_dates(types, listing.rows)
    prefetch(fields, types, all_types, info, listing.rows, node_selection)
    return listing


def one(fields: ViewFields, types, all_types, info, selection, pk) -> dict:
    """Record `pk` with the selected fields (and its related records)."""
    columns = query.readable_columns(fields, columns_of(fields, types, selection, info), strict=True)
    queryset = fields.object.queryset().visible_to(fields.user)
    row = representation.shaped(fields, columns, query.selected(columns, queryset.filter(pk=pk))[:1])
    parse_dates(types, row)
    prefetch(fields, types, all_types, info, row, selection)
    return row[0] if row else None


def prefetch(fields: ViewFields, types, all_types, info, rows: list[dict], selection) -> None:
    """Attach each selected relation's records to `rows` (under "_related"), one query per
    relation for the whole list, recursively."""
    for name, target_key in types.relations.items():
        node = selection.get(name + RELATION_SUFFIX)
        if node is None or not rows:
            continue
        target = all_types[target_key]
        target_fields = ViewFields(target_key, fields.user)
        sub = selected(info, [node])
        paths = columns_of(target_fields, target, sub, info)
        columns = query.readable_columns(target_fields, paths, strict=True)
        ids = {row.get(name) for row in rows} - {None}
        visible = target_fields.object.queryset().visible_to(fields.user).filter(pk__in=ids)
        loaded = representation.shaped(target_fields, columns, query.selected(columns, visible)[:])
        parse_dates(target, loaded)
        prefetch(target_fields, target, all_types, info, loaded, sub)
        by_id = {row["id"]: row for row in loaded}
        for row in rows:
            row.setdefault("_related", {})[name] = by_id.get(row.get(name))


def parse_dates(types, rows: list[dict]) -> None:
    """Turn the custom dates and datetimes of `rows`, stored as ISO text, into the objects GraphQL's
    Date and DateTime serialise, in place, so the executor reads every custom field as stored
    (execution.py). A text that does not parse is left as its error, which graphql-core raises at
    that field alone, as the field's resolver did when it parsed there."""
    dates = types.custom_dates
    if not dates:
        return
    for row in rows:
        custom = row.get("custom")
        if not custom:
            continue
        for name, parse in dates.items():
            value = custom.get(name)
            if isinstance(value, str):
                try:
                    custom[name] = parse(value)
                except ValueError as error:
                    custom[name] = error


def as_graphql_error(error) -> GraphQLError:
    """A client's error as a GraphQL error, with the REST problem's code and field errors."""
    from api.problems import problem_errors

    found = problem_errors(error)
    if found is None:
        raise error
    status, errors = found
    message = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
    return GraphQLError(message, extensions={"status": status, "errors": errors})
