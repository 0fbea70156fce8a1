"""Conditions and blanks. A blank (null) condition counts as false."""

from metadata.formulas.functions.registry import common_type, expects, function
from metadata.formulas.types import ANY, BOOLEAN, BOOLEANS, NULL, SCALARS, Typed


def _if_type(name: str, args: list[Typed]) -> str:
    return common_type(name, args[1:])


@function("IF", BOOLEANS, ANY, ANY, returns=_if_type, blanks=True)
def if_(condition, then, otherwise):
    return then if condition is True else otherwise


@function("AND", BOOLEANS, returns=BOOLEAN, variadic=True, blanks=True)
def and_(*conditions):
    return all(condition is True for condition in conditions)


@function("OR", BOOLEANS, returns=BOOLEAN, variadic=True, blanks=True)
def or_(*conditions):
    return any(condition is True for condition in conditions)


def is_blank(value) -> bool:
    """Null, and also the literal "" (field values arrive with "" and [] already made null)."""
    return value is None or value == ""


@function("ISBLANK", ANY, returns=BOOLEAN, blanks=True)
def isblank(value):
    return is_blank(value)


@function("BLANKVALUE", ANY, ANY, returns=common_type, blanks=True)
def blankvalue(value, default):
    return default if is_blank(value) else value


def _case_type(name: str, args: list[Typed]) -> str:
    subject, matches, results = args[0], args[1:-1:2], [*args[2:-1:2], args[-1]]
    for arg in (subject, *matches):
        if arg.type != NULL and arg.type not in SCALARS:
            raise expects(name, SCALARS, arg)
    common_type(name, [subject, *matches])
    return common_type(name, results)


@function("CASE", ANY, returns=_case_type, variadic=True, least=4, pairs=True, blanks=True)
def case(subject, *rest):
    *pairs, default = rest
    if subject is not None:
        for match, result in zip(pairs[::2], pairs[1::2], strict=True):
            if match == subject:
                return result
    return default
