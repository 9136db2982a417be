"""A lead invites two people to say when they can come: one agreed to be contacted, one never
did. Only the first is emailed; the page says who was not contacted and why, and the lead finds
that person on the call list to phone. axe-core runs on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.models import Role
from coprod.services import auth, contracts, representatives
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD, agree_to_contact, deliver_mail

pytestmark = pytest.mark.browser


async def submit(page, name: str) -> None:
    await page.get_by_role("button", name=name, exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)


async def test_someone_without_consent_is_not_emailed_and_is_on_the_call_list(
    page, live_server, world, mailbox
):
    org = await world.org()
    lead_user = await world.user(org, "priya@northshire.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    for name, email, phone, agrees in (
        ("Alex Morgan", "alex@people.example", None, True),
        ("Nia Never", "nia@people.example", "01632 960 123", False),
    ):
        rep = await representatives.create(
            lead,
            {
                "full_name": name,
                "representative_type": "carer",
                "email": email,
                "phone": phone or "",
                "contact_channels": ["email"],
            },
        )
        await contracts.create(
            lead,
            rep,
            {"role_title": "Carer representative", "starts_on": clock.today().isoformat()},
        )
        if agrees:
            await agree_to_contact(lead, rep)

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("priya@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await submit(page, "Sign in")
    await visit(page, "/activities")
    await page.get_by_role("button", name="Plan an activity").click()
    await check_a11y(page)
    base = clock.today() + dt.timedelta(days=30)
    await page.get_by_label("Title").fill("Carers' forum")
    await page.get_by_role("radio", name="Meeting").check()
    await page.get_by_role("radio", name="Co-design: planning services").check()
    await page.get_by_label("How long will it last, in minutes?").fill("90")
    await page.get_by_label("How many representatives can take part?").fill("6")
    await page.get_by_role("checkbox", name="Video call").check()
    await page.get_by_label("Video link").fill("https://meet.example/forum")
    await page.get_by_label("Dial-in number").fill("0300 123 4567")
    await page.get_by_role("radio", name="Offer some times and ask people which suit them").check()
    for i, offset in enumerate((0, 2), start=1):
        await page.get_by_label(f"Option {i}", exact=False).first.fill(
            f"{base + dt.timedelta(days=offset)}T10:00"
        )
    await submit(page, "Save activity")
    await expect(page.get_by_text("Activity saved.")).to_be_visible()

    await page.get_by_role("checkbox", name="Alex Morgan").check()
    await page.get_by_role("checkbox", name="Nia Never").check()
    await submit(page, "Send invitations")
    await expect(page.get_by_text("Invitations sent.")).to_be_visible()
    await expect(page.get_by_role("heading", name="Not contacted")).to_be_visible()
    reasons = page.get_by_role("listitem").filter(has_text="agreed to be contacted")
    await expect(reasons).to_have_text(["Nia Never has not agreed to be contacted."])

    assert await deliver_mail() == 1
    assert [m["To"] for m in mailbox.messages] == ["alex@people.example"]

    await page.get_by_role("link", name="call list", exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_role("heading", name="Call list")).to_be_visible()
    row = page.get_by_role("row", name="Nia Never")
    await expect(row).to_contain_text("01632 960 123")
    await expect(row).to_contain_text("Carers' forum")
    await expect(row).to_contain_text("Nia Never has not agreed to be contacted")
    await expect(page.get_by_role("row", name="Alex Morgan")).to_have_count(0)

    # On a phone-sized screen the list reflows rather than scrolling sideways.
    await page.set_viewport_size({"width": 320, "height": 640})
    await page.reload()
    await check_a11y(page)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
