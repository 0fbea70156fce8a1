"""The parsed form of a formula: a small immutable tree, independent of the parser library."""

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Literal:
    value: object  # Decimal, str, bool or None
    type: str
    position: int


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: "Node"
    position: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / & = <> < <= > >= and or
    left: "Node"
    right: "Node"
    position: int  # the operator's


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # upper case
    args: tuple["Node", ...]
    position: int


Node = Literal | Field | Unary | Binary | Call


def left_spine(node: Binary) -> list[Binary]:
    """``a + b - c * d`` as [a + b, ... - ...]: the chain of operators down the left side, innermost
    first, so a long chain is folded in a loop rather than by recursion."""
    spine = []
    while isinstance(node, Binary):
        spine.append(node)
        node = node.left
    return spine[::-1]


@dataclass(frozen=True)
class Formula:
    """A parsed formula: check() it against field types, then evaluate() it against values."""

    source: str
    root: Node = field(repr=False, compare=False)  # a long chain would make repr() recurse deeply
    references: frozenset[str] = field(compare=False)  # the field names it reads
