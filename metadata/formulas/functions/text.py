"""Text. Case-sensitive like Salesforce; a blank text reads as "" where a count or a test is asked."""

import re
from decimal import Decimal, InvalidOperation

from metadata.formulas.functions.registry import function
from metadata.formulas.types import ANY, BOOLEAN, LISTS, NUMBER, NUMBERS, TEXT, TEXTS
from metadata.formulas.values import MAX_TEXT, capped, to_text, too_long, whole

# Plain decimals, optionally signed, with thousands separators ("1,234.50"); \d admits full-width digits.
_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|[+-]?\.\d+")


@function("LEN", TEXTS, returns=NUMBER, blanks=True)
def len_(text: str | None) -> Decimal:
    return Decimal(len(text or ""))


@function("UPPER", TEXTS, returns=TEXT)
def upper(text: str) -> str:
    return capped(text.upper())


@function("LOWER", TEXTS, returns=TEXT)
def lower(text: str) -> str:
    return capped(text.lower())


@function("TRIM", TEXTS, returns=TEXT)
def trim(text: str) -> str:
    return text.strip()  # also the full-width space U+3000


@function("LEFT", TEXTS, NUMBERS, returns=TEXT)
def left(text: str, count: Decimal) -> str:
    return text[: _length(count)]


@function("RIGHT", TEXTS, NUMBERS, returns=TEXT)
def right(text: str, count: Decimal) -> str:
    length = _length(count)
    return text[-length:] if length else ""


def _length(count: Decimal) -> int:
    """A character count clamped to 0..MAX_TEXT: negative reads as none, huge as all."""
    if count <= 0:
        return 0
    return MAX_TEXT if count >= MAX_TEXT else whole(count, MAX_TEXT)


@function("CONTAINS", TEXTS, TEXTS, returns=BOOLEAN, blanks=True)
def contains(text: str | None, part: str | None) -> bool:
    return part is not None and part in (text or "")


@function("BEGINS", TEXTS, TEXTS, returns=BOOLEAN, blanks=True)
def begins(text: str | None, prefix: str | None) -> bool:
    return prefix is not None and (text or "").startswith(prefix)


@function("SUBSTITUTE", TEXTS, TEXTS, TEXTS, returns=TEXT)
def substitute(text: str, old: str, new: str) -> str:
    if not old:
        return text
    # Measure first: replacing every character by a long text must fail before it is built.
    if len(text) + text.count(old) * (len(new) - len(old)) > MAX_TEXT:
        raise too_long()
    return text.replace(old, new)


@function("TEXT", ANY, returns=TEXT, blanks=True)
def text(value) -> str:
    return to_text(value)


@function("VALUE", TEXTS, returns=NUMBER)
def value(text: str) -> Decimal | None:
    """The number a text spells, or null when it spells none."""
    cleaned = text.strip()
    if len(cleaned) > 100 or not _NUMBER.fullmatch(cleaned):
        return None
    try:
        return Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        return None


@function("INCLUDES", LISTS, TEXTS, returns=BOOLEAN, blanks=True)
def includes(values: list | None, wanted: str | None) -> bool:
    return wanted is not None and wanted in (values or ())
