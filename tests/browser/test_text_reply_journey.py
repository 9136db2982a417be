"""A person who hears from us by text answers an invitation in words we cannot read; the lead
finds their text on the call list, phones them and says so. axe-core runs on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.models import ReceivedText, Role
from coprod.services import activities, auth, contracts, polls, representatives, text_replies
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD, agree_to_contact

pytestmark = pytest.mark.browser


async def test_a_lead_phones_about_a_text_they_could_not_read(page, live_server, world):
    org = await world.org()
    lead_user = await world.user(org, "priya@northshire.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    tess = await representatives.create(
        lead,
        {
            "full_name": "Tess Texter",
            "representative_type": "carer",
            "mobile": "07700 900123",
            "contact_channels": ["text"],
        },
    )
    await contracts.create(
        lead, tess, {"role_title": "Carer representative", "starts_on": clock.today().isoformat()}
    )
    await agree_to_contact(lead, tess)
    soon = dt.datetime.combine(clock.today() + dt.timedelta(days=20), dt.time(10))
    poll = await activities.plan(
        lead,
        {
            "title": "Carers' forum",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": "90",
            "capacity": "6",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "option_1": soon.isoformat(),
            "option_2": (soon + dt.timedelta(days=1)).isoformat(),
        },
    )
    await polls.invite(lead, poll, [tess.id])
    # What Notify's inbound callback hands over (tests/test_text_replies.py posts it for real).
    await text_replies.receive(
        text_replies.Inbound(
            notify_id="journey-1",
            source_number="447700900123",
            message="1 yes 2 only if it is after lunch",
            received_at=dt.datetime.now(dt.UTC),
        )
    )

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("priya@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_role("link", name="1 call to make")).to_be_visible()

    await visit(page, "/call-list")
    row = page.get_by_role("row", name="Tess Texter")
    await expect(row).to_contain_text("1 yes 2 only if it is after lunch")
    await expect(row).to_contain_text("The reply had words we could not read")
    await expect(row).to_contain_text("07700 900123")
    await expect(row).to_contain_text("Carers' forum")
    await row.get_by_role("button", name="I have phoned Tess Texter about their text").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_text("Nobody to phone.")).to_be_visible()
    text = await ReceivedText.get()
    assert text.dealt_with_by_id == lead_user.id
