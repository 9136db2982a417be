"""ASGI middleware: security headers, and who is signed in."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coprod import db
from coprod.config import get_settings
from coprod.services import auth

SESSION_COOKIE = "coprod_session"
ANON_COOKIE = "coprod_visitor"
# Files anyone may fetch, which never need to know who is asking.
STATIC_PREFIXES = ("/assets/", "/static/")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        https = get_settings().uses_https

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = (
                    "default-src 'self'; "
                    f"script-src 'self' 'nonce-{nonce}'; "
                    "style-src 'self'; img-src 'self' data:; font-src 'self'; "
                    "connect-src 'self'; object-src 'none'; base-uri 'self'; "
                    "form-action 'self'; frame-ancestors 'none'"
                )
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                if https:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                if "cache-control" not in headers:
                    # Pages hold personal data: keep them out of shared and back-button caches.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AuthMiddleware:
    """Puts the signed-in actor (or None) on request.state, from the session cookie or a token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STATIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        # The sign-in check and the page's own reads share one pooled connection.
        async with db.one_connection():
            await self._signed_in(scope, receive, send)

    async def _signed_in(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        state.update(actor=None, session=None, via_token=False)
        conn = HTTPConnection(scope)
        authorization = conn.headers.get("authorization", "")
        # Tokens are for the JSON API only: HTML pages answer to a signed-in person.
        if scope["path"].startswith("/api/") and authorization.lower().startswith("bearer "):
            actor = await auth.actor_for_token(authorization[7:].strip())
            state.update(actor=actor, via_token=actor is not None)
        elif secret := conn.cookies.get(SESSION_COOKIE):
            found = await auth.session_actor(secret)
            if found is not None:
                state["session"], state["actor"] = found
        await self.app(scope, receive, send)
