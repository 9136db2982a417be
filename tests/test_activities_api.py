"""The activities and bookings API: real database, the app in-process, real sign-in."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import vobject
from markupsafe import escape

from coprod import clock
from coprod.models import (
    AccessArrangement,
    Activity,
    AuditEvent,
    Booking,
    Invitation,
    OutboxMessage,
    Representative,
    Role,
    TimeOption,
    User,
    WellbeingCheck,
)
from coprod.services import auth, polls, projects, wellbeing
from tests.conftest import sign_in
from tests.openapi_doc import assert_described, operations_tagged, resolve
from tests.test_representatives_api import LEAD, create_contract, create_rep, errors_of, lead_of

LONDON = ZoneInfo("Europe/London")
NO_MODE = (
    "Select at least one way to take part. "
    "A phone option helps people who cannot travel or use video"
)


def at(days: int, hour: int = 10, minute: int = 0) -> str:
    """A time in England `days` from today, as a datetime-local input would send it."""
    day = clock.today() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute)).isoformat()


def utc(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=LONDON).astimezone(dt.UTC)


def activity_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Service design workshop",
        "description": "Redesigning the crisis line together",
        "kind": "meeting",
        "category": "co_design",
        "duration_minutes": 120,
        "capacity": 10,
        "video": True,
        "video_link": "https://meet.example/room-1",
        "phone": True,
        "dial_in": "01632 960 000",
        "dial_in_pin": "4321",
    }
    return {**body, **overrides}


async def create_activity(client: Any, **overrides: Any) -> dict[str, Any]:
    response = await client.api("POST", "/api/v1/activities", activity_body(**overrides))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def contracted_rep(client: Any, **overrides: Any) -> dict[str, Any]:
    rep = await create_rep(client, **overrides)
    await create_contract(client, rep["id"], starts_on=clock.today().isoformat())
    return rep


async def agree_to_contact(client: Any, rep_id: int) -> None:
    response = await client.api(
        "POST", f"/api/v1/representatives/{rep_id}/consents", {"purpose": "contact"}
    )
    assert response.status_code == 201, response.text


async def with_email(client: Any, name: str, email: str) -> dict[str, Any]:
    """Someone on email who agreed to be contacted."""
    rep = await contracted_rep(client, full_name=name, email=email, contact_channels=["email"])
    await agree_to_contact(client, rep["id"])
    return rep


async def book(client: Any, activity_id: int, rep_id: int, mode: str = "video") -> Any:
    return await client.api(
        "POST",
        f"/api/v1/activities/{activity_id}/bookings",
        {"representative_id": rep_id, "mode": mode},
    )


async def booked(client: Any, activity_id: int, rep_id: int, mode: str = "video") -> dict[str, Any]:
    response = await book(client, activity_id, rep_id, mode)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def as_representative(make_client: Any, email: str) -> Any:
    """Representatives have no password: start the session a sign-in link would start."""
    rep_client = make_client()
    user = await User.get(email=email)
    rep_client.http.cookies.set("coprod_session", await auth.start_session(user))
    return rep_client


async def test_finding_a_time_then_booking_everyone_by_the_way_they_asked(client, world):
    await lead_of(world, client)
    ann = await contracted_rep(client, full_name="Ann Able")  # phone only
    bob = await with_email(client, "Bob Baker", "bob@people.example")
    cy = await contracted_rep(client, full_name="Cy Young")

    activity = await create_activity(client)
    assert activity["status"] == "planning" and activity["starts_at"] is None
    assert activity["modes"] == ["phone", "video"]

    times = [at(14, 10), at(15, 14), at(16, 18, 30)]
    added = await client.api(
        "POST", f"/api/v1/activities/{activity['id']}/options", {"options": times}
    )
    assert added.status_code == 201, added.text
    assert [o["starts_at"] for o in added.json()["items"]] == [utc(t).isoformat() for t in times]
    listed = (await client.get(f"/api/v1/activities/{activity['id']}/options")).json()["items"]
    assert listed == added.json()["items"]
    o1, o2, o3 = (o["id"] for o in listed)

    invited = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/invitations",
        {"representative_ids": [ann["id"], bob["id"]]},
    )
    assert invited.status_code == 201, invited.text
    assert {i["representative_id"] for i in invited.json()["items"]} == {ann["id"], bob["id"]}
    # Only Bob has email, so only Bob is sent a link to answer.
    assert [m.to_address for m in await OutboxMessage.all()] == ["bob@people.example"]

    # The lead answers for Ann after a phone call.
    answered = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/answers",
        {
            "representative_id": ann["id"],
            "answers": {str(o1): "yes", str(o2): "if_need_be", str(o3): "no"},
            "mode": "phone",
            "comment": "Mornings suit me best",
        },
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["answers"] == {str(o1): "yes", str(o2): "if_need_be", str(o3): "no"}
    assert answered.json()["mode"] == "phone" and answered.json()["answered_at"]
    event = await AuditEvent.get(action="invitation.answer")
    assert event.on_behalf_of == "Ann Able"
    # Someone not invited cannot be answered for; an answer missing is a field error.
    stranger = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/answers",
        {"representative_id": cy["id"], "answers": {str(o1): "yes"}, "mode": "phone"},
    )
    assert stranger.status_code == 404
    partial = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/answers",
        {"representative_id": ann["id"], "answers": {str(o1): "yes"}, "mode": "phone"},
    )
    assert partial.status_code == 422
    assert set(errors_of(partial)) == {f"answer_{o2}", f"answer_{o3}"}

    # Bob answers through his own link.
    invitation = await Invitation.get(representative_id=bob["id"])
    await polls.record_answers(
        None,
        invitation,
        {"answers": {str(o1): "yes", str(o2): "no", str(o3): "no"}, "mode": "video"},
    )

    grid = await client.get(f"/api/v1/activities/{activity['id']}/answers")
    assert grid.status_code == 200
    totals = {o["id"]: o["totals"] for o in grid.json()["options"]}
    assert totals == {
        o1: {"yes": 2, "if_need_be": 0, "no": 0, "can_come": 2},
        o2: {"yes": 0, "if_need_be": 1, "no": 1, "can_come": 1},
        o3: {"yes": 0, "if_need_be": 0, "no": 2, "can_come": 0},
    }
    rows = {r["representative_id"]: r for r in grid.json()["invitees"]}
    assert set(rows) == {ann["id"], bob["id"]}
    assert rows[ann["id"]]["mode"] == "phone" and rows[bob["id"]]["mode"] == "video"
    assert rows[ann["id"]]["comment"] == "Mornings suit me best"
    assert rows[bob["id"]]["answers"] == {str(o1): "yes", str(o2): "no", str(o3): "no"}
    ann_cells = {c["option_id"]: c for c in rows[ann["id"]]["cells"]}
    assert ann_cells[o2] == {
        "option_id": o2,
        "answer": "if_need_be",
        "cannot_do": False,
        "on_break": False,
        "no_contract": False,
        "wellbeing_flag": False,
    }

    finalised = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/finalise",
        {"option_id": o1, "representative_ids": [ann["id"], bob["id"]]},
    )
    assert finalised.status_code == 200, finalised.text
    assert finalised.json()["activity"]["status"] == "scheduled"
    assert finalised.json()["activity"]["starts_at"] == utc(times[0]).isoformat()
    outcomes = {o["representative_id"]: o for o in finalised.json()["items"]}
    assert {rid: (o["status"], o["mode"], o["refused"]) for rid, o in outcomes.items()} == {
        ann["id"]: ("confirmed", "phone", []),
        bob["id"]: ("confirmed", "video", []),
    }

    bookings = (await client.get(f"/api/v1/activities/{activity['id']}/bookings")).json()
    by_rep = {b["representative_id"]: b for b in bookings["items"]}
    assert {rid: b["mode"] for rid, b in by_rep.items()} == {ann["id"]: "phone", bob["id"]: "video"}
    ann_booking = by_rep[ann["id"]]
    assert ann_booking["id"] == outcomes[ann["id"]]["booking_id"]
    assert ann_booking["starts_at"] == utc(times[0]).isoformat()
    assert ann_booking["ends_at"] == (utc(times[0]) + dt.timedelta(minutes=120)).isoformat()
    assert ann_booking["wellbeing_flag_reason"] is None
    assert await Booking.filter(activity_id=activity["id"], status="confirmed").count() == 2

    # A time has been chosen: choosing again, or adding options, is refused.
    again = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/finalise",
        {"option_id": o2, "representative_ids": [ann["id"]]},
    )
    assert again.status_code == 409
    assert (await Activity.get(id=activity["id"])).starts_at == utc(times[0])

    # Ann would rather join by video after all.
    changed = await client.api("PATCH", f"/api/v1/bookings/{ann_booking['id']}", {"mode": "video"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["mode"] == "video" and changed.json()["sequence"] == 1
    not_offered = await client.api(
        "PATCH", f"/api/v1/bookings/{ann_booking['id']}", {"mode": "in_person"}
    )
    assert not_offered.status_code == 422 and set(errors_of(not_offered)) == {"mode"}
    assert (await Booking.get(id=ann_booking["id"])).mode == "video"


async def test_direct_booking_refuses_an_overlap_and_a_full_activity(client, world):
    org = await lead_of(world, client)
    ann = await contracted_rep(client, full_name="Ann Able")
    bob = await contracted_rep(client, full_name="Bob Baker")

    panel = await create_activity(
        client, title="Interview panel", kind="interview_panel", capacity=1, starts_at=at(10, 10)
    )
    assert panel["status"] == "scheduled"
    assert panel["starts_at"] == utc(at(10, 10)).isoformat()
    assert panel["ends_at"] == utc(at(10, 12)).isoformat()

    first = await booked(client, panel["id"], ann["id"], "phone")
    assert first["status"] == "confirmed" and first["mode"] == "phone"
    assert first["uid"].endswith("@coprod") and first["sequence"] == 0
    assert first["starts_at"] == panel["starts_at"] and first["ends_at"] == panel["ends_at"]

    full = await book(client, panel["id"], bob["id"])
    assert full.status_code == 409
    assert full.json() == {
        "errors": [{"field": "representative_id", "message": "This activity is full"}]
    }

    # 11:00 to 13:00 overlaps Ann's 10:00 to 12:00.
    review = await create_activity(client, title="Peer review", starts_at=at(10, 11))
    clash = await book(client, review["id"], ann["id"])
    assert clash.status_code == 409
    assert errors_of(clash) == {
        "representative_id": "They already have a confirmed booking at this time"
    }
    assert await Booking.all().count() == 1

    bob_booking = await booked(client, review["id"], bob["id"])
    # Moving the review clear of the panel sends Bob the change and lets Ann book.
    moved = await client.api(
        "PATCH",
        f"/api/v1/activities/{review['id']}",
        {"starts_at": at(12, 14), "title": "Peer review (moved)"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == utc(at(12, 14)).isoformat()
    assert moved.json()["title"] == "Peer review (moved)"
    shown = (await client.get(f"/api/v1/bookings/{bob_booking['id']}")).json()
    assert shown["starts_at"] == utc(at(12, 14)).isoformat() and shown["sequence"] == 1
    assert (await booked(client, review["id"], ann["id"]))["status"] == "confirmed"
    # Sending the same time back changes nothing.
    same = await client.api(
        "PATCH", f"/api/v1/activities/{review['id']}", {"starts_at": at(12, 14)}
    )
    assert same.status_code == 200
    assert (await Booking.get(id=bob_booking["id"])).sequence == 1
    # A move into the past is a field error, and the other changes are not kept.
    past = await client.api(
        "PATCH",
        f"/api/v1/activities/{review['id']}",
        {"starts_at": at(-1, 14), "title": "Never saved"},
    )
    assert past.status_code == 422 and set(errors_of(past)) == {"starts_at"}
    assert (await Activity.get(id=review["id"])).title == "Peer review (moved)"

    # A planning activity has no time to book onto.
    planning = await create_activity(client, title="Still finding a time")
    not_yet = await book(client, planning["id"], bob["id"])
    assert not_yet.status_code == 409
    assert errors_of(not_yet)["representative_id"] == (
        "This activity does not have a date and time yet"
    )

    # The listing, and its filters.
    lead_user = await User.get(email=LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    project = await projects.create_project(lead, {"name": "Crisis line"})
    await client.api("PATCH", f"/api/v1/activities/{planning['id']}", {"project_id": project.id})
    listing = (await client.get("/api/v1/activities")).json()["items"]
    assert [a["title"] for a in listing] == [
        "Interview panel",
        "Peer review (moved)",
        "Still finding a time",
    ]
    scheduled = (await client.get("/api/v1/activities?status=scheduled")).json()["items"]
    assert {a["id"] for a in scheduled} == {panel["id"], review["id"]}
    in_project = (await client.get(f"/api/v1/activities?project={project.id}")).json()["items"]
    assert [a["id"] for a in in_project] == [planning["id"]]
    bad = await client.get("/api/v1/activities?status=someday")
    assert bad.status_code == 422 and set(errors_of(bad)) == {"status"}


async def test_bad_input_is_422_by_field_and_nothing_is_saved(client, world):
    await lead_of(world, client)
    empty = await client.api("POST", "/api/v1/activities", {})
    assert empty.status_code == 422
    # What the declaration requires is reported first, each field by name.
    assert errors_of(empty) == {
        "title": "Enter a title",
        "kind": "Select what kind of activity it is",
        "duration_minutes": "Enter how long it lasts, in minutes",
        "capacity": "Enter the number of places",
    }
    wrong_types = await client.api(
        "POST",
        "/api/v1/activities",
        activity_body(kind="picnic", capacity="lots", duration_minutes=5, project_id=0),
    )
    assert wrong_types.status_code == 422
    assert errors_of(wrong_types) == {
        "kind": "Select what kind of activity it is",
        "capacity": "The number of places must be a whole number",
        "duration_minutes": "How long it lasts, in minutes must be 15 or more",
        "project_id": "The project must be 1 or more",
    }

    no_category = await client.api(
        "POST", "/api/v1/activities", activity_body(category=None, kind="meeting")
    )
    assert no_category.status_code == 422
    assert errors_of(no_category) == {"category": "Select which co-production activity this is"}

    no_mode = await client.api(
        "POST", "/api/v1/activities", activity_body(video=False, phone=False)
    )
    assert no_mode.status_code == 422
    assert errors_of(no_mode) == {"in_person": NO_MODE}

    no_link = await client.api("POST", "/api/v1/activities", activity_body(video_link=None))
    assert no_link.status_code == 422
    assert errors_of(no_link) == {"video_link": "Enter the video link"}

    past_start = await client.api("POST", "/api/v1/activities", activity_body(starts_at=at(-2)))
    assert past_start.status_code == 422
    assert errors_of(past_start) == {"starts_at": "The start must be in the future"}
    assert await Activity.all().count() == 0

    # A catch-up needs no co-production category.
    catch_up = await create_activity(client, kind="catch_up", category=None)
    assert catch_up["category"] is None

    planning = await create_activity(client)
    url = f"/api/v1/activities/{planning['id']}/options"
    past = await client.api("POST", url, {"options": [at(-1), at(3)]})
    assert past.status_code == 422
    assert errors_of(past) == {"options": "Each option must be in the future"}
    one = await client.api("POST", url, {"options": [at(3)]})
    assert one.status_code == 422
    assert errors_of(one) == {"options": "Offer at least two times, so people can choose"}
    garbled = await client.api("POST", url, {"options": ["next Tuesday", at(4)]})
    assert garbled.status_code == 422
    assert errors_of(garbled) == {
        "options.0": "The times to offer must be a date and time, like 2026-04-01T10:00:00+01:00"
    }
    assert await TimeOption.all().count() == 0

    no_options_yet = await client.api(
        "POST", f"/api/v1/activities/{planning['id']}/invitations", {"representative_ids": [1]}
    )
    assert no_options_yet.status_code == 422
    assert set(errors_of(no_options_yet)) == {"representative_ids"}

    patch = await client.api(
        "PATCH", f"/api/v1/activities/{planning['id']}", {"video_link": "http://insecure"}
    )
    assert patch.status_code == 422
    assert errors_of(patch) == {"video_link": "Enter the video link starting with https://"}
    assert (await Activity.get(id=planning["id"])).video_link == "https://meet.example/room-1"


async def recently_unwell(client, world) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A lead's organisation, a representative whose acute episode ended 5 days ago, and an
    activity 5 days away: 10 days after the episode, inside the six-week rule."""
    org = await lead_of(world, client)
    lead = await auth.actor_for(await User.get(email=LEAD), org.id)
    rep = await contracted_rep(client, full_name="Dee Evans")
    person = await Representative.get(id=rep["id"])
    await wellbeing.give_consent(lead, person, {"purpose": "health"})
    await wellbeing.record_episode(
        lead,
        person,
        {
            "started_on": (clock.today() - dt.timedelta(days=40)).isoformat(),
            "ended_on": (clock.today() - dt.timedelta(days=5)).isoformat(),
            "under_crisis_team": "yes",
            "note": "Stayed at the crisis house",
        },
    )
    return org, rep, await create_activity(client, starts_at=at(5, 14))


