"""Who may reach a page, and reading forms safely."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from coprod.models import Role
from coprod.services.actor import Actor
from coprod.validation import check_text_is_safe
from coprod.web import csrf
from coprod.web.render import page, redirect

Handler = Callable[[Request], Awaitable[Response]]
ActorHandler = Callable[[Request, Actor], Awaitable[Response]]

# Every route not listed here demands sign-in; tests/test_routes.py holds us to it.
PUBLIC_PATHS = frozenset(
    {
        "/",
        "/sign-in",
        "/sign-in/link",
        "/sign-in/check-email",
        "/sign-in/link/{token}",
        "/sign-in/code",
        "/sign-in/code/{token}",
        "/password-reset",
        "/password-reset/{token}",
        "/healthz",
        "/api/v1/openapi.json",
        "/api/v1/stripe/webhook",  # signed by Stripe instead
        "/api/v1/notify/texts",  # carries GOV.UK Notify's bearer token instead
        "/api/v1/notify/delivery",  # GOV.UK Notify's callback: its own bearer token instead
        "/assets",
        "/accessibility",
        # Each of these is opened by a secret in the address, sent only to the person concerned.
        "/answer/{token}",
        "/tech-test/{token}",
        "/calendar/{token}.ics",
        # A survey's public link, printed on posters and paper forms: anyone may answer.
        "/s/{token}",
        "/s/{token}/thanks",
        # Saying you are interested in getting involved: anyone may, with no account. The
        # equality questions just after are opened by a secret shown once on the thanks page.
        "/join/{org_slug}/interest",
        "/join/{org_slug}/interest/thanks",
        "/join/{org_slug}/interest/{token}/about-you",
        # A team's "You said, we did" board and its poster: words, statuses and months only.
        "/you-said-we-did/{org_slug}/{team_id:int}",
        "/you-said-we-did/{org_slug}/{team_id:int}/poster",
        # Open opportunities and their prints, for anyone thinking of getting involved.
        "/join/{org_slug}",
        "/join/{org_slug}/opportunities/{id:int}",
        "/join/{org_slug}/opportunities/{id:int}/easy-read",
        "/join/{org_slug}/opportunities/{id:int}/large-print",
        "/join/{org_slug}/opportunities/{id:int}/qr.svg",
        "/join/networks/{network_id:int}",
    }
)


def signed_in(*roles: Role) -> Callable[[ActorHandler], Handler]:
    """Pages for signed-in people; with roles, only for people holding one of them here."""

    def decorate(handler: ActorHandler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request) -> Response:
            actor: Actor | None = request.state.actor
            if actor is None or actor.user is None:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return redirect("/sign-in?next=" + quote(target, safe=""))
            if request.method not in ("GET", "HEAD"):
                await checked_form(request)
            if roles and not actor.has(*roles):
                return page(request, "errors/403.html", status_code=403)
            return await handler(request, actor)

        return wrapper

    return decorate


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token is known to be good (otherwise a 403 page)."""
    form = await request.form()
    value = form.get(csrf.FIELD)
    if not csrf.is_valid(request, value if isinstance(value, str) else None):
        raise HTTPException(403, "csrf")
    # An uploaded file's name is kept as text too.
    check_text_is_safe(
        {k: [v if isinstance(v, str) else v.filename or "" for v in form.getlist(k)] for k in form}
    )
    return form


def public_form(handler: Handler) -> Handler:
    """Public pages that take a form (sign-in and the like) still check CSRF."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            await checked_form(request)
        return await handler(request)

    return wrapper


def form_values(form: FormData) -> dict[str, Any]:
    return {k: v for k, v in form.items() if k != csrf.FIELD}
