"""A text to someone does not arrive: GOV.UK Notify calls back with a permanent failure. The
lead sees it on the home page and the call list, opens the person's messages, phones them and
records that they did. axe-core runs on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.models import OutboxMessage, Role
from coprod.services import bookings, messages
from coprod.services.auth import actor_for
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD, deliver_mail
from tests.test_bookings import activity, local_iso, person

pytestmark = pytest.mark.browser

NOT_DELIVERED = "Text to 07700 900123 not delivered: the number may be wrong"


async def test_a_lead_sees_a_failed_text_and_records_phoning_the_person(page, live_server, world):
    org = await world.org()
    user = await world.user(org, "priya@northshire.example", Role.INVOLVEMENT_LEAD)
    lead = await actor_for(user, org.id)
    rep = await person(lead, "Tia Text", email="", mobile="07700 900123", contact_channels=["text"])
    workshop = await activity(lead, local_iso(clock.today() + dt.timedelta(days=14)))
    await bookings.book(lead, workshop, rep, "in_person")
    assert await deliver_mail() == 1  # handed to Notify (the console sender in tests)
    text = await OutboxMessage.get(representative_id=rep.id, kind="text")

    # Notify calls back: the number does not take texts. This is what the callback hands over
    # (tests/test_delivery_status.py posts it for real, with Notify's bearer token).
    assert (
        await messages.record_delivery(
            {
                "id": text.provider_id,
                "reference": text.message_id,
                "to": "07700900123",
                "status": "permanent-failure",
                "created_at": "2026-12-01T10:00:00.000000Z",
                "completed_at": "2026-12-01T10:00:05.000000Z",
                "sent_at": "2026-12-01T10:00:01.000000Z",
                "notification_type": "sms",
                "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
                "template_version": 1,
            }
        )
        == "permanent-failure"
    )

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("priya@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    calls = page.get_by_role("link", name="1 call to make", exact=False)
    await expect(calls).to_be_visible()
    await calls.click()
    await page.wait_for_load_state("load")
    await check_a11y(page)

    row = page.get_by_role("row", name="Tia Text")
    await expect(row).to_contain_text(NOT_DELIVERED)
    await row.get_by_role("link", name="Booking confirmed").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_role("heading", name="Messages to Tia Text")).to_be_visible()
    message = page.get_by_role("row", name="Booking confirmed")
    await expect(message).to_contain_text("Not delivered: the number may be wrong")

    await message.get_by_role("button", name="I have phoned them").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_role("row", name="Booking confirmed")).to_contain_text(
        "You phoned them on"
    )
    await expect(page.get_by_role("button", name="I have phoned them")).to_have_count(0)

    await visit(page, "/call-list")
    await expect(page.get_by_text("Nobody to phone.")).to_be_visible()
    await visit(page, f"/representatives/{rep.id}")
    await expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    await visit(page, "/")
    await expect(page.get_by_role("link", name="0 calls to make", exact=False)).to_be_visible()
