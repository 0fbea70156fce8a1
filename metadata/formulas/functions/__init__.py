"""The formula functions, by upper-case name. Each module registers its functions on import."""

from metadata.formulas.functions import dates, logic, numeric, text
from metadata.formulas.functions.registry import FUNCTIONS, Function, expects

__all__ = ["FUNCTIONS", "Function", "dates", "expects", "logic", "numeric", "text"]
