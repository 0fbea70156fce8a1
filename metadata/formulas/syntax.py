"""Syntax errors in the admin's terms: what is wrong and where, never the parser's token names."""

from django.utils.translation import gettext as _
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from metadata.formulas.errors import FormulaError

# What a Chinese input method types in place of the ASCII characters the language uses: full-width
# ( ) , + - = & and curly quotes.
FULL_WIDTH = dict(zip("\uff08\uff09\uff0c\uff0b\uff0d\uff1d\uff06\u201c\u201d", '(),+-=&""', strict=True))


def syntax_error(source: str, error: UnexpectedInput) -> FormulaError:
    """The FormulaError for a lark parse error on ``source``."""
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(source, error.pos_in_stream)
    at_end = isinstance(error, UnexpectedToken) and error.token.type == "$END"
    if at_end or isinstance(error, UnexpectedEOF):
        return _unexpected_end(source)
    token = error.token
    return FormulaError(_("Unexpected “%(text)s”.") % {"text": token.value}, token.start_pos + 1)


def _unexpected_character(source: str, index: int) -> FormulaError:
    char = source[index]
    if char == '"':
        return FormulaError(_("This text has no closing quote."), index + 1)
    if char in FULL_WIDTH:
        message = _("Unexpected full-width “%(char)s”: type “%(ascii)s” instead.") % {
            "char": char,
            "ascii": FULL_WIDTH[char],
        }
        return FormulaError(message, index + 1)
    return FormulaError(_("Unexpected character “%(char)s”.") % {"char": char}, index + 1)


def _unexpected_end(source: str) -> FormulaError:
    unclosed = unclosed_parenthesis(source)
    if unclosed is not None:
        return FormulaError(_("This parenthesis is never closed."), unclosed + 1)
    return FormulaError(_("The formula ends too early."), len(source) + 1)


def unclosed_parenthesis(source: str) -> int | None:
    """The index of the innermost "(" left open, skipping text in quotes; None if all are closed."""
    opened: list[int] = []
    in_text = escaped = False
    for index, char in enumerate(source):
        if escaped:
            escaped = False
        elif in_text:
            escaped, in_text = char == "\\", char != '"'
        elif char == '"':
            in_text = True
        elif char == "(":
            opened.append(index)
        elif char == ")" and opened:
            opened.pop()
    return opened[-1] if opened else None
