"""The public interest form in Chromium with JavaScript off (it must work without it), the
thanks page and the optional questions, then the lead's pipeline and each step's page, with
axe-core on every one. The whole journey from an opportunity to a first booking is
tests/browser's recruitment journey; this covers the pages on their own."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from coprod.models import Interest, InterestEquality, Role
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


async def test_the_public_form_works_without_javascript_and_every_step_page_is_accessible(
    browser, live_server, world
):
    org = await world.org("Northshire NHS Trust")
    await world.user(org, "lead@northshire.example", Role.INVOLVEMENT_LEAD)

    # axe-core needs JavaScript, so it checks the public pages in a second browser that has it.
    checker = await (await browser.new_context(base_url=live_server.url, locale="en-GB")).new_page()
    public = await browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    page = await public.new_page()
    await page.goto(f"/join/{org.slug}/interest")
    await expect(
        page.get_by_text("Everyone is welcome. No one will be turned away.")
    ).to_be_visible()
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_text("There is a problem")).to_be_visible()
    await page.get_by_label("Your name").fill("Ada Lovelace")
    await page.get_by_label("First choice").select_option("phone")
    await page.get_by_label("Second choice (optional)").select_option("email")
    await page.get_by_label("Phone number").fill("0113 496 0000")
    await page.get_by_label("Email address").fill("ada@example.com")
    await page.get_by_label("A carer").check()
    await asyncio.sleep(3)  # a person takes a moment; a form sent at once is held
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    about = await page.get_by_role("button", name="Answer the questions").get_attribute("href")
    assert about is not None
    for path in (f"/join/{org.slug}/interest", page.url.split(live_server.url, 1)[1], about):
        await visit(checker, path)
    await page.get_by_role("button", name="Answer the questions").click()
    await page.get_by_label("16 to 24").check()
    await page.get_by_role("button", name="Send answers").click()
    await expect(page.get_by_text("We got your answers.")).to_be_visible()
    interest = await Interest.get(full_name="Ada Lovelace")
    assert interest.held_as_spam is False
    assert (await InterestEquality.get(interest_id=interest.id)).age_band == "16_24"
    await public.close()

    lead = await browser.new_context(base_url=live_server.url, locale="en-GB")
    page = await lead.new_page()
    await page.goto("/sign-in")
    await page.get_by_label("Email address").fill("lead@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await visit(page, "/interests")
    await visit(page, "/interests/new")
    await page.get_by_role("link", name="Back", exact=True).click()
    await page.get_by_role("link", name="Ada Lovelace").click()
    await check_a11y(page)
    await page.get_by_role("link", name="Record the chat").click()
    await check_a11y(page)
    await page.get_by_label("A carer", exact=True).check()
    await page.get_by_label("Being contacted about involvement").check()
    await page.get_by_role("button", name="Save the chat").click()
    await expect(page.get_by_text("Chat recorded.")).to_be_visible()
    await check_a11y(page)
    for path in ("details", "welcome", "close", "equality"):
        await visit(page, f"/interests/{interest.id}/{path}")
    await lead.close()
