"""How a function is declared: its parameters' types, its result type and its implementation, once,
so the parser (arity), the checker (types) and the evaluator (values) read the same declaration."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from metadata.formulas.errors import FormulaError
from metadata.formulas.types import NULL, Typed, label

TypeRule = Callable[[str, list[Typed]], str]


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[frozenset, ...]  # the types each argument accepts; when variadic the last repeats
    returns: str | TypeRule  # a type, or a rule over the arguments' types that also checks them
    apply: Callable
    variadic: bool = False
    least: int = 1  # the fewest arguments of a variadic function
    pairs: bool = False  # CASE: an even count (the value, match/result pairs, the default)
    blanks: bool = False  # False: a null argument makes the result null without calling apply
    clock: bool = False  # apply takes (today, now) first

    def count_error(self, count: int) -> str | None:
        """A translated message when ``count`` arguments do not fit, else None."""
        if not self.variadic and count != len(self.params):
            return ngettext(
                "%(function)s takes %(count)s argument, not %(given)s.",
                "%(function)s takes %(count)s arguments, not %(given)s.",
                len(self.params),
            ) % {
                "function": self.name,
                "count": len(self.params),
                "given": count,
            }
        if self.variadic and count < self.least:
            return ngettext(
                "%(function)s takes at least %(count)s argument.",
                "%(function)s takes at least %(count)s arguments.",
                self.least,
            ) % {
                "function": self.name,
                "count": self.least,
            }
        if self.pairs and count % 2:
            return _("%(function)s takes a value, pairs of a match and its result, then a default.") % {
                "function": self.name
            }
        return None

    def result_type(self, args: list[Typed]) -> str:
        """The call's type; FormulaError, located at the argument, when one has the wrong type."""
        for index, arg in enumerate(args):
            accepted = self.params[min(index, len(self.params) - 1)]
            if arg.type != NULL and arg.type not in accepted:
                raise expects(self.name, accepted, arg)
        return self.returns if isinstance(self.returns, str) else self.returns(self.name, args)


def expects(name: str, accepted, arg: Typed) -> FormulaError:
    """The error "ROUND expects a number, not text", located at the argument."""
    message = _("%(function)s expects %(expected)s, not %(actual)s.") % {
        "function": name,
        "expected": label(accepted),
        "actual": label(arg.type),
    }
    return FormulaError(message, arg.position)


FUNCTIONS: dict[str, Function] = {}


def function(name: str, *params: frozenset, returns: str | TypeRule, **options) -> Callable:
    """Register the decorated implementation as the formula function ``name``."""

    def register(apply: Callable) -> Callable:
        FUNCTIONS[name] = Function(name, params, returns, apply, **options)
        return apply

    return register


def common_type(name: str, args: list[Typed]) -> str:
    """The one type the arguments share (null fits any), or an error at the first that differs."""
    found = NULL
    for arg in args:
        if found == NULL:
            found = arg.type
        elif arg.type not in (NULL, found):
            message = _("%(function)s mixes %(first)s and %(second)s.") % {
                "function": name,
                "first": label(found),
                "second": label(arg.type),
            }
            raise FormulaError(message, arg.position)
    return found
