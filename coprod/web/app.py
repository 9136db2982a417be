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
from coprod.errors import NotFound
from coprod.web.api import api
from coprod.web.middleware import AuthMiddleware, SecurityHeadersMiddleware
from coprod.web.pages import activities, admin, auth, claims, home, reports, representatives
from coprod.web.render import page

log = logging.getLogger("coprod.web")

ASSETS_DIR = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"


async def healthz(request: Request) -> Response:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:
        log.warning("health check failed: %s", exc)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def not_found(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return JSONResponse(
            {
                "errors": [
                    {"field": None, "message": "There is no such record in your organisation"}
                ]
            },
            status_code=404,
        )
    return page(request, "errors/404.html", status_code=404)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await not_found(request, exc)
    if _wants_json(request):
        return JSONResponse(
            {"errors": [{"field": None, "message": exc.detail}]}, status_code=exc.status_code
        )
    template = {403: "errors/403.html", 405: "errors/405.html"}.get(
        exc.status_code, "errors/400.html"
    )
    return page(
        request, template, {"csrf_failed": exc.detail == "csrf"}, status_code=exc.status_code
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
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
        *activities.routes,
        *claims.routes,
        *reports.routes,
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
        middleware=[Middleware(SecurityHeadersMiddleware), Middleware(AuthMiddleware)],
        exception_handlers={
            HTTPException: http_error,
            NotFound: not_found,
            404: not_found,
            500: server_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
