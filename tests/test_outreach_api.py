"""Outreach through the JSON API: the same rules and messages as the pages, the interest each
brought in, and who may call it."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from coprod import clock
from coprod.models import AuditEvent, Outreach, Role
from tests import recruitment_rows
from tests.conftest import sign_in
from tests.openapi_doc import assert_described, operations_tagged
from tests.test_outreach import good_form, signed_in_lead
from tests.test_representatives_api import errors_of

A = "/api/v1"


def body(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "community_centre",
        "held_on": (clock.today() - dt.timedelta(days=2)).isoformat(),
        "place": "Westgate community centre",
        "people_reached": 30,
        **changes,
    }


async def test_a_lead_logs_outreach_with_the_pages_messages(client, world):
    org = await signed_in_lead(world, client)
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    for sent, page_form in (
        ({}, {}),
        (body(held_on=tomorrow), good_form(**{"held_on[day]": "", "held_on": tomorrow})),
        (body(people_reached=-1), good_form(people_reached="-1")),
        (body(place="x" * 201), good_form(place="x" * 201)),
    ):
        refused = await client.api("POST", f"{A}/outreach", sent)
        assert refused.status_code == 422, refused.text
        page = await client.post_form("/outreach/new", page_form)
        assert page.status_code == 422
        for message in errors_of(refused).values():
            assert message in html.unescape(page.text)
    assert set(errors_of(await client.api("POST", f"{A}/outreach", {}))) == {
        "kind",
        "held_on",
        "place",
        "people_reached",
    }
    future = await client.api("POST", f"{A}/outreach", body(held_on=tomorrow))
    assert errors_of(future) == {"held_on": "The date must be today or in the past"}
    assert await Outreach.all().count() == 0

    made = await client.api("POST", f"{A}/outreach", body(note="Leaflets left at reception"))
    assert made.status_code == 201, made.text
    found = made.json()
    assert found["kind"] == "community_centre" and found["people_reached"] == 30
    assert found["interests"] == 0 and found["team_id"] is None
    assert await AuditEvent.exists(action="outreach.create")

    for name in ("Ann", "Bea"):
        await recruitment_rows.interest(org.id, name, outreach_id=found["id"])
    one = (await client.api("GET", f"{A}/outreach/{found['id']}")).json()
    assert one["interests"] == 2

    changed = await client.api("PATCH", f"{A}/outreach/{found['id']}", {"people_reached": 35})
    assert changed.json()["people_reached"] == 35 and changed.json()["place"] == found["place"]
    wrong = await client.api("PATCH", f"{A}/outreach/{found['id']}", {"held_on": tomorrow})
    assert errors_of(wrong) == {"held_on": "The date must be today or in the past"}

    await client.api("POST", f"{A}/outreach", body(kind="online", place="Facebook group"))
    listed = (await client.api("GET", f"{A}/outreach")).json()["items"]
    assert [o["place"] for o in listed] == ["Facebook group", "Westgate community centre"]
    assert [o["interests"] for o in listed] == [0, 2]
    online = (await client.api("GET", f"{A}/outreach?kind=online")).json()["items"]
    assert [o["place"] for o in online] == ["Facebook group"]
    early = (clock.today() - dt.timedelta(days=10)).isoformat()
    none = (await client.api("GET", f"{A}/outreach?end={early}")).json()["items"]
    assert none == []
    backwards = await client.api("GET", f"{A}/outreach?start={tomorrow}&end={early}")
    assert errors_of(backwards) == {
        "end": "The end date must be the same as or after the start date"
    }

    gone = await client.api("DELETE", f"{A}/outreach/{found['id']}")
    assert gone.status_code == 200 and gone.json() == {"id": found["id"]}
    assert (await client.api("GET", f"{A}/outreach/{found['id']}")).status_code == 404


async def test_another_organisation_gets_404_and_other_staff_403(client, make_client, world):
    org = await signed_in_lead(world, client)
    made = (await client.api("POST", f"{A}/outreach", body())).json()
    other = make_client()
    await signed_in_lead(world, other, "Southshire NHS Trust")
    for method, sent in (("GET", None), ("PATCH", {"place": "Elsewhere"}), ("DELETE", None)):
        response = await other.api(method, f"{A}/outreach/{made['id']}", sent)
        assert response.status_code == 404, method
    assert (await other.api("GET", f"{A}/outreach")).json()["items"] == []

    reporter = make_client()
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    await sign_in(reporter, "reporter@trust.example")
    assert (await reporter.api("GET", f"{A}/outreach")).status_code == 403
    assert (await reporter.api("POST", f"{A}/outreach", body())).status_code == 403
    assert (await reporter.api("DELETE", f"{A}/outreach/{made['id']}")).status_code == 403
    assert (await Outreach.get(id=made["id"])).place == "Westgate community centre"


async def test_the_operations_are_described(client):
    doc = (await client.get("/api/v1/openapi.json")).json()
    expected = {
        ("get", "/api/v1/outreach"),
        ("post", "/api/v1/outreach"),
        ("get", "/api/v1/outreach/{id}"),
        ("patch", "/api/v1/outreach/{id}"),
        ("delete", "/api/v1/outreach/{id}"),
    }
    assert operations_tagged(doc, "outreach") == expected
    assert_described(doc, expected)
