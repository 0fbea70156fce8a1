"""check(): the type of a formula against the types of the fields it reads."""

from collections.abc import Mapping

from django.utils.translation import gettext as _

from metadata.formulas.errors import FormulaError
from metadata.formulas.functions import FUNCTIONS
from metadata.formulas.nodes import Binary, Call, Field, Formula, Literal, Node, Unary, left_spine
from metadata.formulas.operators import binary_type, unary_type
from metadata.formulas.types import BOOLEAN, FIELD_TYPES, Typed


def check(formula: Formula, field_types: Mapping[str, str]) -> str:
    """The formula's result type ("number", "text", ...); FormulaError, located and naming the field or
    function, for an unknown field or a type that does not fit.

    ``field_types`` maps field names to CRM field types or language types (see the package docs).
    """
    return _type(formula.root, field_types)


def check_boolean(formula: Formula, field_types: Mapping[str, str]) -> str:
    """check() for a validation rule, which must be true or false."""
    if check(formula, field_types) != BOOLEAN:
        raise FormulaError(_("A validation rule must be true or false."), 1)
    return BOOLEAN


def _type(node: Node, field_types: Mapping[str, str]) -> str:
    # Recursion is bounded: parse() refused nesting beyond MAX_DEPTH, and chains are folded in a loop.
    match node:
        case Literal():
            return node.type
        case Field():
            return _field_type(node, field_types)
        case Unary():
            return unary_type(node.op, _typed(node.operand, field_types))
        case Binary():
            spine = left_spine(node)
            left = _typed(spine[0].left, field_types)
            for link in spine:
                result = binary_type(link.op, left, _typed(link.right, field_types), link.position)
                left = Typed(result, link.position)
            return left.type
        case Call():
            return FUNCTIONS[node.name].result_type([_typed(arg, field_types) for arg in node.args])


def _typed(node: Node, field_types: Mapping[str, str]) -> Typed:
    return Typed(_type(node, field_types), node.position)


def _field_type(node: Field, field_types: Mapping[str, str]) -> str:
    if node.name not in field_types:
        raise FormulaError(_("Unknown field “%(name)s”.") % {"name": node.name}, node.position)
    declared = field_types[node.name]
    language_type = FIELD_TYPES.get(declared) if isinstance(declared, str) else None
    if language_type is None:
        message = _("The field “%(name)s” cannot be used in a formula.") % {"name": node.name}
        raise FormulaError(message, node.position)
    return language_type
