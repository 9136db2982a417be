"""Rendering pages, and the responses every handler shares."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)

from coprod.config import get_settings
from coprod.errors import Conflict, NotFound
from coprod.models import Role
from coprod.services.actor import Actor
from coprod.templating import environment
from coprod.validation import FieldError, ValidationFailed
from coprod.web import csrf
from coprod.web.middleware import ANON_COOKIE

# The pages the Recruitment page leads to, so that it stays the current item on them.
RECRUITMENT_PATHS = ("/opportunities", "/interests", "/outreach", "/courses")


def navigation(actor: Actor | None, path: str) -> list[dict[str, Any]]:
    if actor is None:
        return []
    items: list[tuple[str, str]] = [("/", "Home")]
    if actor.has(Role.INVOLVEMENT_LEAD):
        items += [
            ("/activities", "Activities"),
            ("/representatives", "Representatives"),
            ("/claims", "Claims"),
            ("/projects", "Projects"),
            ("/feedback", "Feedback"),
            ("/recruitment", "Recruitment"),
        ]
    if actor.has(Role.FINANCE_OFFICER):
        items += [("/finance", "Finance")]
    if actor.has(Role.REPORTER, Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN):
        items += [("/reports", "Reports")]
    elif actor.network_ids:
        items += [(f"/reports/networks/{min(actor.network_ids)}", "Network report")]
    if actor.has(Role.REPRESENTATIVE):
        items += [
            ("/my/bookings", "My bookings"),
            ("/my/claims", "My claims"),
            ("/my/profile", "My profile"),
        ]
    if actor.has(Role.INVOLVEMENT_LEAD) and not actor.has(Role.ORG_ADMIN):
        items += [("/admin/teams", "Teams")]  # to choose feedback champions
    if actor.has(Role.ORG_ADMIN):
        items += [
            ("/admin/teams", "Teams"),
            ("/admin/audit", "Audit log"),
            ("/admin/outbox", "Messages"),
            ("/admin/api-tokens", "API tokens"),
            ("/admin/rates", "Rates"),
            ("/networks", "Networks"),
        ]
    return [
        {
            "href": href,
            "text": text,
            "current": path == href or (href != "/" and path.startswith(href)),
            "active": href == "/recruitment" and path.startswith(RECRUITMENT_PATHS),
        }
        for href, text in items
    ]


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    errors: ValidationFailed | None = None,
) -> HTMLResponse:
    actor: Actor | None = getattr(request.state, "actor", None)
    ctx: dict[str, Any] = {
        "request": request,
        "actor": actor,
        "csrf_token": csrf.token_for(request),
        "cspNonce": getattr(request.state, "csp_nonce", ""),
        "nav_items": navigation(actor, request.url.path),
        "errors": errors.errors if errors else [],
        "field_errors": errors.by_field() if errors else {},
        "form": {},
    }
    ctx.update(context or {})
    html = environment().get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code)
    new_visitor = getattr(request.state, "new_visitor", None)
    if new_visitor:
        set_cookie(response, ANON_COOKIE, new_visitor, max_age=60 * 60 * 24)
    return response


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=get_settings().uses_https,
        path="/",
    )


def csv_download(text: str, filename: str) -> Response:
    """A file written by `coprod.integrations.csv_files`, as a download."""
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def private_file(path: Path, media_type: str, filename: str) -> FileResponse:
    """A stored file (a receipt) as a download, never kept in a cache; 404 if it has gone."""
    if not path.exists():
        raise NotFound
    return FileResponse(
        path,
        media_type=media_type,
        filename=filename,
        headers={"Cache-Control": "private, no-store"},
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def page_number(request: Request) -> int:
    """The ?page= of a paged list; anything odd is the first page (ASCII digits, bounded)."""
    raw = request.query_params.get("page", "1")
    return min(max(int(raw), 1), 100_000) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def as_page_errors(exc: ValidationFailed | Conflict) -> ValidationFailed:
    """A rule that refused the action (409 in the API) shown as an error on the page."""
    if isinstance(exc, ValidationFailed):
        return exc
    return ValidationFailed.one(exc.field or "maincontent", exc.message)


ERROR_TEMPLATES = {
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/405.html",
    413: "errors/413.html",
    422: "errors/422.html",
    503: "errors/503.html",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(
    request: Request,
    status: int,
    message: str,
    *,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    context: dict[str, Any] | None = None,
) -> Response:
    """A refusal in the API's errors shape, or as a plain page for people."""
    if wants_json(request):
        listed = [e.as_dict() for e in errors] if errors else [{"field": None, "message": message}]
        return JSONResponse({"errors": listed}, status_code=status, headers=headers)
    response = page(
        request,
        ERROR_TEMPLATES.get(status, "errors/400.html"),
        context,
        status_code=status,
        # The form is not shown again here, so the summary points at the page, not at fields.
        errors=ValidationFailed.one("maincontent", message) if errors else None,
    )
    response.headers.update(headers or {})
    return response
