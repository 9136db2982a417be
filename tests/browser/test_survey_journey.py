"""A lead builds a survey from a template, opens it, looks at the poster and the paper prints,
a member of the public answers it by its link, the lead types in a paper answer, and the team's
targets move. axe-core runs on every page."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.models import Role
from coprod.models.feedback import Survey, SurveyResponse
from coprod.services import people
from coprod.services.actor import Actor
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


async def test_a_lead_builds_a_survey_the_public_answers_and_the_targets_move(
    page, browser, live_server, world
):
    org = await world.org("Northshire NHS Trust")
    await world.user(org, "lead@northshire.example", Role.INVOLVEMENT_LEAD)
    team = await people.create_team(Actor.system(via="cli"), org, "Crisis team")

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("lead@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.get_by_role("link", name="Feedback", exact=True).first.click()
    await check_a11y(page)
    await expect(page.locator(f"#patients-{team.id}")).to_have_text("0 of 10")

    await page.get_by_role("link", name="Start a survey").first.click()
    await check_a11y(page)
    await page.get_by_label("Team", exact=True).select_option(str(team.id))
    await page.get_by_label("Patients, at the start").check()
    await page.get_by_role("button", name="Start survey").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Starting with our team")
    await check_a11y(page)
    # A question of the lead's own, added while it is a draft.
    await page.get_by_label("Own words").check()
    await page.get_by_label("Question", exact=True).fill("Anything else?")
    await page.get_by_role("button", name="Add question").click()
    await expect(page.get_by_text("Question added.")).to_be_visible()
    await check_a11y(page)
    await page.get_by_role("button", name="Open the survey").click()
    await expect(page.get_by_text("The survey is open")).to_be_visible()
    await check_a11y(page)

    survey = await Survey.get(team_id=team.id)
    link = f"{live_server.url}/s/{survey.link_token}"
    await page.get_by_role("link", name="Poster with a QR code").click()
    await check_a11y(page)
    await expect(page.get_by_role("img", name="QR code")).to_be_visible()
    await expect(page.get_by_text(link, exact=True)).to_be_visible()
    for kind in ("standard", "large-print", "easy-read"):
        await visit(page, f"/surveys/{survey.id}/paper?print={kind}")
        await expect(page.locator("#paper")).to_contain_text("Did you feel listened to?")

    # Someone scans the poster: a fresh browser with no sign-in.
    public_context = await browser.new_context(locale="en-GB")
    public = await public_context.new_page()
    try:
        await visit(public, link)
        await public.get_by_label("4: Good").check()
        await (
            public.get_by_role("group", name="Did you feel listened to?")
            .get_by_label("Yes")
            .check()
        )
        await public.get_by_label("What could we do better?").fill("Ring back a bit sooner.")
        await public.get_by_role("button", name="Send").click()
        await expect(public.get_by_role("heading", level=1)).to_have_text("Thank you")
        await check_a11y(public)
        await expect(
            public.get_by_role("link", name="See what the team changed")
        ).to_have_attribute("href", f"/you-said-we-did/{org.slug}/{team.id}")
    finally:
        await public_context.close()

    # A paper form comes back to the office.
    await visit(page, f"/surveys/{survey.id}")
    await page.get_by_role("link", name="Type in a paper answer").click()
    await check_a11y(page)
    today = clock.today()
    await page.get_by_label("Day").fill(str(today.day))
    await page.get_by_label("Month").fill(str(today.month))
    await page.get_by_label("Year").fill(str(today.year))
    await page.get_by_label("2: Bad").check()
    await page.get_by_role("button", name="Save paper answer").click()
    await expect(page.locator("#saved")).to_be_visible()
    await check_a11y(page)
    assert await SurveyResponse.filter(source="paper").count() == 1

    await visit(page, f"/surveys/{survey.id}/results")
    await expect(page.locator("#responses")).to_have_text("2 answers")
    await expect(page.locator("#too-few")).to_be_visible()
    await visit(page, f"/teams/{team.id}/feedback")
    await expect(page.locator("#patients")).to_have_text("2 of 10")
    await expect(page.get_by_text("2 at the start, 0 at the end")).to_be_visible()
    await visit(page, "/feedback")
    await expect(page.locator(f"#patients-{team.id}")).to_have_text("2 of 10")
