"""The whole way in: someone finds an interview-panel role on the organisation's public page,
says they are interested, and the lead chats with them, books their welcome session, makes them
a representative with a contract, and books them onto their first interview panel, where Coprod
warns that they have not had the panel training yet. axe-core runs on every page."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.models import Booking, Contract, Interest, InterestStatus, Representative, Role
from coprod.services import activities, auth, courses, opportunities, people
from coprod.services.actor import Actor
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


async def test_from_the_public_opportunity_page_to_a_first_booking(
    page, browser, live_server, world
):
    org = await world.org("Northshire NHS Trust")
    lead_user = await world.user(org, "lead@northshire.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    team = await people.create_team(Actor.system(via="cli"), org, "Crisis team")
    await courses.add_usual(lead)
    role = await opportunities.create(
        lead,
        {
            "title": "Member of our staff interview panels",
            "activity_kind": "interview_panel",
            "involves": "Sitting on interview panels for nurses and support workers.",
            "time_commitment": "About half a day a month.",
            "pay": await opportunities.standard_pay(org.id),
            "modes": ["in_person", "video"],
            "accessibility": "Papers in large print or easy read if you ask.",
        },
    )
    await opportunities.publish(lead, role)
    panel = await activities.create_activity(
        lead,
        {
            "title": "Interviews: ward manager",
            "kind": "interview_panel",
            "category": "co_decision",
            "duration_minutes": "180",
            "capacity": "2",
            "team_id": str(team.id),
            "video": "true",
            "video_link": "https://meet.example/panel",
            "starts_at": dt.datetime.combine(
                clock.today() + dt.timedelta(days=14), dt.time(10)
            ).isoformat(),
        },
    )

    # Someone finds the role: a fresh browser, nobody signed in.
    public_context = await browser.new_context(base_url=live_server.url, locale="en-GB")
    public = await public_context.new_page()
    try:
        await visit(public, f"/join/{org.slug}")
        await expect(public.get_by_text("No one will be turned away").first).to_be_visible()
        await public.get_by_role("link", name="Member of our staff interview panels").click()
        await check_a11y(public)
        await public.get_by_role("button", name="I'm interested").first.click()
        await check_a11y(public)
        await public.get_by_label("Your name").fill("Dev Sharma")
        await public.get_by_label("First choice").select_option("email")
        await public.get_by_label("Email address").fill("dev.sharma@example.org")
        await public.get_by_label("Someone who has used services").check()
        await asyncio.sleep(3)  # a person takes a moment; a form sent at once is held
        await public.get_by_role("button", name="Send").click()
        await expect(public.get_by_role("heading", level=1)).to_have_text("Thank you")
        await check_a11y(public)
    finally:
        await public_context.close()
    interest = await Interest.get(full_name="Dev Sharma")
    assert interest.opportunity_id == role.id and not interest.held_as_spam

    # The lead takes it from there.
    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("lead@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.get_by_role("link", name="Recruitment", exact=True).first.click()
    await check_a11y(page)
    await page.get_by_role("link", name="People interested").first.click()
    await check_a11y(page)
    await page.get_by_role("link", name="Dev Sharma").click()
    await check_a11y(page)

    await page.get_by_role("link", name="Record the chat").click()
    await check_a11y(page)
    await page.get_by_label("Large print").check()
    await page.get_by_label("Being contacted about involvement").check()
    await page.get_by_role("button", name="Save the chat").click()
    await expect(page.get_by_text("Chat recorded.")).to_be_visible()
    await check_a11y(page)

    await page.get_by_role("link", name="Book their welcome session").click()
    await check_a11y(page)
    welcome_day = clock.today() + dt.timedelta(days=3)
    await page.get_by_label("Day").fill(str(welcome_day.day))
    await page.get_by_label("Month").fill(str(welcome_day.month))
    await page.get_by_label("Year").fill(str(welcome_day.year))
    await page.get_by_label("Time").fill("10:30")
    await page.get_by_label("Video call").check()
    await page.get_by_role("button", name="Book the welcome session").click()
    await check_a11y(page)

    await page.get_by_role("link", name="Make them a representative").click()
    await check_a11y(page)
    await expect(page.get_by_label("Role title")).to_have_value(
        "Member of our staff interview panels"
    )
    await page.get_by_role("button", name="Make them a representative").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Dev Sharma")
    await check_a11y(page)

    await interest.refresh_from_db()
    assert interest.status == InterestStatus.READY
    rep = await Representative.get(id=interest.representative_id)
    # Nothing typed twice: what they and the lead gave is on the representative.
    assert (rep.email, rep.representative_type.value, rep.formats) == (
        "dev.sharma@example.org",
        "patient",
        ["large_print"],
    )
    contract = await Contract.get(representative=rep)
    assert contract.role_title == "Member of our staff interview panels"

    # Their first booking: an interview panel, before the panel training.
    await visit(page, f"/activities/{panel.id}")
    await page.get_by_label("Dev Sharma").check()
    await (
        page.get_by_role("group", name="How will they take part?")
        .get_by_label("Video call")
        .check()
    )
    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(page.get_by_text("has not done Recruitment-panel training").first).to_be_visible()
    await check_a11y(page)
    assert await Booking.exists(activity_id=panel.id, representative_id=rep.id)
