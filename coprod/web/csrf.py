"""CSRF protection for forms: a token bound to the browser's session (or visitor) cookie.

The token is an HMAC of the cookie's secret, so it needs no storage and a stateless web tier
can check it on any instance.
"""

from __future__ import annotations

from starlette.requests import Request

from coprod.config import get_settings
from coprod.security import new_secret, sign, signatures_match
from coprod.web.middleware import ANON_COOKIE, SESSION_COOKIE

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def _binding(request: Request) -> str | None:
    return (
        request.cookies.get(SESSION_COOKIE)
        or request.cookies.get(ANON_COOKIE)
        or getattr(request.state, "new_visitor", None)
    )


def token_for(request: Request) -> str:
    binding = _binding(request)
    if binding is None:
        # First visit: the response will set this visitor cookie (see render.page).
        binding = new_secret()
        request.state.new_visitor = binding
    return sign(get_settings().secret_key, "csrf", binding)


def is_valid(request: Request, submitted: str | None) -> bool:
    binding = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
    if not binding or not submitted:
        return False
    return signatures_match(sign(get_settings().secret_key, "csrf", binding), submitted)
