"""The bookings API beyond booking itself: access arrangements, catch-ups, wellbeing-check
notes, a representative's own bookings and calendar feed, paging, and the OpenAPI entries.
Real database, the app in-process, real sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.models import (
    AccessArrangement,
    Activity,
    AuditEvent,
    Booking,
    Representative,
    Role,
)
from tests.conftest import sign_in
from tests.openapi_doc import assert_described, operations_tagged, resolve
from tests.test_activities_api import (
    as_representative,
    at,
    booked,
    contracted_rep,
    create_activity,
    recently_unwell,
    utc,
)
from tests.test_representatives_api import create_contract, create_rep, errors_of, lead_of


async def other_lead(world: Any, make_client: Any) -> Any:
    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    return other


async def test_a_lead_reads_a_bookings_checklist_and_ticks_it_off(client, make_client, world):
    await lead_of(world, client)
    rep = await contracted_rep(
        client,
        full_name="Eve Fox",
        email="eve@people.example",
        contact_channels=["email"],
        formats=["large_print", "easy_read"],
    )
    # Three days away: the papers were due a week before, so both are already overdue.
    activity = await create_activity(client, starts_at=at(3, 10))
    booking = await booked(client, activity["id"], rep["id"])
    url = f"/api/v1/bookings/{booking['id']}/arrangements"

    first = await client.get(f"{url}?limit=1")
    assert first.status_code == 200, first.text
    assert first.json()["next_cursor"]
    rest = (await client.get(f"{url}?limit=1&cursor={first.json()['next_cursor']}")).json()
    assert rest["next_cursor"] is None
    items = first.json()["items"] + rest["items"]
    assert {i["label"] for i in items} == {"Large print papers sent", "Easy read papers sent"}
    week_before = (clock.today() + dt.timedelta(days=3 - 7)).isoformat()
    assert all(i["due_on"] == week_before and i["done_at"] is None for i in items)
    overdue = (await client.get("/api/v1/arrangements/overdue")).json()["items"]
    assert {o["id"] for o in overdue} == {i["id"] for i in items}
    assert {o["name"] for o in overdue} == {"Eve Fox"}

    large_print = next(i for i in items if i["kind"] == "large_print")
    ticked = await client.api(
        "POST", f"/api/v1/arrangements/{large_print['id']}/tick", {"done": True}
    )
    assert ticked.status_code == 200, ticked.text
    assert ticked.json()["done_at"] and ticked.json()["done_on_time"] is False
    stored = await AccessArrangement.get(id=large_print["id"])
    assert stored.done_at is not None and stored.done_by_id is not None
    event = await AuditEvent.get(action="arrangement.tick")
    assert event.after == {"done": True, "label": "Large print papers sent"}
    overdue = (await client.get("/api/v1/arrangements/overdue")).json()["items"]
    assert [o["kind"] for o in overdue] == ["easy_read"]

    undone = await client.api(
        "POST", f"/api/v1/arrangements/{large_print['id']}/tick", {"done": False}
    )
    assert undone.status_code == 200 and undone.json()["done_at"] is None
    assert (await AccessArrangement.get(id=large_print["id"])).done_at is None

    # Bad input is a field error, and nothing changes.
    for body, message in (
        ({}, "Enter whether it is done"),
        ({"done": "perhaps"}, "Whether it is done must be true or false"),
    ):
        bad = await client.api("POST", f"/api/v1/arrangements/{large_print['id']}/tick", body)
        assert bad.status_code == 422 and errors_of(bad) == {"done": message}
    assert (await AccessArrangement.get(id=large_print["id"])).done_at is None

    # Another organisation's lead sees none of it; the person booked may not tick.
    other = await other_lead(world, make_client)
    assert (await other.get(url)).status_code == 404
    theirs = await other.api(
        "POST", f"/api/v1/arrangements/{large_print['id']}/tick", {"done": True}
    )
    assert theirs.status_code == 404
    assert (await other.get("/api/v1/arrangements/overdue")).json()["items"] == []
    eve = await as_representative(make_client, "eve@people.example")
    own = await eve.api("POST", f"/api/v1/arrangements/{large_print['id']}/tick", {"done": True})
    assert own.status_code == 403
    assert (await eve.get(url)).status_code == 403
    assert (await AccessArrangement.get(id=large_print["id"])).done_at is None
    assert await AuditEvent.filter(action="arrangement.tick").count() == 2


async def test_a_lead_books_a_catch_up_for_a_contract(client, make_client, world):
    await lead_of(world, client)
    rep = await create_rep(client, full_name="Gil Hart", email="gil@people.example")
    contract = await create_contract(client, rep["id"], starts_on=clock.today().isoformat())
    url = f"/api/v1/contracts/{contract['id']}/book-catch-up"

    # Typed input first, then the service's own rules: each is a field error, nothing saved.
    empty = await client.api("POST", url, {"mode": "carrier pigeon"})
    assert empty.status_code == 422
    assert errors_of(empty) == {
        "starts_at": "Enter the date and time it starts",
        "mode": "Select how you will meet",
    }
    no_link = await client.api("POST", url, {"starts_at": at(5, 14), "mode": "video"})
    assert no_link.status_code == 422
    assert errors_of(no_link) == {"video_link": "Enter the video link"}
    past = await client.api(
        "POST", url, {"starts_at": at(-1, 14), "mode": "phone", "dial_in": "01632 960 001"}
    )
    assert past.status_code == 422
    assert errors_of(past) == {"starts_at": "The start must be in the future"}
    assert await Activity.all().count() == 0 and await Booking.all().count() == 0

    made = await client.api(
        "POST",
        url,
        {"starts_at": at(5, 14), "mode": "video", "video_link": "https://meet.example/gil"},
    )
    assert made.status_code == 201, made.text
    booking = made.json()
    assert booking["representative_id"] == rep["id"] and booking["status"] == "confirmed"
    assert booking["mode"] == "video" and booking["starts_at"] == utc(at(5, 14)).isoformat()
    activity = await Activity.get(id=booking["activity_id"])
    assert activity.kind == "catch_up" and activity.title == "Catch-up with Gil Hart"
    assert activity.capacity == 1 and activity.video_link == "https://meet.example/gil"
    assert await AuditEvent.filter(action="activity.create", entity_id=str(activity.id)).exists()

    # Another organisation's lead gets a 404; the person themself may not book it.
    other = await other_lead(world, make_client)
    body = {"starts_at": at(6, 14), "mode": "phone", "dial_in": "01632 960 001"}
    assert (await other.api("POST", url, body)).status_code == 404
    await client.api(
        "POST", f"/api/v1/representatives/{rep['id']}/consents", {"purpose": "contact"}
    )
    gil = await as_representative(make_client, "gil@people.example")
    assert (await gil.api("POST", url, body)).status_code == 403
    assert await Booking.all().count() == 1


async def test_reading_wellbeing_check_notes_is_audited(client, make_client, world):
    org, rep, activity = await recently_unwell(client, world)
    booking = await booked(client, activity["id"], rep["id"])
    assert booking["status"] == "needs_wellbeing_check"
    url = f"/api/v1/bookings/{booking['id']}/wellbeing-checks"
    assert (await client.get(url)).json() == {"items": [], "next_cursor": None}

    bad = await client.api(
        "POST",
        f"/api/v1/bookings/{booking['id']}/wellbeing-check",
        {"outcome": "maybe", "note": " ", "representative_wish": "x" * 2001},
    )
    assert bad.status_code == 422
    assert errors_of(bad) == {
        "outcome": "Select the outcome of the conversation",
        "note": "Enter a note of the conversation",
        "representative_wish": "What they want to do must be 2000 characters or fewer",
    }
    recorded = await client.api(
        "POST",
        f"/api/v1/bookings/{booking['id']}/wellbeing-check",
        {"outcome": "proceed", "note": "Feeling well", "representative_wish": "By video"},
    )
    assert recorded.status_code == 201, recorded.text

    views = await AuditEvent.filter(action="health.view").count()
    shown = await client.get(url)
    assert shown.status_code == 200, shown.text
    [check] = shown.json()["items"]
    assert check["outcome"] == "proceed" and check["note"] == "Feeling well"
    assert check["representative_wish"] == "By video"
    assert await AuditEvent.filter(action="health.view").count() == views + 1
    event = await AuditEvent.filter(action="health.view").order_by("-id").first()
    assert event is not None and event.entity_id == str(booking["id"])

    other = await other_lead(world, make_client)
    assert (await other.get(url)).status_code == 404
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    reporter = make_client()
    await sign_in(reporter, "reporter@trust.example")
    assert (await reporter.get(url)).status_code == 404
    assert await AuditEvent.filter(action="health.view").count() == views + 1


async def test_a_representative_reads_their_bookings_and_calendar_feed(client, make_client, world):
    await lead_of(world, client)
    rep = await contracted_rep(
        client, full_name="Fay Green", email="fay@people.example", contact_channels=["email"]
    )
    await client.api(
        "POST", f"/api/v1/representatives/{rep['id']}/consents", {"purpose": "contact"}
    )
    soon = await create_activity(client, title="Budget panel", starts_at=at(9, 13))
    later = await create_activity(client, title="Peer review", starts_at=at(20, 10))
    first = await booked(client, soon["id"], rep["id"])
    second = await booked(client, later["id"], rep["id"])

    fay = await as_representative(make_client, "fay@people.example")
    mine = await fay.get("/api/v1/my/bookings?limit=1")
    assert mine.status_code == 200, mine.text
    assert [(b["id"], b["title"]) for b in mine.json()["items"]] == [(first["id"], "Budget panel")]
    rest = (await fay.get(f"/api/v1/my/bookings?cursor={mine.json()['next_cursor']}")).json()
    assert [b["id"] for b in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    upcoming = (await fay.get("/api/v1/my/bookings?when=upcoming")).json()["items"]
    assert len(upcoming) == 2
    assert (await fay.get("/api/v1/my/bookings?when=past")).json()["items"] == []
    bad = await fay.get("/api/v1/my/bookings?when=someday")
    assert bad.status_code == 422 and errors_of(bad) == {"when": "Select upcoming or past"}

    assert (await fay.get("/api/v1/my/calendar-feed")).json() == {"url": None}
    made = await fay.api("POST", "/api/v1/my/calendar-feed", {})
    assert made.status_code == 200, made.text
    token = (await Representative.get(id=rep["id"])).calendar_token
    assert made.json()["url"] == f"http://testserver/calendar/{token}.ics"
    assert (await fay.get("/api/v1/my/calendar-feed")).json() == made.json()
    event = await AuditEvent.get(action="calendar_feed.reset")
    assert event.entity_id == str(rep["id"])
    feed = await fay.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and first["uid"] in feed.text
    not_a_body = await fay.api("POST", "/api/v1/my/calendar-feed", {"url": "mine"})
    assert not_a_body.status_code == 422
    assert (await Representative.get(id=rep["id"])).calendar_token == token

    # These are a representative's own: a lead has none.
    assert (await client.get("/api/v1/my/bookings")).status_code == 403
    assert (await client.api("POST", "/api/v1/my/calendar-feed", {})).status_code == 403


async def test_booking_lists_page_by_cursor_within_bounds(client, world):
    await lead_of(world, client)
    # Phone-only and not agreed to be contacted: both are on the call list.
    ann = await contracted_rep(client, full_name="Ann Able", phone="01632 960 100")
    bob = await contracted_rep(client, full_name="Bob Baker", phone="01632 960 200")
    activity = await create_activity(client, starts_at=at(4, 10))
    made = [await booked(client, activity["id"], r["id"], "phone") for r in (ann, bob)]

    url = f"/api/v1/activities/{activity['id']}/bookings"
    page = (await client.get(f"{url}?limit=1")).json()
    rest = (await client.get(f"{url}?limit=1&cursor={page['next_cursor']}")).json()
    assert [b["id"] for b in page["items"] + rest["items"]] == [b["id"] for b in made]
    assert rest["next_cursor"] is None

    calls = (await client.get("/api/v1/call-list?limit=1")).json()
    more = (await client.get(f"/api/v1/call-list?cursor={calls['next_cursor']}")).json()
    both = calls["items"] + more["items"]
    assert {c["name"] for c in both} == {"Ann Able", "Bob Baker"}
    assert {c["booking_id"] for c in both} == {b["id"] for b in made}
    assert both[0]["phone"].startswith("01632") and both[0]["starts_at"] == made[0]["starts_at"]

    for query, field in (("limit=0", "limit"), ("limit=201", "limit"), ("cursor=x.y", "cursor")):
        refused = await client.get(f"{url}?{query}")
        assert refused.status_code == 422 and set(errors_of(refused)) == {field}


async def test_openapi_describes_the_bookings_operations(client):
    doc = (await client.get("/api/v1/openapi.json")).json()
    expected = {
        ("get", "/api/v1/activities/{id}/bookings"),
        ("post", "/api/v1/activities/{id}/bookings"),
        ("get", "/api/v1/bookings/{id}"),
        ("patch", "/api/v1/bookings/{id}"),
        ("post", "/api/v1/bookings/{id}/cancel"),
        ("post", "/api/v1/bookings/{id}/wellbeing-check"),
        ("get", "/api/v1/bookings/{id}/wellbeing-checks"),
        ("get", "/api/v1/bookings/{id}/arrangements"),
        ("post", "/api/v1/arrangements/{id}/tick"),
        ("get", "/api/v1/arrangements/overdue"),
        ("post", "/api/v1/contracts/{id}/book-catch-up"),
        ("get", "/api/v1/my/bookings"),
        ("get", "/api/v1/my/calendar-feed"),
        ("post", "/api/v1/my/calendar-feed"),
        ("get", "/api/v1/representatives/{id}/calendar.ics"),
        ("post", "/api/v1/representatives/{id}/calendar-token"),
        ("get", "/api/v1/call-list"),
        ("post", "/api/v1/received-texts/{id}/dealt-with"),
        ("post", "/api/v1/received-texts/{id}/dealt-with"),
    }
    assert operations_tagged(doc, "bookings") == expected
    assert_described(doc, expected)

    def schema_of(ref: dict[str, Any]) -> dict[str, Any]:
        return resolve(doc, ref)

    calendar = doc["paths"]["/api/v1/representatives/{id}/calendar.ics"]["get"]
    assert set(calendar["responses"]["200"]["content"]) == {"text/calendar"}
    booking = doc["paths"]["/api/v1/bookings/{id}"]["get"]["responses"]["200"]
    booking_schema = schema_of(booking["content"]["application/json"]["schema"])
    assert "wellbeing_flag_reason" in booking_schema["properties"]
    assert "409" in doc["paths"]["/api/v1/activities/{id}/bookings"]["post"]["responses"]
    catch_up = doc["paths"]["/api/v1/contracts/{id}/book-catch-up"]["post"]
    body = schema_of(catch_up["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"starts_at", "mode"}
    assert "involvement_lead" in catch_up["description"]
    mine = doc["paths"]["/api/v1/my/bookings"]["get"]
    assert {p["name"] for p in mine["parameters"]} == {"limit", "cursor", "when"}
