"""A lead sets up a representative with Braille and interpreter needs and a contract; the
representative signs in by emailed link and takes a break. axe-core runs on every page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.models import Contract, Representative, Role
from coprod.services import people
from coprod.services.actor import Actor
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD, deliver_mail

pytestmark = pytest.mark.browser


async def submit(page, name: str) -> None:
    await page.get_by_role("button", name=name, exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)


async def test_lead_sets_up_a_representative_who_then_takes_a_break(
    page, browser, live_server, world, mailbox
):
    org = await world.org()
    await people.create_team(Actor.system(via="cli"), org, "Crisis Resolution and Home Treatment")
    await world.user(org, "priya@northshire.example", Role.INVOLVEMENT_LEAD)

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("priya@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await submit(page, "Sign in")

    await visit(page, "/representatives")
    await page.get_by_role("button", name="Add a representative").click()
    await check_a11y(page)

    # Wrong first: the error summary names each problem, and nothing is saved.
    await page.get_by_label("Email address (optional)").fill("bea@people.example")
    await page.get_by_role("checkbox", name="Interpreter", exact=True).check()
    await submit(page, "Add representative")
    summary = page.locator(".nhsuk-error-summary")
    await expect(summary).to_contain_text("Enter their full name")
    await expect(summary).to_contain_text("Select whether they are a patient, a carer or both")
    await expect(summary).to_contain_text("Enter the language the interpreter should speak")
    assert await Representative.all().count() == 0

    await page.get_by_label("Full name").fill("Bea Braille")
    await page.get_by_role("radio", name="Patient", exact=True).check()
    await page.get_by_role("checkbox", name="Braille").check()
    await page.get_by_label("Language the interpreter should speak (if needed)").fill("Polish")
    await page.get_by_role("checkbox", name="Crisis Resolution and Home Treatment").check()
    await page.get_by_role("checkbox", name="In person").check()
    await page.get_by_role("checkbox", name="Phone call").check()
    await page.get_by_role("checkbox", name="Monday Morning").check()
    await submit(page, "Add representative")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bea Braille")
    await expect(page.get_by_text("Representative added.")).to_be_visible()
    details = page.locator(".nhsuk-summary-list")
    await expect(details).to_contain_text("Braille")
    await expect(details).to_contain_text("Interpreter (Polish)")
    await expect(details).to_contain_text("Monday morning")

    await page.get_by_role("link", name="Add a contract").click()
    await check_a11y(page)
    await page.get_by_label("Role title").fill("Patient representative")
    await submit(page, "Add contract")
    await expect(page.get_by_text("Contract added.")).to_be_visible()
    contract = await Contract.get()
    assert contract.starts_on == clock.today()
    assert contract.ends_on == dt.date(
        contract.starts_on.year + 3, contract.starts_on.month, contract.starts_on.day
    ) - dt.timedelta(days=1)
    await expect(page.locator("table").first).to_contain_text("Active")

    # The lead's other pages for this person, and the organisation-wide lists.
    await page.get_by_role("button", name="Record consent: Holding health information").click()
    await check_a11y(page)
    rep = await Representative.get()
    for path in (
        f"/representatives/{rep.id}/health",
        f"/representatives/{rep.id}/equality",
        f"/representatives/{rep.id}/edit",
        f"/contracts/{contract.id}/renew",
        f"/contracts/{contract.id}/end",
        f"/contracts/{contract.id}/catch-ups",
        "/catch-ups",
        "/consents/review",
        "/representatives?need=braille",
    ):
        await visit(page, path)
    await expect(page.get_by_role("link", name="Bea Braille")).to_be_visible()

    # The representative signs in by link, in a browser of their own.
    context = await browser.new_context(base_url=live_server.url, locale="en-GB")
    rep_page = await context.new_page()
    try:
        await visit(rep_page, "/sign-in/link")
        await rep_page.get_by_label("Email address").fill("bea@people.example")
        await submit(rep_page, "Send me a link")
        assert await deliver_mail() >= 1
        [message] = mailbox.to("bea@people.example")
        link = re.search(re.escape(live_server.url) + r"/sign-in/link/\S+", mailbox.text(message))
        assert link
        await visit(rep_page, link.group(0))
        await submit(rep_page, "Sign in")
        await rep_page.get_by_role("link", name="My profile").first.click()
        await check_a11y(rep_page)
        await expect(rep_page.get_by_role("heading", level=1)).to_have_text("My profile")
        await expect(rep_page.locator(".nhsuk-summary-list")).to_contain_text(
            "Interpreter (Polish)"
        )
        await visit(rep_page, "/my/profile/edit")
        await visit(rep_page, "/my/profile/equality")

        await visit(rep_page, "/my/profile")
        await rep_page.get_by_role("link", name="Take a break").click()
        await check_a11y(rep_page)
        until = clock.today() + dt.timedelta(days=60)
        await rep_page.get_by_label("Day").fill(str(until.day))
        await rep_page.get_by_label("Month").fill(str(until.month))
        await rep_page.get_by_label("Year").fill(str(until.year))
        await submit(rep_page, "Save break")
        await expect(rep_page.get_by_text("Break updated.")).to_be_visible()
        await expect(rep_page.get_by_text("You are taking a break until")).to_be_visible()
        await rep.refresh_from_db()
        assert rep.break_until == until

        # They see nobody else's record.
        assert (await rep_page.goto(f"/representatives/{rep.id}")).status == 403
    finally:
        await context.close()
