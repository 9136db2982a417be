"""The typed declarations: what they refuse, what they publish, and how lists page."""

from __future__ import annotations

import datetime as dt

from coprod.models import AuditEvent, Role, Team
from tests.conftest import sign_in


async def admin_of(world, client):
    org = await world.org()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    await sign_in(client, "admin@trust.example")
    return org


def errors_by_field(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_a_body_of_the_wrong_shape_gets_plain_english_field_errors(client, world):
    await admin_of(world, client)
    wrong = await client.api(
        "POST", "/api/v1/api-tokens", {"name": ["a", "list"], "role": 7, "colour": "blue"}
    )
    assert wrong.status_code == 422
    assert errors_by_field(wrong) == {
        "name": "A name for the token must be text",
        "role": "Select what the token may do",
        "colour": "Remove this field: it is not one this takes",
    }
    too_long = await client.api("POST", "/api/v1/teams", {"name": "x" * 101})
    assert errors_by_field(too_long) == {"name": "The team's name must be 100 characters or fewer"}
    blank = await client.api("POST", "/api/v1/teams", {"name": "   "})
    assert errors_by_field(blank) == {"name": "Enter the team's name"}
    assert await Team.all().count() == 0


async def test_the_published_document_comes_from_the_declarations(client, world):
    await admin_of(world, client)
    doc = (await client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    team_input = schemas["TeamInput"]
    assert team_input["required"] == ["name"]
    assert team_input["properties"]["name"]["maxLength"] == 100
    assert team_input["additionalProperties"] is False
    listing = doc["paths"]["/api/v1/audit-events"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 200
    assert params["limit"]["schema"]["minimum"] == 1
    assert "cursor" in params
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[page.rsplit("/", 1)[-1]]["properties"]) == {"items", "next_cursor"}
    # Every operation declares its reply, and every error reply has the one errors shape.
    for path, methods in doc["paths"].items():
        for method, entry in methods.items():
            assert "200" in entry["responses"] or "201" in entry["responses"], (method, path)
            assert entry["responses"]["422"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Errors"
            }


async def test_a_list_pages_with_a_cursor_without_gaps_or_repeats(client, world):
    org = await admin_of(world, client)
    for n in range(7):
        await Team.create(organisation=org, name=f"Team {n:02d}")
    seen: list[str] = []
    url = "/api/v1/teams?limit=3"
    pages = 0
    while url:
        reply = (await client.get(url)).json()
        assert len(reply["items"]) <= 3
        seen += [t["name"] for t in reply["items"]]
        pages += 1
        url = f"/api/v1/teams?limit=3&cursor={reply['next_cursor']}" if reply["next_cursor"] else ""
    assert seen == [f"Team {n:02d}" for n in range(7)]
    assert pages == 3


async def test_paging_by_time_survives_new_rows_and_equal_times(client, world):
    org = await admin_of(world, client)
    # Rows made in one go can share a creation time: the id breaks the tie.
    now = dt.datetime.now(dt.UTC)
    for n in range(4):
        await AuditEvent.create(
            organisation=org, actor_label="x", action=f"test.{n}", entity_type="test"
        )
    await AuditEvent.filter(organisation=org).update(created_at=now)
    everything = (await client.get("/api/v1/audit-events?limit=200")).json()["items"]
    walked = []
    reply = (await client.get("/api/v1/audit-events?limit=2")).json()
    walked += reply["items"]
    # A row added between pages (newest first) does not shift what comes next.
    await AuditEvent.create(organisation=org, actor_label="x", action="late", entity_type="test")
    while reply["next_cursor"]:
        reply = (
            await client.get(f"/api/v1/audit-events?limit=2&cursor={reply['next_cursor']}")
        ).json()
        walked += reply["items"]
    assert [e["id"] for e in walked] == [e["id"] for e in everything]
    assert len(walked) >= 5


async def test_limits_and_cursors_are_checked(client, world):
    await admin_of(world, client)
    for query, field in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=lots", "limit"),
        ("cursor=made-up", "cursor"),
        ("cursor=eyJrIjpbMV19.0000", "cursor"),
    ]:
        reply = await client.get(f"/api/v1/audit-events?{query}")
        assert reply.status_code == 422, query
        assert field in errors_by_field(reply), query
    # A cursor from one list is not a cursor for a list of another kind.
    for n in range(3):
        await client.api("POST", "/api/v1/teams", {"name": f"T{n}"})
    teams = (await client.get("/api/v1/teams?limit=1")).json()
    reply = await client.get(f"/api/v1/outbox?cursor={teams['next_cursor']}")
    assert reply.status_code == 422


def test_every_operation_has_its_own_id() -> None:
    # Clients and schemathesis pick operations by id; two handlers of one name would clash.
    from coprod.web.api.registry import api

    names = [op.handler.__name__ for op in api.operations]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
