"""The JSON API: session or organisation-scoped token, OpenAPI, error shapes, organisation walls."""

from __future__ import annotations

import re

from starlette.routing import Route

from coprod.models import ApiToken, AuditEvent, Role
from coprod.security import hash_secret
from tests.conftest import sign_in


async def make_token(client, role: str = "involvement_lead") -> str:
    response = await client.api("POST", "/api/v1/api-tokens", {"name": "Reporting", "role": role})
    assert response.status_code == 201, response.text
    return response.json()["secret"]


async def test_org_admin_creates_a_token_stored_only_as_a_hash(client, make_client, world):
    org = await world.org()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)
    await sign_in(client, "admin@trust.example")
    secret = await make_token(client)
    assert secret.startswith("cpd_")
    stored = await ApiToken.get()
    assert stored.token_hash == hash_secret(secret) and secret not in stored.token_hash
    assert await AuditEvent.filter(action="api_token.create").exists()

    robot = make_client()
    me = await robot.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["roles"] == ["involvement_lead"]
    assert me.json()["organisation"]["id"] == org.id
    # Tokens need no CSRF header: they are not sent automatically by browsers.
    teams = await robot.http.post(
        "/api/v1/teams", json={"name": "A team"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert teams.status_code == 403  # the token's role is lead, not admin

    revoke = await client.api("POST", f"/api/v1/api-tokens/{stored.id}/revoke", {})
    assert revoke.status_code == 200 and revoke.json()["revoked_at"]
    after = await robot.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert after.status_code == 401


async def test_a_token_cannot_make_tokens(client, make_client, world):
    org = await world.org()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    await sign_in(client, "admin@trust.example")
    secret = await make_token(client, "org_admin")
    robot = make_client()
    response = await robot.http.post(
        "/api/v1/api-tokens",
        json={"name": "x", "role": "org_admin"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 403


async def test_a_token_opens_no_html_page(client, make_client, world):
    org = await world.org()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    await sign_in(client, "admin@trust.example")
    secret = await make_token(client, "org_admin")
    robot = make_client()
    page = await robot.http.get("/admin/api-tokens", headers={"Authorization": f"Bearer {secret}"})
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
    token = await robot.csrf("/sign-in")
    post = await robot.http.post(
        "/admin/api-tokens",
        data={"name": "sneaky", "role": "org_admin", "csrf_token": token},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert post.status_code == 303
    assert await ApiToken.all().count() == 1


async def test_a_token_loses_power_when_its_creator_loses_the_role(client, make_client, world):
    from coprod.models import Membership

    org = await world.org()
    admin = await world.user(org, "admin@trust.example", Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)
    await sign_in(client, "admin@trust.example")
    secret = await make_token(client)
    await Membership.filter(user=admin, role=Role.INVOLVEMENT_LEAD).delete()
    robot = make_client()
    r = await robot.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401


async def test_bad_input_is_422_field_by_field_and_nothing_is_saved(client, world):
    from coprod.models import Team

    org = await world.org()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    await sign_in(client, "admin@trust.example")
    empty = await client.api("POST", "/api/v1/api-tokens", {"name": "", "role": "emperor"})
    assert empty.status_code == 422
    errors = {e["field"]: e["message"] for e in empty.json()["errors"]}
    assert errors == {
        "name": "Enter a name for the token",
        "role": "Select what the token may do",
    }
    assert await ApiToken.all().count() == 0
    not_json = await client.http.post(
        "/api/v1/teams",
        content=b"{not json",
        headers={"X-CSRF-Token": await client.csrf("/"), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422
    assert not_json.json()["errors"][0]["message"] == "The request body must be valid JSON"
    not_object = await client.api("POST", "/api/v1/teams", ["a list"])
    assert not_object.status_code == 422
    duplicate = await client.api("POST", "/api/v1/teams", {"name": "Crisis"})
    assert duplicate.status_code == 201
    again = await client.api("POST", "/api/v1/teams", {"name": "Crisis"})
    assert again.status_code == 422
    assert again.json()["errors"] == [
        {"field": "name", "message": "This organisation already has a team with this name"}
    ]
    assert await Team.all().count() == 1


async def test_another_organisations_records_are_404(client, make_client, world):
    mine = await world.org("Mine")
    theirs = await world.org("Theirs")
    await world.user(mine, "admin@trust.example", Role.ORG_ADMIN)
    await world.user(theirs, "other@trust.example", Role.ORG_ADMIN)
    other = make_client()
    await sign_in(other, "other@trust.example")
    their_token = (
        await other.api("POST", "/api/v1/api-tokens", {"name": "t", "role": "reporter"})
    ).json()

    await sign_in(client, "admin@trust.example")
    assert (await client.get(f"/api/v1/organisations/{theirs.id}")).status_code == 404
    assert (await client.get(f"/api/v1/organisations/{mine.id}")).status_code == 200
    revoke = await client.api("POST", f"/api/v1/api-tokens/{their_token['id']}/revoke", {})
    assert revoke.status_code == 404
    assert revoke.json() == {
        "errors": [{"field": None, "message": "There is no such record in your organisation"}]
    }
    page = await client.post_form(
        f"/admin/api-tokens/{their_token['id']}/revoke", {}, token_from="/admin/api-tokens"
    )
    assert page.status_code == 404 and "Page not found" in page.text
    assert (await ApiToken.get(id=their_token["id"])).revoked_at is None


async def test_openapi_describes_every_operation(app, client):
    doc = (await client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    described = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/v1/"):
            path = re.sub(r":\w+\}", "}", route.path)
            served |= {(m, path) for m in route.methods - {"HEAD"}}
    assert served == described
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["summary"] and op["responses"]
            if "{" in path:
                assert "404" in op["responses"]
    assert doc["components"]["schemas"]["Errors"]["required"] == ["errors"]


async def test_org_admin_reads_the_audit_log_of_their_organisation_only(client, world):
    mine = await world.org("Mine")
    await world.org("Theirs")
    await world.user(mine, "admin@trust.example", Role.ORG_ADMIN)
    await sign_in(client, "admin@trust.example")
    await client.api("POST", "/api/v1/teams", {"name": "Crisis"})
    events = (await client.get("/api/v1/audit-events")).json()["items"]
    actions = [e["action"] for e in events]
    assert "team.create" in actions
    team_event = next(e for e in events if e["action"] == "team.create")
    assert team_event["after"]["name"] == "Crisis"
    assert team_event["actor"].startswith("Admin <admin@trust.example>")
    assert all("Theirs" not in str(e["after"]) for e in events)
    page = await client.get("/admin/audit?action=team.")
    assert "team.create" in page.text and "organisation.create" not in page.text
