"""Roll-up fields (being built out)."""


def definition_errors(options, info) -> dict:
    return {}
