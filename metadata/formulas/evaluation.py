"""evaluate(): a formula's value for one record, and rule_violated() for validation rules."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Overflow, localcontext

from django.utils.translation import gettext as _

from metadata.formulas.errors import FormulaError
from metadata.formulas.functions import FUNCTIONS
from metadata.formulas.nodes import Binary, Call, Field, Formula, Literal, Node, Unary, left_spine
from metadata.formulas.operators import apply_binary, apply_unary, binary_type, unary_type
from metadata.formulas.types import Typed
from metadata.formulas.values import DECIMALS, capped, from_python, type_of


@dataclass(frozen=True)
class _Record:
    values: Mapping[str, object]
    today: date
    now: datetime


def evaluate(formula: Formula, values: Mapping[str, object], *, today: date, now: datetime) -> object:
    """The formula's value: Decimal, str, bool, date, datetime, list or None.

    ``values`` holds the record's field values as Python values (a missing field reads as blank);
    ``today`` and ``now`` are the tenant's. Blank in, blank out; dividing by zero gives None. Raises
    FormulaError when a value does not have its field's type or a result grows too large.
    """
    with localcontext(DECIMALS):
        result = _value(formula.root, _Record(values, today, now))
    return capped(result) if isinstance(result, str) else result


def rule_violated(formula: Formula, values: Mapping[str, object], *, today: date, now: datetime) -> bool:
    """Whether a validation rule rejects the record: its formula describes the error, so True means
    invalid, and false or blank means valid."""
    result = evaluate(formula, values, today=today, now=now)
    if result is not None and not isinstance(result, bool):
        raise FormulaError(_("A validation rule must be true or false."), 1)
    return result is True


def _value(node: Node, record: _Record) -> object:
    # Recursion is bounded: parse() refused nesting beyond MAX_DEPTH, and chains are folded in a loop.
    match node:
        case Literal():
            return node.value
        case Field():
            return from_python(record.values.get(node.name), node.name)
        case Unary():
            operand = _value(node.operand, record)
            unary_type(node.op, Typed(type_of(operand), node.operand.position))
            return apply_unary(node.op, operand)
        case Binary():
            spine = left_spine(node)
            left = _value(spine[0].left, record)
            for link in spine:
                right = _value(link.right, record)
                binary_type(link.op, _typed(left, link.left), _typed(right, link.right), link.position)
                left = _located(link, apply_binary, link.op, left, right)
            return left
        case Call():
            return _call(node, [_value(arg, record) for arg in node.args], record)


def _call(node: Call, args: list, record: _Record) -> object:
    function = FUNCTIONS[node.name]
    # The checker's rule again, on the actual values: a value that does not fit its field's declared
    # type fails here with the same message instead of deep inside an implementation.
    function.result_type([_typed(value, arg) for value, arg in zip(args, node.args, strict=True)])
    if not function.blanks and any(value is None for value in args):
        return None
    if function.clock:
        args = [record.today, record.now, *args]
    return _located(node, function.apply, *args)


def _typed(value: object, node: Node) -> Typed:
    return Typed(type_of(value), node.position)


def _located(node: Node, apply, *args) -> object:
    """apply(*args), its errors placed at the node."""
    try:
        return apply(*args)
    except Overflow:
        raise FormulaError(_("A number in this formula grows too large."), node.position) from None
    except FormulaError as error:
        error.position = error.position or node.position
        raise
