"""Keyset cursors: the last row's sort values and id, as opaque base64 JSON, and the condition
selecting the rows after it. NULLs sort last in both directions."""

import base64
import binascii
import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from metadata.filters.fields import BOOLEAN, DATE, DATETIME, DECIMAL, INTEGER


def encode(signature: list, values: list, last_id: int) -> str:
    """An opaque cursor; `signature` ties it to the sort it was made for."""
    payload = {"s": signature, "v": [_plain(value) for value in values], "id": last_id}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode(cursor: str, signature: list, types: list[str]) -> tuple[list, int]:
    """(sort values, id) of a cursor made for this sort; ValidationError on "after" otherwise."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if payload["s"] != signature or len(payload["v"]) != len(types):
            raise ValueError
        values = [_typed(value, kind) for value, kind in zip(payload["v"], types, strict=True)]
        last_id = payload["id"]
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError, InvalidOperation, binascii.Error):
        raise ValidationError({"after": [_("This cursor is invalid or belongs to another sort.")]}) from None
    return values, last_id


def rows_after(keys: list[tuple[str, str]], values: list, last_id: int) -> Q:
    """Rows after (values, id) in ORDER BY key1, key2, ..., id: `keys` are (alias, direction)."""
    alternatives, same = [], Q()
    for (alias, direction), value in zip(keys, values, strict=True):
        if value is None:
            same &= Q(**{f"{alias}__isnull": True})  # nothing sorts after a NULL but NULLs
            continue
        beyond = Q(**{f"{alias}__{'gt' if direction == 'asc' else 'lt'}": value})
        alternatives.append(same & (beyond | Q(**{f"{alias}__isnull": True})))
        same &= Q(**{alias: value})
    alternatives.append(same & Q(pk__gt=last_id))
    condition = alternatives[0]
    for alternative in alternatives[1:]:
        condition |= alternative
    return condition


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _typed(value, kind: str):
    if value is None:
        return None
    if kind in (INTEGER, DECIMAL):
        return Decimal(str(value))
    if kind == DATE:
        return date.fromisoformat(value)
    if kind == DATETIME:
        return datetime.fromisoformat(value)
    if kind == BOOLEAN and not isinstance(value, bool):
        raise ValueError
    return value
