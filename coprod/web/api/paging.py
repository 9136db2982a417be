"""Cursor paging for every API list.

A cursor is opaque to clients, and signed, so that only cursors this service gave are read
(a made-up one could otherwise put any value into a query). For a database query it holds the
sort key of the last item sent (keyset paging), so the next page starts right after it however
many rows were added or removed meanwhile, and a deep page costs no more than the first.
Lists a service has already built in memory (a search, a report's rows) are paged by position
instead.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from coprod.config import get_settings
from coprod.validation import ValidationFailed
from coprod.web.api.schema import Paging

M = TypeVar("M", bound=Model)
T = TypeVar("T")

BAD_CURSOR = "This cursor is not one this list gave: leave it out to start from the first page"


async def keyset_page(
    query: QuerySet[M], paging: Paging, order: Sequence[str]
) -> tuple[list[M], str | None]:
    """One page of `query` in `order` (field names, `-` for descending; the last must be
    unique, such as `id`, and none may be null), and the cursor for the next page."""
    if paging.cursor is not None:
        values = _decode(paging.cursor, "k", order)
        if not isinstance(values, list) or len(values) != len(order):
            raise ValidationFailed.one("cursor", BAD_CURSOR)
        query = query.filter(_after(order, [_load(v) for v in values]))
    rows = list(await query.order_by(*order).limit(paging.limit + 1))
    if len(rows) <= paging.limit:
        return rows, None
    rows = rows[: paging.limit]
    last = rows[-1]
    return rows, _encode("k", [_dump(getattr(last, name.lstrip("-"))) for name in order], order)


def list_page(items: Sequence[T], paging: Paging) -> tuple[list[T], str | None]:
    """One page of a list already in memory, and the cursor for the next page."""
    start = 0
    if paging.cursor is not None:
        start = _decode(paging.cursor, "o", ())
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise ValidationFailed.one("cursor", BAD_CURSOR)
    end = start + paging.limit
    return list(items[start:end]), (_encode("o", end, ()) if end < len(items) else None)


def _after(order: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows after `values` in `order`: later on the first key, or equal on it and later on
    the next, and so on."""
    either = []
    for i, name in enumerate(order):
        equal = {key.lstrip("-"): value for key, value in zip(order[:i], values[:i], strict=True)}
        beyond = "lt" if name.startswith("-") else "gt"
        either.append(Q(**equal, **{f"{name.lstrip('-')}__{beyond}": values[i]}))
    return Q(*either, join_type="OR")


def _signature(payload: str, order: Sequence[str]) -> str:
    """Signs the cursor with the order it was made for, so that a cursor from one list cannot
    put its values into another list's query."""
    key = ("api-cursor:" + get_settings().secret_key).encode()
    message = f"{payload}|{','.join(order)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def _encode(kind: str, value: Any, order: Sequence[str]) -> str:
    raw = json.dumps({kind: value}, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{payload}.{_signature(payload, order)}"


def _decode(cursor: str, kind: str, order: Sequence[str]) -> Any:
    payload, _, signature = cursor.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(payload, order).encode()):
        raise ValidationFailed.one("cursor", BAD_CURSOR)
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValidationFailed.one("cursor", BAD_CURSOR) from None
    if not isinstance(data, dict) or kind not in data:
        raise ValidationFailed.one("cursor", BAD_CURSOR)
    return data[kind]


def _dump(value: Any) -> Any:
    """A sort key value as JSON, tagged so it reads back as the same type."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _load(value: Any) -> Any:
    try:
        if isinstance(value, dict) and set(value) == {"t"}:
            return dt.datetime.fromisoformat(value["t"])
        if isinstance(value, dict) and set(value) == {"d"}:
            return dt.date.fromisoformat(value["d"])
    except (TypeError, ValueError):
        pass
    else:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return value
    raise ValidationFailed.one("cursor", BAD_CURSOR)
