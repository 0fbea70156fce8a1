"""Formulas: a small, safe expression language for computed custom fields and validation rules.

Tenant admins write spreadsheet-style formulas; they are parsed by a grammar (lark, LALR), type-checked
against the fields' types and evaluated by a small interpreter. User text never reaches eval or exec.

    formula = parse('IF(amount > 10000, "大客户", "普通")')
    check(formula, {"amount": "currency"})               # -> "text"
    evaluate(formula, {"amount": Decimal("12000")}, today=today, now=now)   # -> "大客户"

Syntax: numbers (``12``, ``3.5``), text in double quotes (``\\"`` ``\\\\`` ``\\n`` ``\\t`` escapes),
TRUE / FALSE / NULL, field names (``[A-Za-z_][A-Za-z0-9_]*``, case-sensitive), ``+ - * /``, unary
``-``, ``&`` (joins text), ``= <> != < <= > >=`` (not chained), ``AND OR NOT`` or ``&& || !``,
parentheses, and function calls (names case-insensitive). There is no power operator.
Precedence, lowest first: OR, AND, NOT, comparison, ``&``, ``+ -``, ``* /``, unary minus.

Functions: IF, AND, OR, NOT, ISBLANK, BLANKVALUE, CASE; ROUND, FLOOR, CEILING, ABS, MIN, MAX, MOD;
LEN, UPPER, LOWER, TRIM, LEFT, RIGHT, CONTAINS, BEGINS, SUBSTITUTE, TEXT, VALUE, INCLUDES; TODAY, NOW,
DATE, YEAR, MONTH, DAY, ADDDAYS, ADDMONTHS, DAYS_BETWEEN. ``date ± number`` moves by whole days,
``date - date`` counts days (a date and time moves and counts with fractions of a day).

Blanks, as in a spreadsheet: a blank field (None, "" or an empty list) is null. Arithmetic with null
is null; a comparison with null is false (test with ISBLANK); ``&`` reads null as ""; a null
condition counts as false (so NOT null is true); dividing by zero is null; most functions return
null for a null argument, while LEN, TEXT, CONTAINS, BEGINS, INCLUDES read it as empty and MIN/MAX
skip it. Numbers are Decimals computed to 28 significant digits.

Bounds: at most ``MAX_LENGTH`` characters, ``MAX_DEPTH`` levels of nesting, ``MAX_NODES`` parts;
text results at most ``MAX_TEXT`` characters. Every error is a ``FormulaError`` with a translated
message and a 1-based ``position``. The CRM field types a formula may read are listed in
``metadata.formulas.types``.
"""

from metadata.formulas.checking import check, check_boolean
from metadata.formulas.errors import FormulaError
from metadata.formulas.evaluation import evaluate, rule_violated
from metadata.formulas.functions import FUNCTIONS
from metadata.formulas.nodes import Formula
from metadata.formulas.parsing import MAX_DEPTH, MAX_LENGTH, MAX_NODES, parse
from metadata.formulas.types import FIELD_TYPES
from metadata.formulas.values import MAX_TEXT

__all__ = [
    "FIELD_TYPES",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_TEXT",
    "Formula",
    "FormulaError",
    "check",
    "check_boolean",
    "evaluate",
    "parse",
    "rule_violated",
]
