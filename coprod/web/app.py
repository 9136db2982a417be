"""The Starlette application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from tortoise import connections

from coprod import db
from coprod.config import ROOT, get_settings
from coprod.errors import Forbidden, NotFound
from coprod.validation import ValidationFailed
from coprod.web.api import api
from coprod.web.limits import DatabaseUnavailableMiddleware, RequestLimitsMiddleware
from coprod.web.middleware import AuthMiddleware, SecurityHeadersMiddleware
from coprod.web.pages import (
    actions,
    activities,
    admin,
    auth,
    bookings,
    claims,
    courses,
    home,
    interests,
    messages,
    networks,
    opportunities,
    outreach,
    payroll,
    polls,
    projects,
    reconciliation,
    recruitment,
    reports,
    representatives,
    standards,
    surveys,
)
from coprod.web.render import page, problem, wants_json

log = logging.getLogger("coprod.web")

ASSETS_DIR = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"


async def healthz(request: Request) -> Response:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:
        log.warning("health check failed: %s", exc)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def not_found(request: Request, exc: Exception) -> Response:
    return problem(request, 404, "There is no such record in your organisation")


async def forbidden(request: Request, exc: Exception) -> Response:
    """A service refused this person (a feedback champion's pages, for other staff)."""
    if wants_json(request):
        return problem(request, 403, "You do not have permission to do this")
    return page(request, "errors/403.html", status_code=403)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await not_found(request, exc)
    if exc.status_code == 403 and not wants_json(request):
        return page(
            request, "errors/403.html", {"csrf_failed": exc.detail == "csrf"}, status_code=403
        )
    return problem(request, exc.status_code, exc.detail, headers=exc.headers)


async def invalid_input(request: Request, exc: Exception) -> Response:
    """Input refused before any handler saw it (text that cannot be stored): handlers catch
    their own ValidationFailed and show it beside the form."""
    assert isinstance(exc, ValidationFailed)
    return problem(request, 422, "Some of your answers cannot be saved", errors=exc.errors)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if wants_json(request):
        return JSONResponse(
            {
                "errors": [
                    {"field": None, "message": "Something went wrong on our side. Try again later."}
                ]
            },
            status_code=500,
        )
    try:
        return page(request, "errors/500.html", status_code=500)
    except Exception:  # the error page itself failed; say something plain rather than nothing
        return Response("Sorry, there is a problem with the service.", status_code=500)


def routes() -> list[Any]:
    return [
        *home.routes,
        *auth.routes,
        *admin.routes,
        *representatives.routes,
        *messages.routes,
        *projects.routes,
        *actions.routes,
        *activities.routes,
        *polls.routes,
        # Before bookings, whose /bookings/{id}/{action} would take /bookings/{id}/course-place.
        *courses.routes,
        *bookings.routes,
        *claims.routes,
        *payroll.routes,
        *reconciliation.routes,
        *reports.routes,
        *networks.routes,
        *standards.routes,
        *surveys.routes,
        *opportunities.routes,
        *outreach.routes,
        *interests.routes,
        *recruitment.routes,
        *api.routes(),
        Route("/healthz", healthz, methods=["GET"]),
        Mount(
            "/assets", app=StaticFiles(directory=str(ASSETS_DIR), check_dir=False), name="assets"
        ),
        Mount(
            "/static",
            app=StaticFiles(directory=str(ROOT / "coprod" / "web" / "static")),
            name="static",
        ),
    ]


def create_app(*, manage_database: bool = True) -> Starlette:
    """`manage_database=False` lets tests that already opened the database share it."""
    settings = get_settings()
    settings.validate()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await db.init_db()
        try:
            yield
        finally:
            if manage_database:
                await db.close_db()

    return Starlette(
        debug=False,
        routes=routes(),
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(DatabaseUnavailableMiddleware),
            Middleware(AuthMiddleware),
            Middleware(RequestLimitsMiddleware),
        ],
        exception_handlers={
            HTTPException: http_error,
            NotFound: not_found,
            Forbidden: forbidden,
            ValidationFailed: invalid_input,
            404: not_found,
            500: server_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
