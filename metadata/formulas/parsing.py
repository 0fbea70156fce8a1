"""parse(): source text to a Formula, within bounds on length, nesting and size."""

from decimal import Decimal

from django.utils.translation import gettext as _
from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from metadata.formulas.errors import FormulaError
from metadata.formulas.functions import FUNCTIONS
from metadata.formulas.grammar import parser
from metadata.formulas.nodes import Binary, Call, Field, Formula, Literal, Node, Unary
from metadata.formulas.syntax import syntax_error
from metadata.formulas.types import BOOLEAN, NULL, NUMBER, TEXT

MAX_LENGTH = 2000
MAX_DEPTH = 32  # nested calls, parentheses and operands (a chain such as a + b + c is one level)
MAX_NODES = 500
_OPS = {"!=": "<>", "==": "=", "&&": "and", "||": "or"}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def parse(source: str) -> Formula:
    """Parse a formula; FormulaError with a translated message and a 1-based position if it is invalid."""
    if len(source) > MAX_LENGTH:
        message = _("A formula is at most %(limit)s characters long.") % {"limit": MAX_LENGTH}
        raise FormulaError(message, MAX_LENGTH + 1)
    if not source.strip():
        raise FormulaError(_("The formula is empty."), 1)
    try:
        tree = parser().parse(source)
    except UnexpectedInput as error:
        raise syntax_error(source, error) from None
    root = _build(tree)
    return Formula(source, root, _references(root))


def _build(tree: Tree) -> Node:
    """The lark tree as nodes, walked with an explicit stack: depth and size are refused before any
    recursion could go deep."""
    built: list[Node] = []
    stack: list[tuple[Tree, int, bool]] = [(tree, 1, False)]
    count = 0
    while stack:
        item, depth, children_done = stack.pop()
        subtrees = [child for child in item.children if isinstance(child, Tree)]
        if children_done:
            args = built[len(built) - len(subtrees) :]
            del built[len(built) - len(subtrees) :]
            built.append(_node(item, args))
            continue
        count += 1
        if depth > MAX_DEPTH:
            message = _("The formula is nested too deeply (at most %(limit)s levels).") % {"limit": MAX_DEPTH}
            raise FormulaError(message, _position(item))
        if count > MAX_NODES:
            message = _("The formula is too long (at most %(limit)s parts).") % {"limit": MAX_NODES}
            raise FormulaError(message, _position(item))
        stack.append((item, depth, True))
        for index, child in reversed(list(enumerate(subtrees))):
            # A chain (a + b + c, x AND y AND z) is one level, however long: its left operand stays.
            chained = item.data == "binary" and index == 0 and child.data == "binary"
            stack.append((child, depth if chained else depth + 1, False))
    return built[0]


def _position(item: Tree) -> int:
    token = next(child for child in item.children if isinstance(child, Token))
    return token.start_pos + 1


def _node(item: Tree, args: list[Node]) -> Node:
    token = next(child for child in item.children if isinstance(child, Token))
    position = token.start_pos + 1
    match item.data:
        case "number":
            return Literal(Decimal(token.value), NUMBER, position)
        case "string":
            return Literal(_unescape(token.value[1:-1], position), TEXT, position)
        case "boolean":
            return Literal(token.value.upper() == "TRUE", BOOLEAN, position)
        case "null":
            return Literal(None, NULL, position)
        case "field":
            return Field(token.value, position)
        case "group":
            return args[0]
        case "unary":
            return Unary("-" if token.value == "-" else "not", args[0], position)
        case "binary":
            op = _OPS.get(token.value, token.value.lower())
            return Binary(op, args[0], args[1], position)
        case "call":
            return _call(token.value.upper(), args, position)
    raise AssertionError(item.data)


def _call(name: str, args: list[Node], position: int) -> Call:
    function = FUNCTIONS.get(name)
    if function is None:
        raise FormulaError(_("Unknown function “%(name)s”.") % {"name": name}, position)
    problem = function.count_error(len(args))
    if problem:
        raise FormulaError(problem, position)
    return Call(name, tuple(args), position)


def _unescape(body: str, position: int) -> str:
    """Text between the quotes with \\" \\\\ \\n \\t resolved; another escape is an error."""
    parts, index = [], 0
    while (slash := body.find("\\", index)) != -1:
        escape = body[slash + 1]
        if escape not in _ESCAPES:
            message = _('Unknown escape “\\%(char)s”: write \\" for a quote, \\\\ for a backslash.')
            raise FormulaError(message % {"char": escape}, position + slash + 1)
        parts += [body[index:slash], _ESCAPES[escape]]
        index = slash + 2
    parts.append(body[index:])
    return "".join(parts)


def _references(root: Node) -> frozenset[str]:
    names, stack = set(), [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Field):
            names.add(node.name)
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack += [node.left, node.right]
        elif isinstance(node, Call):
            stack += node.args
    return frozenset(names)