async def test_a_booking_soon_after_an_acute_episode_waits_for_a_wellbeing_check(client, world):
    _, rep, activity = await recently_unwell(client, world)

    response = await book(client, activity["id"], rep["id"])
    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["status"] == "needs_wellbeing_check"
    assert booking["wellbeing_flag_reason"] == "Activity falls within 6 weeks of an acute episode"
    assert "crisis house" not in response.text
    assert (clock.today() - dt.timedelta(days=5)).isoformat() not in response.text

    no_note = await client.api(
        "POST", f"/api/v1/bookings/{booking['id']}/wellbeing-check", {"outcome": "proceed"}
    )
    assert no_note.status_code == 422
    assert set(errors_of(no_note)) == {"note", "representative_wish"}
    assert (await Booking.get(id=booking["id"])).status == "needs_wellbeing_check"

    checked = await client.api(
        "POST",
        f"/api/v1/bookings/{booking['id']}/wellbeing-check",
        {
            "outcome": "proceed",
            "note": "Feeling well and keen",
            "representative_wish": "To take part by video",
        },
    )
    assert checked.status_code == 201, checked.text
    assert checked.json()["outcome"] == "proceed"
    assert checked.json()["booking"]["status"] == "confirmed"
    assert checked.json()["booking"]["wellbeing_flag_reason"] is None
    assert "Feeling well" not in checked.text
    stored = await WellbeingCheck.get(booking_id=booking["id"])
    assert "Feeling well" not in stored.payload  # encrypted at rest
    shown = (await client.get(f"/api/v1/bookings/{booking['id']}")).json()
    assert shown["status"] == "confirmed"

    twice = await client.api(
        "POST",
        f"/api/v1/bookings/{booking['id']}/wellbeing-check",
        {"outcome": "proceed", "note": "Again", "representative_wish": "Same"},
    )
    assert twice.status_code == 409
    assert errors_of(twice) == {"outcome": "This booking is not waiting for a wellbeing check"}


