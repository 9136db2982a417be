"""Courses in Chromium: a lead adds the usual courses, records a course done before (errors
first), books a Braille reader onto a session, sees the training warning on an interview
panel, and opens training records; the representative opens their own. axe-core runs on every
page, and each is checked at 320 px wide."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod import clock
from coprod.models import Booking, Course, Role
from coprod.services import activities, auth, bookings, contracts, representatives
from tests.browser.conftest import check_a11y, visit
from tests.browser.test_remaining_pages import sign_in_as
from tests.browser.test_small_screens import NARROW, check_narrow

pytestmark = pytest.mark.browser


async def test_a_lead_runs_courses_and_a_representative_reads_their_record(
    browser, live_server, world
):
    org = await world.org()
    lead_user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    bea = await representatives.create(
        lead,
        {
            "full_name": "Bea Braille",
            "representative_type": "patient",
            "email": "bea@people.example",
            "contact_channels": ["email"],
            "formats": ["braille"],
        },
    )
    await contracts.create(
        lead, bea, {"role_title": "Patient representative", "starts_on": clock.today().isoformat()}
    )
    await world.user(org, "bea@people.example", Role.REPRESENTATIVE)
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=20)
    details = {
        "duration_minutes": "60",
        "capacity": "4",
        "phone": "yes",
        "dial_in": "0300 123 4567",
        "starts_at": soon.isoformat(),
    }

    context, page = await sign_in_as(browser, live_server, "lead@trust.example")
    await visit(page, "/courses")
    await page.get_by_role("button", name="Add the usual courses").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    induction = await Course.get(name="Induction")
    panel_course = await Course.get(name="Recruitment-panel training")

    await visit(page, "/courses/new")
    await page.get_by_role("button", name="Save course").click()  # no name: errors
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await visit(page, f"/courses/{induction.id}/edit")

    await visit(page, f"/courses/{panel_course.id}")
    await page.get_by_role("button", name="Record it").click()  # nothing chosen: errors
    await page.wait_for_load_state("load")
    await check_a11y(page)

    session = await activities.create_activity(
        lead,
        {"title": "Induction", "kind": "training_received", "course_id": str(induction.id)}
        | details,
    )
    booking = await bookings.book(lead, session, bea, "phone")
    panel = await activities.create_activity(
        lead,
        {"title": "Interviews", "kind": "interview_panel", "category": "co_decision"}
        | details
        | {"starts_at": (soon + dt.timedelta(days=2)).isoformat()},
    )
    await visit(page, f"/activities/{session.id}")
    await visit(page, f"/bookings/{booking.id}")
    await visit(page, f"/bookings/{booking.id}/course-place")
    await visit(page, f"/activities/{panel.id}")
    assert "Bea Braille has not done Recruitment-panel training" in await page.inner_text("main")
    await visit(page, "/activities/new")
    await visit(page, f"/representatives/{bea.id}/training")

    problems: list[str] = []
    await page.set_viewport_size(NARROW)
    for path in (
        "/courses",
        "/courses/new",
        f"/courses/{induction.id}",
        f"/courses/{induction.id}/edit",
        f"/bookings/{booking.id}/course-place",
        f"/representatives/{bea.id}/training",
    ):
        await check_narrow(page, path, problems)
    await context.close()

    context, page = await sign_in_as(browser, live_server, "bea@people.example", None)
    await visit(page, "/my/training")
    await page.set_viewport_size(NARROW)
    await check_narrow(page, "/my/training", problems)
    await context.close()
    assert problems == []
    assert await Booking.exists(id=booking.id)
