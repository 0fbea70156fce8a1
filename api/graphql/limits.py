"""Limits every GraphQL document must pass before anything runs: nesting depth, and a cost that
grows with what a query could fetch (each field costs 1, times the page size of every list it
sits in), so one request cannot ask for a page of pages of pages."""

from graphql import FieldNode
from graphql.language import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
)

MAX_DEPTH = 10
MAX_COST = 50_000
DEFAULT_PAGE = 50


def limit_problems(document: DocumentNode, variables: dict | None = None) -> list[str]:
    """What each operation of `document` exceeds, for one request (its variables may set page
    sizes). A walk of the operations alone: running it as a validation rule would also walk the
    whole document with type information, for nothing."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    problems = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        depth, cost = _measure(definition.selection_set, fragments, variables, 0, 1)
        if depth > MAX_DEPTH:
            problems.append(f"The query is nested {depth} levels deep; the limit is {MAX_DEPTH}.")
        if cost > MAX_COST:
            problems.append(f"The query could cost {cost}; the limit is {MAX_COST}. Ask for smaller pages.")
    return problems


def _measure(selection_set, fragments, variables, depth: int, multiplier: int, seen=()) -> tuple[int, int]:
    deepest, cost = depth, 0
    for item in selection_set.selections if selection_set else ():
        if isinstance(item, FieldNode):
            if item.name.value.startswith("__"):
                continue
            cost += multiplier
            if item.selection_set:
                inner = multiplier * _page_size(item, variables)
                sub = item.selection_set
                sub_depth, sub_cost = _measure(sub, fragments, variables, depth + 1, inner, seen)
                deepest, cost = max(deepest, sub_depth), cost + sub_cost
        elif isinstance(item, InlineFragmentNode):
            sub_depth, sub_cost = _measure(item.selection_set, fragments, variables, depth, multiplier, seen)
            deepest, cost = max(deepest, sub_depth), cost + sub_cost
        elif isinstance(item, FragmentSpreadNode):
            name = item.name.value
            if name in seen or name not in fragments:
                continue  # cycles and unknown fragments are reported by the standard rules
            sub_depth, sub_cost = _measure(
                fragments[name].selection_set, fragments, variables, depth, multiplier, (*seen, name)
            )
            deepest, cost = max(deepest, sub_depth), cost + sub_cost
    return deepest, cost


def _page_size(field: FieldNode, variables) -> int:
    """The `first` a list field asks for (its default when not given); 1 for a single record."""
    if not field.name.value.endswith("_list"):
        return 1
    for argument in field.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            name = getattr(getattr(argument.value, "name", None), "value", None)
            value = (variables or {}).get(name)
            return max(1, value) if isinstance(value, int) else DEFAULT_PAGE
    return DEFAULT_PAGE
