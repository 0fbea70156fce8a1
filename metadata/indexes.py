"""Indexes on custom fields (being built out: see the index task)."""


def request_sync(definition) -> None:
    """Bring the field's indexes in line with its definition after commit."""


def drop_now(definition) -> None:
    """Drop the field's indexes (a purge)."""
