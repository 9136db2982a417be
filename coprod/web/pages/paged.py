"""Paging a page's list, so that a page costs the same however many rows there are.

Numbered by `?page=` (or another query parameter where one page holds two lists), so that it
works without JavaScript. One row more than a page is read to learn whether there is a next
page, instead of counting them all. Templates draw the links with `pager` in `macros.html`,
which uses the NHS.UK pagination component.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from tortoise.models import Model
from tortoise.queryset import QuerySet

PAGE_SIZE = 25

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Paged(Generic[M]):
    rows: list[M]
    number: int
    has_next: bool
    previous_url: str | None
    next_url: str | None


def _url(request: Request, param: str, number: int, path: str | None) -> str:
    query = {k: v for k, v in request.query_params.items() if k != param} if path is None else {}
    if number > 1:
        query[param] = str(number)
    path = path or request.url.path
    return f"{path}?{urlencode(query)}" if query else path


async def paged(
    request: Request,
    query: QuerySet[M],
    *,
    param: str = "page",
    size: int = PAGE_SIZE,
    path: str | None = None,
) -> Paged[M]:
    """One page of an ordered query, by the request's `param`. Links go to `path` (the
    request's own path, keeping its other parameters, unless given) with the page number."""
    number = _number(request.query_params.get(param, "1")) if request.method == "GET" else 1
    rows = list(await query.offset((number - 1) * size).limit(size + 1))
    has_next = len(rows) > size
    return Paged(
        rows[:size],
        number,
        has_next,
        _url(request, param, number - 1, path) if number > 1 else None,
        _url(request, param, number + 1, path) if has_next else None,
    )


def _number(raw: str) -> int:
    """Anything odd is the first page (ASCII digits, bounded), as `render.page_number`."""
    return min(max(int(raw), 1), 100_000) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
