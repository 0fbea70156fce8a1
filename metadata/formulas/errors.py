"""The one error a formula raises, at parse, check or evaluation time."""


class FormulaError(Exception):
    """A formula that cannot be parsed, type-checked or evaluated.

    ``message`` is translated for the active language; ``position`` is the 1-based column (counting
    characters from the start of the formula, newlines included) of the offending part, or None.
    """

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message
