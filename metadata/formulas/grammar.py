"""The formula grammar, parsed by lark's LALR parser: a table-driven loop, so no input can exhaust
Python's stack while parsing. Precedence, lowest first: OR, AND, NOT, comparison (not chained),
``&``, ``+ -``, ``* /``, unary minus."""

from functools import cache

from lark import Lark

GRAMMAR = r"""
?start: expr
?expr: or_
?or_: and_ | or_ OR and_ -> binary
?and_: not_ | and_ AND not_ -> binary
?not_: comparison | NOT not_ -> unary
?comparison: concat | concat COMPARE concat -> binary
?concat: sum | concat AMP sum -> binary
?sum: product | sum (PLUS | MINUS) product -> binary
?product: unary | product (STAR | SLASH) unary -> binary
?unary: atom | MINUS unary -> unary
?atom: NUMBER -> number
     | STRING -> string
     | TRUE -> boolean
     | FALSE -> boolean
     | NULL -> null
     | NAME -> field
     | (NAME | AND_WORD | OR_WORD) LPAR [expr ("," expr)*] ")" -> call
     | LPAR expr ")" -> group

// Keywords outrank NAME; the word boundary keeps "order" or "andes" a field name.
OR: OR_WORD | "||"
AND: AND_WORD | "&&"
OR_WORD.2: /or\b/i
AND_WORD.2: /and\b/i
NOT.2: /not\b/i | /!(?!=)/
TRUE.2: /true\b/i
FALSE.2: /false\b/i
NULL.2: /null\b/i
COMPARE: /<>|<=|>=|!=|==|=|<|>/
AMP: /&(?!&)/
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
LPAR: "("
NUMBER: /[0-9]+(\.[0-9]+)?/
STRING: /"(?:[^"\\]|\\.)*"/s
NAME: /[A-Za-z_][A-Za-z0-9_]*/
%ignore /\s+/
"""


@cache
def parser() -> Lark:
    """The compiled LALR parser, built once per process."""
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)
