"""Every route demands sign-in except a listed few, and every form checks its CSRF token."""

from __future__ import annotations

import re

from starlette.routing import Mount, Route

from coprod.models import Role
from coprod.web.guards import PUBLIC_PATHS
from tests.conftest import sign_in


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def all_routes(app):
    for route in app.routes:
        if isinstance(route, Route):
            yield route


async def test_every_route_demands_sign_in_except_the_public_ones(app, client):
    checked = 0
    for route in all_routes(app):
        if route.path in PUBLIC_PATHS:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            response = await client.http.request(method, concrete(route.path))
            checked += 1
            if route.path.startswith("/api/"):
                assert response.status_code == 401, (method, route.path)
                assert response.json()["errors"][0]["message"]
            elif method == "GET":
                assert response.status_code == 303, (method, route.path)
                assert response.headers["location"].startswith("/sign-in?next=")
            else:
                # A POST without sign-in never reaches the handler.
                assert response.status_code in (303, 403), (method, route.path)
    assert checked > 15


async def test_the_public_list_is_only_what_must_be_public(app):
    paths = {r.path for r in all_routes(app)} | {r.path for r in app.routes if isinstance(r, Mount)}
    assert PUBLIC_PATHS - paths <= {"/assets"}
    assert not any(p.startswith("/admin") for p in PUBLIC_PATHS)


async def test_every_form_post_is_refused_without_a_csrf_token(app, client, world):
    org = await world.org()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)
    await sign_in(client, "admin@trust.example")
    checked = 0
    for route in all_routes(app):
        if "POST" not in route.methods or route.path.startswith("/api/"):
            continue
        for data in ({}, {"csrf_token": "forged"}):
            response = await client.http.post(concrete(route.path), data=data)
            assert response.status_code == 403, route.path
            assert "Your form has expired" in response.text
        checked += 1
    assert checked >= 8


async def test_api_changes_from_a_browser_session_need_the_csrf_header(client, world):
    org = await world.org()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    await sign_in(client, "admin@trust.example")
    refused = await client.http.post("/api/v1/teams", json={"name": "Crisis team"})
    assert refused.status_code == 403
    allowed = await client.api("POST", "/api/v1/teams", {"name": "Crisis team"})
    assert allowed.status_code == 201


async def test_security_headers_on_pages(client):
    response = await client.get("/sign-in")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in response.text  # the one inline script carries it
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


async def test_assets_come_from_the_installed_nhsuk_frontend_package(client):
    css = await client.get("/assets/nhsuk-frontend.min.css")
    assert css.status_code == 200 and "nhsuk" in css.text
    page = await client.get("/sign-in")
    assert 'href="/assets/nhsuk-frontend.min.css"' in page.text
    assert 'class="nhsuk-header"' in page.text and 'class="nhsuk-skip-link"' in page.text


async def test_friendly_404_and_role_pages(client, world):
    org = await world.org()
    await world.user(org, "rep@people.example", Role.REPRESENTATIVE)
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    await sign_in(client, "rep@people.example")
    forbidden = await client.get("/admin/audit")
    assert forbidden.status_code == 403 and "You cannot see this page" in forbidden.text
    assert 'href="/admin/audit"' not in (await client.get("/")).text  # navigation is by role


async def test_a_crash_shows_the_friendly_500_page(app, client):
    async def broken(request):
        raise RuntimeError("boom")

    app.router.routes.insert(0, Route("/broken", broken))
    from httpx import ASGITransport, AsyncClient

    async with AsyncClient(
        transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
    ) as http:
        response = await http.get("/broken")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    assert "boom" not in response.text


async def test_healthz_reports_the_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
