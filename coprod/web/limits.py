"""Middleware that refuses requests no handler should see: unknown methods, bodies too large
to read, text that cannot be stored, and any request while the database is out of reach."""

from __future__ import annotations

import logging
import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coprod import db
from coprod.config import get_settings
from coprod.validation import UNSAFE_TEXT_RE, unsafe_text_errors
from coprod.web.render import problem

log = logging.getLogger("coprod.web")

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Receipts are added to an expense, on its page (a multipart form) and in the API (base64 in
# JSON, a third larger). Those requests may be big enough that a receipt somewhat over
# pay.receipt_max_bytes is still read, and refused with a message beside the field.
RECEIPT_PATH = re.compile(r"^(/api/v1)?/claims/[0-9]+/expenses$")
FORM_OVERHEAD_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = 30
TOO_LARGE = "The request is too large. Send less, or a smaller file."


def body_limit(scope: Scope) -> int:
    settings = get_settings()
    if RECEIPT_PATH.match(scope["path"]):
        return max(settings.max_body_bytes, 2 * settings.receipt_max_bytes + FORM_OVERHEAD_BYTES)
    return settings.max_body_bytes


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if scope["method"] not in ALLOWED_METHODS:
            # TRACE and the like: nothing here answers them, whatever the path.
            response = problem(
                request,
                405,
                "This method is not allowed",
                headers={"Allow": ", ".join(ALLOWED_METHODS)},
            )
            await response(scope, receive, send)
            return
        if UNSAFE_TEXT_RE.search(scope["path"]):
            # No route has such a path; a token or name holding it would reach the database.
            await problem(request, 404, "There is no such page")(scope, receive, send)
            return
        if errors := unsafe_text_errors(dict(request.query_params)):
            await problem(request, 422, errors[0].message, errors=errors)(scope, receive, send)
            return
        limit = body_limit(scope)
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await problem(request, 413, TOO_LARGE, context=_context())(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            # Content-Length may be absent (chunked) or wrong, so count what actually arrives.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counted_receive, send)


def _context() -> dict[str, int]:
    return {"receipt_max_mb": get_settings().receipt_max_bytes // (1024 * 1024)}


class DatabaseUnavailableMiddleware:
    """While the database is unreachable or restarting, every request is told to come back
    shortly (503 with Retry-After), rather than shown a server error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started or not db.is_unavailable(exc):
                raise
            log.warning("database unavailable on %s %s: %s", scope["method"], scope["path"], exc)
            response = problem(
                Request(scope),
                503,
                "The service is unavailable for a short time. Try again in a few minutes.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
