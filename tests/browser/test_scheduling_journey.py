"""A lead plans an activity with three time options and two ways to take part; two
representatives answer from their emailed links; the lead picks a time, then confirms who to
book for it; one person is flagged for a wellbeing conversation, which the lead records as
"proceed"; both get calendar invites. Moving the activity into someone's break asks the lead to
decide for them. axe-core runs on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import vobject
from playwright.async_api import expect

from coprod import clock
from coprod.domain.scheduling import Refusal
from coprod.models import Booking, BookingStatus, Role
from coprod.services import auth, contracts, representatives, wellbeing
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD, agree_to_contact, deliver_mail

pytestmark = pytest.mark.browser


async def submit(page, name: str) -> None:
    await page.get_by_role("button", name=name, exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)


def calendar_part(message):
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return vobject.readOne(
                part.get_content()
                if isinstance(part.get_content(), str)
                else part.get_content().decode()
            )
    raise AssertionError("no calendar attachment")


async def test_plan_poll_finalise_wellbeing_check_and_invites(
    page, browser, live_server, world, mailbox
):
    org = await world.org()
    lead_user = await world.user(org, "priya@northshire.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    people = {}
    for name, email in (
        ("Alex Morgan", "alex@people.example"),
        ("Bea Braille", "bea@people.example"),
    ):
        rep = await representatives.create(
            lead,
            {
                "full_name": name,
                "representative_type": "patient",
                "email": email,
                "contact_channels": ["email"],
            },
        )
        await contracts.create(
            lead,
            rep,
            {"role_title": "Patient representative", "starts_on": clock.today().isoformat()},
        )
        await agree_to_contact(lead, rep)
        people[name] = rep
    # Bea is in an acute episode that started ten days ago and is still going on.
    await wellbeing.give_consent(lead, people["Bea Braille"], {"purpose": "health"})
    await wellbeing.record_episode(
        lead,
        people["Bea Braille"],
        {
            "started_on": (clock.today() - dt.timedelta(days=10)).isoformat(),
            "under_crisis_team": "yes",
        },
    )

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("priya@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await submit(page, "Sign in")
    await visit(page, "/activities")
    await page.get_by_role("button", name="Plan an activity").click()
    await check_a11y(page)

    base = clock.today() + dt.timedelta(days=30)
    await page.get_by_label("Title").fill("Service design workshop")
    await page.get_by_role("radio", name="Meeting").check()
    await page.get_by_role("radio", name="Co-design: planning services").check()
    await page.get_by_label("How long will it last, in minutes?").fill("120")
    await page.get_by_label("How many representatives can take part?").fill("4")
    await page.get_by_role("checkbox", name="Video call").check()
    await page.get_by_label("Video link").fill("https://meet.example/design")
    await page.get_by_label("Dial-in number").fill("0300 123 4567")
    await page.get_by_label("PIN (optional)").fill("2468")
    await page.get_by_role("radio", name="Offer some times and ask people which suit them").check()
    for i, offset in enumerate((0, 2, 4), start=1):
        await page.get_by_label(f"Option {i}", exact=False).first.fill(
            f"{base + dt.timedelta(days=offset)}T10:00"
        )
    await submit(page, "Save activity")
    await expect(page.get_by_text("Activity saved.")).to_be_visible()

    await page.get_by_role("checkbox", name="Alex Morgan").check()
    await page.get_by_role("checkbox", name="Bea Braille").check()
    await submit(page, "Send invitations")
    await expect(page.get_by_text("Invitations sent.")).to_be_visible()

    assert await deliver_mail() == 2
    for name, answers in (
        ("Alex Morgan", ("Yes", "No", "If need be")),
        ("Bea Braille", ("Yes", "If need be", "No")),
    ):
        [message] = mailbox.to(people[name].email)
        link = re.search(re.escape(live_server.url) + r"/answer/\S+", mailbox.text(message)).group(
            0
        )
        context = await browser.new_context(base_url=live_server.url, locale="en-GB")
        rep_page = await context.new_page()
        try:
            await visit(rep_page, link)
            groups = rep_page.locator("fieldset")
            for index, answer in enumerate(answers):
                await groups.nth(index).get_by_role("radio", name=answer, exact=True).check()
            await rep_page.get_by_role(
                "radio", name="Video call" if name == "Alex Morgan" else "Phone call"
            ).check()
            if name == "Alex Morgan":
                await rep_page.get_by_label("Anything we should know? (optional)").fill(
                    "I need captions"
                )
            await submit(rep_page, "Send answers")
            await expect(rep_page.get_by_role("heading", name="Thank you")).to_be_visible()
        finally:
            await context.close()
    mailbox.messages.clear()

    await page.reload()
    await check_a11y(page)
    await expect(page.locator("tfoot")).to_contain_text("Yes 2, if need be 0, no 0")
    await expect(page.get_by_text("Their note: I need captions")).to_be_visible()
    # The second time: Alex said no, so the confirmation step does not offer to book him.
    await page.locator('input[name="option_id"]').nth(1).check()
    await submit(page, "Continue")
    await expect(page.get_by_text("Alex Morgan: they answered no to this time")).to_be_visible()
    await expect(page.get_by_role("checkbox", name="Alex Morgan")).to_have_count(0)
    await page.get_by_role("link", name="Choose another time").first.click()
    await page.wait_for_load_state("load")
    await submit(page, "Continue")  # the best time is already chosen
    await expect(page.get_by_role("checkbox", name="Alex Morgan")).to_be_checked()
    await expect(page.get_by_role("checkbox", name="Bea Braille")).to_be_checked()
    await submit(page, "Book this time")
    await expect(page.get_by_text("Bea Braille: wellbeing check needed")).to_be_visible()
    await expect(page.get_by_text("Alex Morgan: confirmed")).to_be_visible()

    bea_booking = await Booking.get(representative=people["Bea Braille"])
    assert bea_booking.status == BookingStatus.NEEDS_WELLBEING_CHECK
    await visit(page, f"/bookings/{bea_booking.id}")
    await page.get_by_role("radio", name="Proceed").check()
    await page.get_by_label("What does Bea Braille want to do?").fill(
        "She wants to take part by phone."
    )
    await page.get_by_label("Note of the conversation").fill(
        "Talked on the phone; agreed a short break halfway."
    )
    await submit(page, "Record the conversation")
    await expect(page.get_by_text("Conversation recorded.")).to_be_visible()
    await bea_booking.refresh_from_db()
    assert bea_booking.status == BookingStatus.CONFIRMED

    assert await deliver_mail() == 2
    for name, location in (
        ("Alex Morgan", "https://meet.example/design"),
        ("Bea Braille", "Phone 0300 123 4567, PIN 2468"),
    ):
        [message] = mailbox.to(people[name].email)
        invite = calendar_part(message)
        assert invite.method.value == "REQUEST"
        booking = await Booking.get(representative=people[name])
        assert invite.vevent.uid.value == booking.uid
        assert invite.vevent.location.value == location
        start = invite.vevent.dtstart.value
        assert start.astimezone(dt.UTC) == booking.starts_at
        assert start.replace(tzinfo=None) == dt.datetime.combine(base, dt.time(10, 0))

    # Alex takes a break over the day the lead wants to move the activity to.
    new_day = base + dt.timedelta(days=7)
    await representatives.set_break(lead, people["Alex Morgan"], new_day)
    mailbox.messages.clear()
    await visit(page, f"/activities/{booking.activity_id}")
    await page.get_by_label("New date and time").fill(f"{new_day}T14:00")
    await submit(page, "Move activity")
    await expect(page.get_by_text(Refusal.ON_BREAK.value, exact=True)).to_be_visible()
    await page.get_by_role("radio", name="Keep it anyway").check()
    await page.get_by_label("If you keep it, why?").fill("He asked to come to this one")
    await submit(page, "Move activity")
    await expect(page.get_by_text("Moved.", exact=False)).to_be_visible()
    assert await deliver_mail() == 2

    for path in ("/call-list", "/arrangements/overdue", "/projects"):
        await visit(page, path)
