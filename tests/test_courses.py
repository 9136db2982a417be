"""Courses through the pages: adding and changing them (with the API's messages), the usual
courses, booking onto a course session from the activity page, the lead changing the format,
the warning for a course an activity asks for on the pages where a lead books and confirms,
and training records for a lead and for the person."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from coprod import clock
from coprod.models import (
    AccessArrangement,
    Activity,
    Booking,
    Course,
    CourseCompletion,
    CoursePlace,
    Role,
)
from coprod.services import (
    activities,
    attendance,
    auth,
    bookings,
    contracts,
    courses,
    people,
    polls,
    representatives,
)
from coprod.services.actor import Actor
from tests.conftest import sign_in
from tests.test_activities_api import as_representative

SOON = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=20)
LEAD = "lead@trust.example"


async def lead_in(world: Any, client: Any, org_name: str = "Northshire NHS Trust") -> Actor:
    org = await world.org(org_name)
    email = LEAD if org_name == "Northshire NHS Trust" else f"lead@{org.slug}.example"
    user = await world.user(org, email, Role.INVOLVEMENT_LEAD)
    await sign_in(client, email)
    return await auth.actor_for(user, org.id)


async def person(lead: Actor, name: str, **needs: Any) -> Any:
    rep = await representatives.create(
        lead,
        {
            "full_name": name,
            "representative_type": "patient",
            "phone": "01632 960 001",
            "contact_channels": ["phone"],
            **needs,
        },
    )
    await contracts.create(
        lead, rep, {"role_title": "Patient representative", "starts_on": clock.today().isoformat()}
    )
    return rep


async def activity(lead: Actor, **details: Any) -> Activity:
    return await activities.create_activity(
        lead,
        {
            "title": "Course session",
            "kind": "training_received",
            "duration_minutes": "120",
            "capacity": "5",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "starts_at": SOON.isoformat(),
            **details,
        },
    )


def field_error(page: str, field: str) -> str:
    found = re.search(rf'id="{re.escape(field)}-error">\s*<span[^>]*>[^<]*</span>([^<]+)', page)
    assert found, f"no error for {field}"
    return html.unescape(found.group(1).strip())


# ---------------------------------------------------------------------------- managing


async def test_a_lead_adds_and_changes_a_course_through_the_pages(client, world):
    await lead_in(world, client)
    empty = await client.get("/courses")
    assert empty.status_code == 200 and "No courses yet." in empty.text
    made = await client.post_form(
        "/courses/new",
        {
            "name": "Confidence and assertiveness",
            "description": "Speaking up",
            "formats": ["braille", "translated"],
            "languages": "Polish, Urdu",
            "required_for": ["interview_panel"],
        },
    )
    assert made.status_code == 303, made.text
    course = await Course.get(name="Confidence and assertiveness")
    assert course.formats == ["braille", "translated"] and course.languages == ["Polish", "Urdu"]
    assert course.required_for == ["interview_panel"]
    detail = await client.get(made.headers["location"])
    assert "Course added." in detail.text and "Translated (Polish, Urdu)" in detail.text
    assert "Interview panel" in detail.text and "None" not in detail.text

    changed = await client.post_form(
        f"/courses/{course.id}/edit",
        {"name": "Confidence and assertiveness", "formats": ["audio"], "languages": ""},
    )
    assert changed.status_code == 303, changed.text
    await course.refresh_from_db()
    assert course.formats == ["audio"] and course.required_for == [] and course.languages == []
    listed = await client.get("/courses")
    assert f'href="/courses/{course.id}"' in listed.text and "Audio" in listed.text


async def test_the_pages_give_the_apis_messages_field_by_field(client, world):
    await lead_in(world, client)
    await client.post_form("/courses/new", {"name": "Induction"})
    duplicate = await client.post_form("/courses/new", {"name": "induction"})
    assert duplicate.status_code == 422
    assert field_error(duplicate.text, "name") == "There is already a course with this name"
    no_language = await client.post_form(
        "/courses/new", {"name": "Peer support", "formats": ["translated"]}
    )
    assert no_language.status_code == 422
    assert field_error(no_language.text, "languages") == (
        "Enter the languages it is translated into"
    )
    blank = await client.post_form("/courses/new", {"name": ""})
    assert field_error(blank.text, "name") == "Enter the course's name"
    assert await Course.all().count() == 1


async def test_the_usual_courses_are_added_once(client, world):
    await lead_in(world, client)
    added = await client.post_form("/courses", {})
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    assert "3 courses added." in page.text
    again = await client.get((await client.post_form("/courses", {})).headers["location"])
    assert "You already have the usual courses." in again.text
    panel = await Course.get(name="Recruitment-panel training")
    assert panel.required_for == ["interview_panel"]
    assert await Course.all().count() == 3


async def test_only_leads_of_the_organisation_reach_courses(client, make_client, world):
    lead = await lead_in(world, client)
    course = await courses.create_course(lead, {"name": "Induction"})
    other = make_client()
    await lead_in(world, other, "Southshire NHS Trust")
    for path in (f"/courses/{course.id}", f"/courses/{course.id}/edit"):
        assert (await other.get(path)).status_code == 404, path
    refused = await other.post_form(
        f"/courses/{course.id}/completions", {"representative_id": "1"}, token_from="/courses"
    )
    assert refused.status_code == 404
    assert "Induction" not in (await other.get("/courses")).text

    await person(lead, "Rae Rep", email="rae@people.example", contact_channels=["email"])
    await world.user(await _org(lead), "rae@people.example", Role.REPRESENTATIVE)
    as_rep = await as_representative(make_client, "rae@people.example")
    assert (await as_rep.get("/courses")).status_code == 403
    assert (await as_rep.get(f"/courses/{course.id}")).status_code == 403


# ---------------------------------------------------------------------- booking from the pages


async def test_a_session_is_planned_and_a_braille_reader_booked_from_the_pages(client, world):
    lead = await lead_in(world, client)
    course = await courses.create_course(lead, {"name": "Induction", "formats": ["braille"]})
    bea = await person(lead, "Bea Braille", formats=["braille"])
    new_page = await client.get("/activities/new")
    assert f'<option value="{course.id}">Induction</option>' in new_page.text
    planned = await client.post_form(
        "/activities/new",
        {
            "title": "Induction, March",
            "kind": "training_received",
            "course_id": str(course.id),
            "duration_minutes": "120",
            "capacity": "5",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "timing": "fixed",
            "starts_at": SOON.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert planned.status_code == 303, planned.text
    session = await Activity.get(title="Induction, March")
    assert session.course_id == course.id
    shown = await client.get(f"/activities/{session.id}")
    assert f'<a href="/courses/{course.id}">Induction</a>' in shown.text

    booked = await client.post_form(
        f"/activities/{session.id}/book",
        {"representative_id": str(bea.id), "mode": "phone"},
        token_from=f"/activities/{session.id}",
    )
    assert booked.status_code == 303, booked.text
    booking = await Booking.get(activity=session, representative=bea)
    assert (await CoursePlace.get(booking=booking)).format == "braille"
    booking_page = await client.get(f"/bookings/{booking.id}")
    assert "Course format" in booking_page.text and "Braille papers posted" in booking_page.text
    assert f'href="/bookings/{booking.id}/course-place"' in booking_page.text

    # The lead changes it to audio, which the course does not have: the task is added.
    form = await client.get(f"/bookings/{booking.id}/course-place")
    assert form.status_code == 200
    bad = await client.post_form(f"/bookings/{booking.id}/course-place", {"format": "smoke"})
    assert bad.status_code == 422
    assert field_error(bad.text, "format") == "Select the format"
    changed = await client.post_form(f"/bookings/{booking.id}/course-place", {"format": "audio"})
    assert changed.status_code == 303, changed.text
    after = await client.get(changed.headers["location"])
    assert "Course format changed." in after.text
    assert "Course materials recorded as audio" in after.text
    assert await AccessArrangement.exists(booking=booking, kind="course_materials")


async def test_a_format_the_course_lacks_is_warned_about_on_the_activity_page(client, world):
    lead = await lead_in(world, client)
    course = await courses.create_course(lead, {"name": "Induction", "formats": ["large_print"]})
    bea = await person(lead, "Bea Braille", formats=["braille"])
    session = await activity(lead, course_id=str(course.id))
    await client.post_form(
        f"/activities/{session.id}/book",
        {"representative_id": str(bea.id), "mode": "phone"},
        token_from=f"/activities/{session.id}",
    )
    shown = await client.get(f"/activities/{session.id}?done=book")
    assert "Booked." in shown.text
    assert (
        "Induction is not yet available in braille, which Bea Braille needs. They are booked on "
        "it anyway" in shown.text
    )


# ---------------------------------------------------------------------------- required courses


async def test_the_required_course_warning_shows_where_a_lead_books_and_confirms(client, world):
    lead = await lead_in(world, client)
    await courses.add_usual(lead)
    panel_course = await Course.get(name="Recruitment-panel training")
    nat = await person(lead, "Nat New")
    tom = await person(lead, "Tom Trained")
    await courses.record_completion(
        lead,
        panel_course,
        {"representative_id": str(tom.id), "completed_on": "2025-01-10", "format": "standard"},
    )
    panel = await activity(
        lead, title="Consultant interviews", kind="interview_panel", category="co_decision"
    )
    warning = (
        "Nat New has not done Recruitment-panel training, which this kind of activity asks for"
    )
    shown = await client.get(f"/activities/{panel.id}")
    assert warning in shown.text and "Tom Trained has not done" not in shown.text
    booked = await client.post_form(
        f"/activities/{panel.id}/book",
        {"representative_id": str(nat.id), "mode": "phone"},
        token_from=f"/activities/{panel.id}",
    )
    assert booked.status_code == 303  # warned, not refused
    assert warning in (await client.get(f"/activities/{panel.id}?done=book")).text

    # Finding a time: the page where the lead confirms who to book warns too.
    planning = await activities.plan(
        lead,
        {
            "title": "Ward manager interviews",
            "kind": "interview_panel",
            "category": "co_decision",
            "duration_minutes": "60",
            "capacity": "5",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "option_1": (SOON + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "option_2": (SOON + dt.timedelta(days=4)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    [invited] = await polls.invite(lead, planning, [nat.id])
    option, later = await planning.options.all()
    await polls.record_answers(
        lead,
        invited.invitation,
        {f"answer_{option.id}": "yes", f"answer_{later.id}": "no", "mode": "phone"},
    )
    confirm = await client.get(f"/activities/{planning.id}/finalise?option_id={option.id}")
    assert confirm.status_code == 200 and warning in confirm.text


# -------------------------------------------------------------------- completions and records


async def test_attendance_and_a_lead_record_courses_done_shown_on_the_training_record(
    client, make_client, world
):
    lead = await lead_in(world, client)
    course = await courses.create_course(lead, {"name": "Induction", "formats": ["audio"]})
    other = await courses.create_course(lead, {"name": "Safeguarding"})
    al = await person(
        lead, "Al Audio", formats=["audio"], email="al@people.example", contact_channels=["email"]
    )
    session = await activity(lead, course_id=str(course.id))
    booking = await bookings.book(lead, session, al, "phone")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    await Activity.filter(id=session.id).update(starts_at=past)
    await Booking.filter(id=booking.id).update(starts_at=past, ends_at=past)
    recorded = await client.post_form(
        f"/bookings/{booking.id}/attendance",
        {"attended": "yes"},
        token_from=f"/bookings/{booking.id}",
    )
    assert recorded.status_code == 303, recorded.text
    # Recorded again: still one completion.
    await attendance.record_attendance(lead, await Booking.get(id=booking.id), {"attended": "yes"})
    assert await CourseCompletion.filter(representative=al).count() == 1

    # A course done before: errors by field, then recorded.
    bad = await client.post_form(
        f"/courses/{other.id}/completions",
        {"representative_id": "", "format": "translated"},
        token_from=f"/courses/{other.id}",
    )
    assert bad.status_code == 422
    assert field_error(bad.text, "representative_id") == "Select a person from the list"
    assert field_error(bad.text, "completed_on") == "Enter the day they finished the course"
    assert field_error(bad.text, "language") == "Enter the language"
    done = await client.post_form(
        f"/courses/{other.id}/completions",
        {
            "representative_id": str(al.id),
            "completed_on[day]": "1",
            "completed_on[month]": "6",
            "completed_on[year]": "2025",
            "format": "large_print",
        },
        token_from=f"/courses/{other.id}",
    )
    assert done.status_code == 303, done.text
    course_page = await client.get(done.headers["location"])
    assert "Recorded." in course_page.text and "1 June 2025" in course_page.text

    rep_page = await client.get(f"/representatives/{al.id}")
    assert f'href="/representatives/{al.id}/training"' in rep_page.text
    record = await client.get(f"/representatives/{al.id}/training")
    assert record.status_code == 200
    assert "Induction" in record.text and "Audio" in record.text
    assert "Safeguarding" in record.text and "Large print" in record.text
    assert "None" not in record.text

    # The person sees their own record, linked from their profile.
    await world.user(await _org(lead), "al@people.example", Role.REPRESENTATIVE)
    mine_client = await as_representative(make_client, "al@people.example")
    profile = await mine_client.get("/my/profile")
    assert 'href="/my/training"' in profile.text
    mine = await mine_client.get("/my/training")
    assert mine.status_code == 200 and "Your training" in mine.text and "Safeguarding" in mine.text
    assert (await mine_client.get(f"/representatives/{al.id}/training")).status_code == 403


async def _org(lead: Actor) -> Any:
    from coprod.models import Organisation

    return await Organisation.get(id=lead.organisation_id)


async def test_training_delivered_shows_the_team_and_audience(client, world):
    lead = await lead_in(world, client)
    team = await people.create_team(Actor.system(via="cli"), await _org(lead), "Crisis team")
    tess = await person(lead, "Tess Trainer")
    delivery = await activity(
        lead,
        title="Recovery stories for ward staff",
        kind="training_delivery",
        category="co_delivery",
        team_id=str(team.id),
        audience="Ward nurses",
    )
    booking = await bookings.book(lead, delivery, tess, "phone")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    await Activity.filter(id=delivery.id).update(starts_at=past)
    await Booking.filter(id=booking.id).update(starts_at=past, ends_at=past)
    await attendance.record_attendance(lead, await Booking.get(id=booking.id), {"attended": "yes"})
    record = await client.get(f"/representatives/{tess.id}/training")
    text = record.text
    assert "Recovery stories for ward staff" in text
    assert "Crisis team" in text and "Ward nurses" in text
    assert "No courses done yet." in text
    shown = await client.get(f"/activities/{delivery.id}")
    assert "Delivered to" in shown.text and "Ward nurses" in shown.text
