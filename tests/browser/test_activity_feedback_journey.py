"""From attendance to feedback: the lead records who came, a representative follows the link in
the email they are sent and says how it went, the lead records a phone-only carer's answers for
her, sees both on the activity page, follows up the one who did not feel listened to, and reads
the report. axe-core runs on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.domain.scheduling import LONDON
from coprod.models import Activity, ActivityFeedback, Booking, Role
from coprod.services import activities, auth, bookings, contracts, representatives
from tests.browser.conftest import check_a11y, visit
from tests.browser.test_payment_journey import signed_in_page, submit
from tests.conftest import agree_to_contact, deliver_mail

pytestmark = pytest.mark.browser


async def test_attendance_to_feedback_to_follow_up(browser, live_server, world, mailbox):
    org = await world.org()
    lead_user = await world.user(org, "priya@northshire.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    people = []
    for name, details in (
        ("Alex Morgan", {"email": "alex@people.example", "contact_channels": ["email"]}),
        ("Maureen Fisher", {"phone": "01632 960 001", "contact_channels": ["phone"]}),
    ):
        rep = await representatives.create(
            lead, {"full_name": name, "representative_type": "carer", **details}
        )
        await agree_to_contact(lead, rep)
        await contracts.create(
            lead,
            rep,
            {
                "role_title": "Carer representative",
                "starts_on": (clock.today() - dt.timedelta(days=30)).isoformat(),
            },
        )
        people.append(rep)
    event = await activities.create_activity(
        lead,
        {
            "title": "Listening event",
            "kind": "meeting",
            "category": "co_evaluation",
            "duration_minutes": "120",
            "capacity": "6",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "starts_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat(),
        },
    )
    booked = [await bookings.book(lead, event, rep, "phone") for rep in people]
    # It took place yesterday (booked while in the future, then the day passed).
    yesterday = clock.today() - dt.timedelta(days=1)
    start = dt.datetime.combine(yesterday, dt.time(10), LONDON).astimezone(dt.UTC)
    await Activity.filter(id=event.id).update(starts_at=start)
    await Booking.filter(id__in=[b.id for b in booked]).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )

    # The lead records that both came.
    context, page = await signed_in_page(browser, live_server, "priya@northshire.example")
    for booking in booked:
        await visit(page, f"/bookings/{booking.id}")
        await submit(page, "Save attendance")
        await expect(page.get_by_text("Attendance recorded.")).to_be_visible()
    await context.close()

    # Alex is emailed once (Maureen asked to be phoned) and follows the link.
    await deliver_mail()
    [asked] = [m for m in mailbox.to("alex@people.example") if "How did" in m["Subject"]]
    link = re.search(r"https?://[^/\s]+(/my/bookings/\d+/feedback)", mailbox.text(asked))
    assert link is not None
    context, page = await signed_in_page(browser, live_server, "alex@people.example", None)
    await visit(page, "/my/bookings")
    await page.get_by_role("link", name=re.compile("Tell us how it went")).click()
    await page.wait_for_load_state("load")
    assert page.url.endswith(link.group(1))
    await check_a11y(page)
    await submit(page, "Send")
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select how it went")
    await page.get_by_role("group", name="How did it go?").get_by_label("Well", exact=True).check()
    await page.get_by_role("group", name="Did you feel listened to?").get_by_label("Partly").check()
    await page.get_by_label("I did not need anything").check()
    await page.get_by_label(re.compile("anything else")).fill("More time to talk, please.")
    await submit(page, "Send")
    await expect(page.get_by_text("Thank you for telling us.")).to_be_visible()
    await visit(page, "/my/bookings")
    await expect(page.get_by_text("You told us how it went. Thank you.")).to_be_visible()
    await context.close()

    # The lead phones Maureen and records what she said for her.
    context, page = await signed_in_page(browser, live_server, "priya@northshire.example")
    await visit(page, f"/activities/{event.id}")
    await expect(page.locator("#feedback")).to_be_visible()
    await page.get_by_role("link", name="Record how it went for Maureen Fisher").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "How did it go for Maureen Fisher?"
    )
    await page.get_by_role("group", name="How did it go?").get_by_label("Badly").check()
    await (
        page.get_by_role("group", name="Did you feel listened to?")
        .get_by_label("No", exact=True)
        .check()
    )
    await (
        page.get_by_role("group", name=re.compile("help you needed"))
        .get_by_label("No", exact=True)
        .check()
    )
    await page.get_by_label(re.compile("anything else")).fill("The line kept dropping.")
    await submit(page, "Send")
    await expect(page.get_by_text("Their answers are recorded.")).to_be_visible()
    section = page.locator("table", has_text="How it went")
    await expect(section).to_contain_text("Recorded by")
    await expect(section).to_contain_text("More time to talk, please.")
    await expect(page.get_by_text("2 people have said how it went.")).to_be_visible()

    # Her answer waits on the lead's home page until followed up.
    await visit(page, "/")
    await expect(page.get_by_text("Maureen Fisher: Listening event")).to_be_visible()
    await page.get_by_role("link", name="Maureen Fisher: Listening event").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await submit(page, "I have followed this up with Maureen Fisher")
    await expect(page.get_by_text("Marked as followed up.")).to_be_visible()
    # Alex felt only partly listened to: hers still waits.
    await visit(page, "/")
    await expect(page.get_by_text("Maureen Fisher: Listening event")).to_have_count(0)
    await expect(page.get_by_text("Alex Morgan: Listening event")).to_be_visible()
    assert await ActivityFeedback.filter(reviewed_at__isnull=False).count() == 1

    # The report counts both answers, and hides them: fewer than 5 gave any.
    await visit(page, "/reports?period=custom&start=" + f"{yesterday}&end={clock.today()}")
    await expect(page.get_by_text("Fewer than 5 people said how it went")).to_be_visible()
    await expect(page.get_by_role("heading", name="Survey answers")).to_be_visible()
    await context.close()
