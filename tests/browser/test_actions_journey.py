"""Closing the loop in a browser: an administrator chooses a team's feedback champion, who reads
the team's new feedback, tags a theme, turns it into a "You said, we did" action, links the
workshop that came of it and marks it done; the public board then shows it, with nobody's name.
Every page is checked with axe-core."""

from __future__ import annotations

import pytest

from coprod.models import OutboxMessage, Role, Team
from coprod.models.feedback import ActionStatus, FeedbackAction, ResponseTheme
from coprod.services.auth import actor_for
from tests import feedback_rows
from tests.browser.conftest import check_a11y, visit
from tests.browser.test_remaining_pages import sign_in_as
from tests.test_bookings import person

pytestmark = pytest.mark.browser


async def test_a_champion_reads_feedback_makes_an_action_and_the_board_shows_it(
    browser, live_server, world
):
    org = await world.org("Northshire NHS Trust")
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    lead_user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    champion = await world.user(org, "chris.champion@trust.example", Role.FINANCE_OFFICER)
    team = await Team.create(organisation=org, name="Crisis team")
    lead = await actor_for(lead_user, org.id)
    ada = await person(lead, "Ada Lovelace")
    workshop = await feedback_rows.attended_activity(
        lead, [ada], title="Waiting room workshop", team_id=team.id
    )
    survey = await feedback_rows.survey(lead, team.id)
    cold = await feedback_rows.response(lead, survey, "The waiting room is freezing")
    await feedback_rows.response(lead, survey, "Staff were kind", paper=True, rating=5)

    context, page = await sign_in_as(browser, live_server, "admin@trust.example")
    await visit(page, "/admin/teams")
    await page.get_by_label("Crisis team: feedback champion").select_option(str(champion.id))
    await page.get_by_role("button", name="Save champion").click()
    await page.wait_for_load_state("load")
    assert "champion=1" in page.url
    await check_a11y(page)
    await context.close()

    context, page = await sign_in_as(browser, live_server, "chris.champion@trust.example")
    await visit(page, "/")
    await page.get_by_role("link", name="2 new feedback").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    assert await page.get_by_text("The waiting room is freezing").count() == 1
    assert await page.get_by_text("Paper", exact=True).count() == 1

    themes = page.locator(f"#themes-{cold.id}")
    await themes.get_by_label("New theme (optional)").fill("The building")
    await themes.get_by_role("button", name="Save themes").click()
    await page.wait_for_load_state("load")
    assert "tagged=1" in page.url
    await check_a11y(page)
    assert await ResponseTheme.filter(response=cold, theme__name="The building").exists()

    # Asking for an action with nothing chosen is refused, accessibly.
    await page.get_by_role("button", name="Make an action").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    assert await page.get_by_text("Select at least one piece of feedback").count() >= 1

    await page.locator(f"#response-{cold.id}").check()
    await page.get_by_role("button", name="Make an action").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    assert "The waiting room is freezing" in await page.get_by_label("You said").input_value()
    await page.get_by_label("We did").fill("We fixed the heating and added blankets")
    await page.get_by_label("In progress").check()
    await page.get_by_label("Waiting room workshop", exact=False).check()
    await page.get_by_role("button", name="Save action").click()
    await page.wait_for_load_state("load")
    assert "saved=1" in page.url
    await check_a11y(page)

    await page.get_by_label("Done", exact=True).check()
    await page.get_by_role("button", name="Save action").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    action = await FeedbackAction.get(team=team)
    assert action.status is ActionStatus.DONE and action.done_on is not None
    assert await OutboxMessage.filter(notification="action_done", representative_id=ada.id).exists()
    await visit(page, f"/teams/{team.id}/actions")
    await visit(page, f"/teams/{team.id}/feedback/new")
    await context.close()

    public = await browser.new_context(base_url=live_server.url, locale="en-GB")
    page = await public.new_page()
    await visit(page, f"/you-said-we-did/{org.slug}/{team.id}")
    text = await page.locator("main").inner_text()
    assert "We fixed the heating and added blankets" in text
    assert "Done in" in text
    for private in ("Ada Lovelace", "Champion", "Waiting room workshop", "@"):
        assert private not in text
    await visit(page, f"/you-said-we-did/{org.slug}/{team.id}/poster")
    assert "We fixed the heating" in await page.locator("main").inner_text()
    await visit(page, f"/you-said-we-did/{org.slug}/999999", status=404)
    await public.close()
    assert workshop.id