async def test_a_representative_withdraws_from_their_own_booking(client, make_client, world):
    await lead_of(world, client)
    rep = await contracted_rep(
        client,
        full_name="Eve Fox",
        email="eve@people.example",
        contact_channels=["email"],
        formats=["large_print"],
    )
    activity = await create_activity(client, starts_at=at(20, 10))
    booking = await booked(client, activity["id"], rep["id"])
    assert await AccessArrangement.filter(booking_id=booking["id"]).count() == 1

    eve = await as_representative(make_client, "eve@people.example")
    own = await eve.get(f"/api/v1/bookings/{booking['id']}")
    assert own.status_code == 200
    assert own.json()["status"] == "confirmed" and own.json()["wellbeing_flag_reason"] is None

    withdrawn = await eve.api("POST", f"/api/v1/bookings/{booking['id']}/cancel", {})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "cancelled"
    assert withdrawn.json()["sequence"] == 1  # the calendar cancellation is a new version
    stored = await Booking.get(id=booking["id"])
    assert stored.status == "cancelled" and stored.cancelled_at is not None
    event = await AuditEvent.get(action="booking.withdraw")
    assert event.entity_id == str(booking["id"])
    # Nobody needs to post large-print papers for a meeting Eve is not coming to.
    assert event.after["arrangements_closed"] == ["Large print papers sent"]
    assert not await AccessArrangement.filter(booking_id=booking["id"]).exists()
    again = await eve.api("POST", f"/api/v1/bookings/{booking['id']}/cancel", {})
    assert again.status_code == 409


