"""Courses through the API: managing them (with the pages' messages), booking onto a course
session (the format from access needs, the arrangements that follow), attendance writing the
completion once, training records, and the warning for a course an activity asks for.
Real database, the app in-process, real sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.domain.scheduling import london_date
from coprod.models import (
    AccessArrangement,
    AccessDay,
    Activity,
    AuditEvent,
    Booking,
    CourseCompletion,
    Organisation,
    Role,
)
from coprod.services import people
from coprod.services.actor import Actor
from tests.openapi_doc import assert_described, operations_tagged
from tests.test_activities_api import (
    as_representative,
    at,
    book,
    booked,
    contracted_rep,
    create_activity,
)
from tests.test_representatives_api import errors_of, lead_of

A = "/api/v1"


async def new_course(client: Any, **body: Any) -> dict[str, Any]:
    response = await client.api("POST", f"{A}/courses", {"name": "Induction", **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def session_of(client: Any, course_id: int, **overrides: Any) -> dict[str, Any]:
    return await create_activity(
        client,
        title="Course session",
        kind="training_received",
        category=None,
        course_id=course_id,
        starts_at=at(20),
        **overrides,
    )


async def happened(booking_id: int, days_ago: int = 1) -> None:
    """Move a booking (and its activity) into the past, so that attendance can be recorded;
    the services never book into the past."""
    booking = await Booking.get(id=booking_id)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    await Activity.filter(id=booking.activity_id).update(starts_at=start)
    await Booking.filter(id=booking_id).update(starts_at=start, ends_at=start)


async def attend(client: Any, booking_id: int, attended: str = "yes") -> None:
    response = await client.api(
        "POST", f"{A}/bookings/{booking_id}/attendance", {"attended": attended}
    )
    assert response.status_code == 200, response.text


async def labels(booking_id: int) -> set[str]:
    return set(
        await AccessArrangement.filter(booking_id=booking_id).values_list("label", flat=True)
    )


# ---------------------------------------------------------------------------- managing


async def test_a_lead_adds_lists_and_changes_courses(client, world):
    await lead_of(world, client)
    course = await new_course(
        client,
        name="Confidence and assertiveness",
        description="Speaking up in meetings",
        formats=["braille", "audio", "translated"],
        languages=["Polish", " Urdu "],
    )
    assert course["formats"] == ["braille", "audio", "translated"]
    assert course["languages"] == ["Polish", "Urdu"]
    assert course["required_for"] == []

    # Changing the formats alone keeps the languages while it is still translated.
    kept = await client.api("PATCH", f"{A}/courses/{course['id']}", {"formats": ["translated"]})
    assert kept.status_code == 200, kept.text
    assert kept.json()["languages"] == ["Polish", "Urdu"]
    changed = await client.api(
        "PATCH", f"{A}/courses/{course['id']}", {"formats": ["audio"], "required_for": ["meeting"]}
    )
    assert changed.status_code == 200, changed.text
    # Without "translated" the languages go: they would mean nothing.
    assert changed.json()["formats"] == ["audio"] and changed.json()["languages"] == []
    assert changed.json()["required_for"] == ["meeting"]
    assert changed.json()["name"] == "Confidence and assertiveness"
    got = await client.get(f"{A}/courses/{course['id']}")
    assert got.json() == changed.json()

    listed = await client.get(f"{A}/courses")
    assert [c["name"] for c in listed.json()["items"]] == ["Confidence and assertiveness"]
    actions = await AuditEvent.filter(entity_type="Course").values_list("action", flat=True)
    assert sorted(actions) == ["course.create", "course.update", "course.update"]


async def test_adding_the_usual_courses_twice_adds_them_once(client, world):
    await lead_of(world, client)
    await new_course(client, name="induction")  # already there, whatever its case
    first = await client.api("POST", f"{A}/courses/usual", {})
    assert first.status_code == 201, first.text
    added = {c["name"]: c for c in first.json()["items"]}
    assert set(added) == {"Confidence and assertiveness", "Recruitment-panel training"}
    assert added["Recruitment-panel training"]["required_for"] == ["interview_panel"]
    again = await client.api("POST", f"{A}/courses/usual", {})
    assert again.json()["items"] == []
    assert len((await client.get(f"{A}/courses")).json()["items"]) == 3


async def test_bad_course_input_is_422_field_by_field(client, world):
    await lead_of(world, client)
    await new_course(client, name="Induction")
    duplicate = await client.api("POST", f"{A}/courses", {"name": "INDUCTION"})
    assert duplicate.status_code == 422
    assert errors_of(duplicate) == {"name": "There is already a course with this name"}

    bad = await client.api(
        "POST", f"{A}/courses", {"name": "Peer support", "formats": ["translated"], "languages": []}
    )
    assert bad.status_code == 422
    assert errors_of(bad) == {"languages": "Enter the languages it is translated into"}

    unknown = await client.api("POST", f"{A}/courses", {"name": "X", "formats": ["smoke"]})
    assert unknown.status_code == 422
    assert errors_of(unknown) == {"formats.0": "Select the formats from the list"}
    long = await client.api("POST", f"{A}/courses", {"name": "x" * 201})
    assert long.status_code == 422 and "name" in errors_of(long)

    other = await new_course(client, name="Safeguarding")
    renamed = await client.api("PATCH", f"{A}/courses/{other['id']}", {"name": "Induction"})
    assert renamed.status_code == 422
    assert errors_of(renamed) == {"name": "There is already a course with this name"}
    assert [c["name"] for c in (await client.get(f"{A}/courses")).json()["items"]] == [
        "Induction",
        "Safeguarding",
    ]


async def test_who_may_see_and_change_courses(client, make_client, world):
    org = await lead_of(world, client)
    course = await new_course(client)
    rep = await contracted_rep(client, full_name="Rae Rep", email="rae@people.example")
    await world.user(org, "rae@people.example", Role.REPRESENTATIVE)
    as_rep = await as_representative(make_client, "rae@people.example")
    assert (await as_rep.get(f"{A}/courses")).status_code == 403
    assert (await as_rep.api("POST", f"{A}/courses", {"name": "Mine"})).status_code == 403
    # Their own training record is theirs to see.
    mine = await as_rep.get(f"{A}/my/training")
    assert mine.status_code == 200 and mine.json()["representative_id"] == rep["id"]

    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    assert (await other.get(f"{A}/courses/{course['id']}")).status_code == 404
    assert (
        await other.api("PATCH", f"{A}/courses/{course['id']}", {"name": "Y"})
    ).status_code == 404
    recorded = await other.api(
        "POST",
        f"{A}/courses/{course['id']}/completions",
        {"representative_id": rep["id"], "completed_on": "2025-01-01", "format": "standard"},
    )
    assert recorded.status_code == 404
    assert (await other.get(f"{A}/representatives/{rep['id']}/training")).status_code == 404
    assert (await other.get(f"{A}/courses")).json()["items"] == []


# ---------------------------------------------------------------------------- booking


async def test_booking_someone_who_reads_braille_chooses_braille_and_arranges_papers(client, world):
    await lead_of(world, client)
    course = await new_course(client, formats=["braille", "large_print"])
    rep = await contracted_rep(client, full_name="Bea Braille", formats=["large_print", "braille"])
    session = await session_of(client, course["id"])
    assert session["course_id"] == course["id"]
    booking = await booked(client, session["id"], rep["id"])
    assert [w for w in booking["warnings"] if w["about"] == "training"] == []
    place = await client.get(f"{A}/bookings/{booking['id']}/course-place")
    assert place.json() == {
        "booking_id": booking["id"],
        "format": "braille",
        "language": None,
        "available": True,
    }
    assert "Braille papers posted" in await labels(booking["id"])
    assert not any(label.startswith("Course materials") for label in await labels(booking["id"]))


async def test_a_format_the_course_lacks_is_a_warning_and_an_arrangement(client, world):
    await lead_of(world, client)
    course = await new_course(client, name="Induction", formats=["large_print"])
    rep = await contracted_rep(client, full_name="Bea Braille", formats=["braille"])
    session = await session_of(client, course["id"])
    response = await book(client, session["id"], rep["id"])
    assert response.status_code == 201, response.text  # booked anyway
    training = [w for w in response.json()["warnings"] if w["about"] == "training"]
    assert training == [
        {
            "representative_id": rep["id"],
            "about": "training",
            "message": "Induction is not yet available in braille, which Bea Braille needs. They "
            "are booked on it anyway: the course materials need making in that format, and "
            "this is on the access arrangements",
        }
    ]
    booking_id = response.json()["id"]
    task = await AccessArrangement.get(booking_id=booking_id, kind="course_materials")
    assert task.label == "Course materials made in Braille"
    session_day = (await Booking.get(id=booking_id)).starts_at
    assert (session_day.date() - task.due_on).days in (13, 14)

    # The lead takes them on large print instead: the task goes, the place says so.
    changed = await client.api(
        "PUT", f"{A}/bookings/{booking_id}/course-place", {"format": "large_print"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["format"] == "large_print" and changed.json()["available"] is True
    assert not await AccessArrangement.exists(booking_id=booking_id, kind="course_materials")
    # The reports' roll-up of arrangements followed the change.
    arranged = await AccessDay.all().values_list("arranged", flat=True)
    assert sum(arranged) == await AccessArrangement.filter(booking_id=booking_id).count()
    bad = await client.api(
        "PUT", f"{A}/bookings/{booking_id}/course-place", {"format": "translated"}
    )
    assert bad.status_code == 422 and errors_of(bad) == {"language": "Enter the language"}
    assert await AuditEvent.exists(action="course_place.update")


async def test_a_polish_translated_course_for_someone_who_needs_polish(client, world):
    await lead_of(world, client)
    course = await new_course(
        client, formats=["translated", "easy_read"], languages=["Polish", "Urdu"]
    )
    rep = await contracted_rep(
        client,
        full_name="Piotr Nowak",
        formats=["translated", "easy_read"],
        translated_language="Polish",
    )
    session = await session_of(client, course["id"])
    booking = await booked(client, session["id"], rep["id"])
    place = (await client.get(f"{A}/bookings/{booking['id']}/course-place")).json()
    assert (place["format"], place["language"], place["available"]) == (
        "translated",
        "Polish",
        True,
    )
    assert [w for w in booking["warnings"] if w["about"] == "training"] == []

    # Someone needing Tigrinya papers is booked in them, and the translation is arranged.
    other = await contracted_rep(
        client, full_name="Tesfay Haile", formats=["translated"], translated_language="Tigrinya"
    )
    second = await booked(client, session["id"], other["id"])
    assert "Course materials translated (Tigrinya)" in await labels(second["id"])
    assert any(w["about"] == "training" for w in second["warnings"])


async def test_attendance_writes_the_completion_once_in_the_places_format(client, world):
    await lead_of(world, client)
    course = await new_course(client, formats=["audio"])
    rep = await contracted_rep(client, full_name="Al Audio", formats=["audio"])
    session = await session_of(client, course["id"])
    booking = await booked(client, session["id"], rep["id"])
    await happened(booking["id"])
    await attend(client, booking["id"])
    await attend(client, booking["id"])  # recorded again: still one completion
    done = await CourseCompletion.filter(representative_id=rep["id"])
    assert [(c.course_id, c.format, c.booking_id) for c in done] == [
        (course["id"], "audio", booking["id"])
    ]
    # Did not attend after all: it is no longer a course done.
    await attend(client, booking["id"], "no")
    assert not await CourseCompletion.exists(representative_id=rep["id"])
    await attend(client, booking["id"])
    record = (await client.get(f"{A}/representatives/{rep['id']}/training")).json()
    assert [(c["course"], c["format"]) for c in record["courses"]] == [("Induction", "audio")]


async def test_a_lead_records_a_course_done_before(client, world):
    await lead_of(world, client)
    course = await new_course(client)
    rep = await contracted_rep(client, full_name="Di Done")
    url = f"{A}/courses/{course['id']}/completions"
    body = {"representative_id": rep["id"], "completed_on": "2025-06-01", "format": "standard"}
    made = await client.api("POST", url, body)
    assert made.status_code == 201, made.text
    assert made.json()["booking_id"] is None and made.json()["course"] == "Induction"
    again = await client.api("POST", url, body)
    assert again.status_code == 422
    assert errors_of(again) == {
        "completed_on": "This course is already recorded for them on that day"
    }
    future = (clock.today() + dt.timedelta(days=30)).isoformat()
    bad = await client.api(
        "POST",
        url,
        {"representative_id": rep["id"], "completed_on": future, "format": "interpreter"},
    )
    assert bad.status_code == 422
    assert set(errors_of(bad)) == {"completed_on", "language"}
    assert await CourseCompletion.filter(representative_id=rep["id"]).count() == 1


# ---------------------------------------------------------------------------- training records


async def test_the_training_record_shows_courses_and_training_delivered(client, world):
    org = await lead_of(world, client)
    team = await people.create_team(Actor.system(via="cli"), org, "Crisis team")
    course = await new_course(client)
    rep = await contracted_rep(client, full_name="Tess Trainer")
    await client.api(
        "POST",
        f"{A}/courses/{course['id']}/completions",
        {"representative_id": rep["id"], "completed_on": "2025-06-01", "format": "easy_read"},
    )
    delivery = await create_activity(
        client,
        title="Recovery stories for ward staff",
        kind="training_delivery",
        category="co_delivery",
        team_id=team.id,
        audience="Ward nurses",
        starts_at=at(10),
    )
    assert delivery["audience"] == "Ward nurses"
    booking = await booked(client, delivery["id"], rep["id"])
    await happened(booking["id"], days_ago=2)
    await attend(client, booking["id"])
    record = await client.get(f"{A}/representatives/{rep['id']}/training")
    assert record.status_code == 200, record.text
    body = record.json()
    assert body["courses"] == [
        {
            "course_id": course["id"],
            "course": "Induction",
            "completed_on": "2025-06-01",
            "format": "easy_read",
            "language": None,
        }
    ]
    [delivered] = body["delivered"]
    assert delivered["title"] == "Recovery stories for ward staff"
    assert (delivered["team"], delivered["audience"]) == ("Crisis team", "Ward nurses")
    starts_at = (await Booking.get(id=booking["id"])).starts_at
    assert delivered["day"] == london_date(starts_at).isoformat()


# ---------------------------------------------------------------------------- required courses


async def test_booking_onto_an_interview_panel_warns_about_panel_training(client, world):
    await lead_of(world, client)
    await client.api("POST", f"{A}/courses/usual", {})
    panel_course = next(
        c
        for c in (await client.get(f"{A}/courses")).json()["items"]
        if c["name"] == "Recruitment-panel training"
    )
    new, trained = (
        await contracted_rep(client, full_name="Nat New"),
        await contracted_rep(client, full_name="Tom Trained"),
    )
    await client.api(
        "POST",
        f"{A}/courses/{panel_course['id']}/completions",
        {"representative_id": trained["id"], "completed_on": "2025-01-10", "format": "standard"},
    )
    panel = await create_activity(
        client,
        title="Consultant interviews",
        kind="interview_panel",
        category="co_decision",
        starts_at=at(12),
    )
    response = await book(client, panel["id"], new["id"])
    assert response.status_code == 201, response.text  # warned, not refused
    assert [w for w in response.json()["warnings"] if w["about"] == "training"] == [
        {
            "representative_id": new["id"],
            "about": "training",
            "message": "Nat New has not done Recruitment-panel training, which this kind of "
            "activity asks for. You can still book them: talk with them about doing the course "
            "first",
        }
    ]
    fine = await booked(client, panel["id"], trained["id"])
    assert [w for w in fine["warnings"] if w["about"] == "training"] == []


async def test_a_course_must_belong_to_the_organisation_and_go_with_training_received(
    client, make_client, world
):
    await lead_of(world, client)
    course = await new_course(client)
    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    theirs = await other.api(
        "POST",
        f"{A}/activities",
        {
            "title": "Session",
            "kind": "training_received",
            "duration_minutes": 60,
            "capacity": 5,
            "phone": True,
            "dial_in": "01632 960 000",
            "course_id": course["id"],
        },
    )
    assert theirs.status_code == 422
    assert errors_of(theirs)["course_id"] == "Select a course from the list"
    meeting = await client.api(
        "POST",
        f"{A}/activities",
        {
            "title": "Meeting",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": 60,
            "capacity": 5,
            "phone": True,
            "dial_in": "01632 960 000",
            "course_id": course["id"],
        },
    )
    assert meeting.status_code == 422
    assert errors_of(meeting)["course_id"] == (
        "Choose a course only for training that representatives receive"
    )
    assert await Organisation.all().count() == 2


async def test_openapi_describes_the_courses_operations(client):
    spec = (await client.get(f"{A}/openapi.json")).json()
    tagged = operations_tagged(spec, "courses")
    paths = {(method.upper(), path) for method, path in tagged}
    assert {
        ("GET", f"{A}/courses"),
        ("POST", f"{A}/courses"),
        ("GET", f"{A}/courses/{{id}}"),
        ("PATCH", f"{A}/courses/{{id}}"),
        ("POST", f"{A}/courses/{{id}}/completions"),
        ("PUT", f"{A}/bookings/{{id}}/course-place"),
        ("GET", f"{A}/representatives/{{id}}/training"),
    } <= paths
    assert_described(spec, tagged)