async def test_the_calendar_file_and_its_secret_address(client, make_client, world):
    await lead_of(world, client)
    rep = await with_email(client, "Fay Green", "fay@people.example")
    activity = await create_activity(client, title="Budget panel", starts_at=at(9, 13))
    booking = await booked(client, activity["id"], rep["id"])

    response = await client.get(f"/api/v1/representatives/{rep['id']}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    cal = vobject.readOne(response.content.decode("utf-8"))
    events = list(cal.vevent_list)
    assert [e.uid.value for e in events] == [booking["uid"]]
    assert events[0].summary.value == "Budget panel"
    assert events[0].dtstart.value.astimezone(dt.UTC) == utc(at(9, 13))

    # The person themself may fetch it too.
    fay = await as_representative(make_client, "fay@people.example")
    own = await fay.get(f"/api/v1/representatives/{rep['id']}/calendar.ics")
    assert own.status_code == 200 and booking["uid"] in own.text

    reset = await client.api("POST", f"/api/v1/representatives/{rep['id']}/calendar-token", {})
    assert reset.status_code == 200, reset.text
    found = re.fullmatch(r"http://testserver/calendar/([^/]+)\.ics", reset.json()["url"])
    assert found
    assert (await Representative.get(id=rep["id"])).calendar_token == found.group(1)
    again = await fay.api("POST", f"/api/v1/representatives/{rep['id']}/calendar-token", {})
    assert again.status_code == 200 and again.json()["url"] != reset.json()["url"]


async def test_who_may_see_and_change_which_activity_and_booking(client, make_client, world):
    org = await lead_of(world, client)
    ann = await with_email(client, "Ann Able", "ann@people.example")
    bob = await contracted_rep(client, full_name="Bob Baker")
    activity = await create_activity(client, starts_at=at(7, 10))
    ann_booking = await booked(client, activity["id"], ann["id"])
    bob_booking = await booked(client, activity["id"], bob["id"])

    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    theirs = await contracted_rep(other, full_name="Sid South")
    assert (await other.get(f"/api/v1/activities/{activity['id']}")).status_code == 404
    assert (await other.get(f"/api/v1/bookings/{ann_booking['id']}")).status_code == 404
    assert (await book(other, activity["id"], theirs["id"])).status_code == 404
    assert (await book(other, activity["id"], ann["id"])).status_code == 404
    renamed = await other.api("PATCH", f"/api/v1/activities/{activity['id']}", {"title": "Ours"})
    assert renamed.status_code == 404
    cancelled = await other.api("POST", f"/api/v1/bookings/{ann_booking['id']}/cancel", {})
    assert cancelled.status_code == 404
    assert (await other.get(f"/api/v1/representatives/{ann['id']}/calendar.ics")).status_code == 404
    assert (await other.get("/api/v1/activities")).json() == {"items": [], "next_cursor": None}
    # Nor can their lead book one of ours onto their own activity.
    their_activity = await create_activity(other, starts_at=at(8, 10))
    assert (await book(other, their_activity["id"], ann["id"])).status_code == 404
    # And our lead cannot book theirs onto ours.
    assert (await book(client, activity["id"], theirs["id"])).status_code == 404
    assert await Booking.all().count() == 2
    assert (await Activity.get(id=activity["id"])).title == "Service design workshop"

    ann_client = await as_representative(make_client, "ann@people.example")
    assert (await ann_client.get(f"/api/v1/bookings/{ann_booking['id']}")).status_code == 200
    assert (await ann_client.get(f"/api/v1/bookings/{bob_booking['id']}")).status_code == 404
    withdraw_bob = await ann_client.api("POST", f"/api/v1/bookings/{bob_booking['id']}/cancel", {})
    assert withdraw_bob.status_code == 404
    bob_calendar = await ann_client.get(f"/api/v1/representatives/{bob['id']}/calendar.ics")
    assert bob_calendar.status_code == 404
    assert (await ann_client.get("/api/v1/activities")).status_code == 403
    assert (await Booking.get(id=bob_booking["id"])).status == "confirmed"

    await world.user(org, "reporter@trust.example", Role.REPORTER)
    reporter = make_client()
    await sign_in(reporter, "reporter@trust.example")
    assert (await reporter.get("/api/v1/activities")).status_code == 403
    assert (await reporter.get(f"/api/v1/bookings/{ann_booking['id']}")).status_code == 404


async def test_openapi_describes_the_activities_operations(client):
    # The bookings operations are described in tests/test_bookings_api.py.
    doc = (await client.get("/api/v1/openapi.json")).json()
    expected = {
        ("get", "/api/v1/activities"),
        ("post", "/api/v1/activities"),
        ("get", "/api/v1/activities/{id}"),
        ("patch", "/api/v1/activities/{id}"),
        ("get", "/api/v1/activities/{id}/options"),
        ("post", "/api/v1/activities/{id}/options"),
        ("get", "/api/v1/activities/{id}/answers"),
        ("post", "/api/v1/activities/{id}/answers"),
        ("post", "/api/v1/activities/{id}/invitations"),
        ("get", "/api/v1/activities/{id}/options/{option_id}/choices"),
        ("post", "/api/v1/activities/{id}/finalise"),
        ("get", "/api/v1/activities/{id}/people-to-add"),
    }
    assert operations_tagged(doc, "activities") == expected
    assert_described(doc, expected)
    create = doc["paths"]["/api/v1/activities"]["post"]
    assert "201" in create["responses"]
    assert {"title", "kind"} <= set(
        resolve(doc, create["requestBody"]["content"]["application/json"]["schema"])["required"]
    )
    listing = doc["paths"]["/api/v1/activities"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"status", "project", "limit", "cursor"}
    assert "involvement_lead" in listing["description"]


async def test_people_to_add_pages_by_name_leaves_out_who_is_booked_and_warns_as_the_page_does(
    client, world
):
    await lead_of(world, client)
    *_, cal, dee = [
        await contracted_rep(client, full_name=name)
        for name in ("Ann Able", "Ben Bell", "Cal Cole", "Dee Dunn")
    ]
    # Cal asked us to watch a weekly limit this activity would go over.
    await Representative.filter(id=cal["id"]).update(
        earnings_limit_pence=1000, earnings_limit_period="week"
    )
    activity = await create_activity(client, starts_at=at(10, 10))
    await booked(client, activity["id"], dee["id"], "phone")

    first = (
        await client.get(f"/api/v1/activities/{activity['id']}/people-to-add", params={"limit": 2})
    ).json()
    second = (
        await client.get(
            f"/api/v1/activities/{activity['id']}/people-to-add",
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    people = first["items"] + second["items"]
    assert [p["full_name"] for p in people] == ["Ann Able", "Ben Bell", "Cal Cole"]
    assert second["next_cursor"] is None  # Dee is booked, so not offered
    warning = people[2]["earnings_warning"]
    assert warning and "Cal Cole" in warning and people[0]["earnings_warning"] is None
    page = await client.get(f"/activities/{activity['id']}")
    assert str(escape(warning)) in page.text
    found = (
        await client.get(
            f"/api/v1/activities/{activity['id']}/people-to-add", params={"find": "bell"}
        )
    ).json()
    assert [p["full_name"] for p in found["items"]] == ["Ben Bell"]
    assert found["items"][0]["has_contract"] is True
    too_long = await client.get(
        f"/api/v1/activities/{activity['id']}/people-to-add", params={"find": "x" * 101}
    )
    assert too_long.status_code == 422
