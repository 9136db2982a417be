"""The whole loop in a browser: someone scans the QR-code poster in a waiting room and answers the
survey; the team's feedback champion reads the answer, turns it into a "You said, we did" action
and marks it done; the same person, following the thank-you page's link, finds it on the team's
public board. axe-core checks every page."""

from __future__ import annotations

import pytest
import segno
from playwright.async_api import expect

from coprod.models import Role, Team
from coprod.models.feedback import ActionResponse, FeedbackAction, SurveyResponse
from coprod.services import actions
from coprod.services.auth import actor_for
from tests import feedback_rows
from tests.browser.conftest import check_a11y, visit
from tests.browser.test_remaining_pages import sign_in_as
from tests.test_surveys import matrix_from_svg

pytestmark = pytest.mark.browser

SAID = "Nobody told me when the nurse would come. I waited in all day."
DID = "We now text you the time of each visit the evening before."


async def test_from_the_poster_to_an_answer_to_an_action_on_the_public_board(
    browser, live_server, world
):
    org = await world.org("Northshire NHS Trust")
    lead_user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    champion = await world.user(org, "sam.champion@trust.example", Role.REPORTER)
    team = await Team.create(organisation=org, name="Crisis team")
    lead = await actor_for(lead_user, org.id)
    await actions.set_champion(lead, team.id, {"champion_id": str(champion.id)})
    survey = await feedback_rows.survey(lead, team.id)

    # The lead prints the poster. Its QR code is the link printed under it, and nothing else.
    context, page = await sign_in_as(browser, live_server, "lead@trust.example")
    await visit(page, f"/surveys/{survey.id}/poster")
    link = (await page.locator(".coprod-poster__link").inner_text()).strip()
    assert link == f"{live_server.url}/s/{survey.link_token}"
    # The dark modules' path (the poster's SVG also paints a white background).
    dark = await page.locator(".coprod-poster__qr svg path.qrline").evaluate("e => e.outerHTML")
    drawn = matrix_from_svg(f"<svg>{dark}</svg>")
    want = [[int(bool(v)) for v in row] for row in segno.make(link, error="m").matrix]
    border = 4
    assert [row[border : border + len(want)] for row in drawn[border : border + len(want)]] == want
    await context.close()

    # Someone scans it: a phone with nobody signed in.
    phone = await browser.new_context(locale="en-GB", viewport={"width": 375, "height": 740})
    public = await phone.new_page()
    await visit(public, link)
    await public.get_by_label("2: Bad").check()
    await public.get_by_label("What could we do better?").fill(SAID)
    await public.get_by_role("button", name="Send").click()
    await expect(public.get_by_role("heading", level=1)).to_have_text("Thank you")
    await check_a11y(public)
    answer = await SurveyResponse.get(survey=survey)
    assert answer.source.value == "web" and answer.contact_encrypted is None

    # The champion (not a lead) finds it among the team's new feedback and acts on it.
    context, page = await sign_in_as(browser, live_server, "sam.champion@trust.example")
    await visit(page, "/")
    await page.get_by_role("link", name="1 new feedback").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_text(SAID)).to_be_visible()
    await page.locator(f"#response-{answer.id}").check()
    await page.get_by_role("button", name="Make an action").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    assert SAID in await page.get_by_label("You said").input_value()
    await page.get_by_label("We did").fill(DID)
    await page.get_by_label("Done", exact=True).check()
    await page.get_by_role("button", name="Save action").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    action = await FeedbackAction.get(team=team)
    assert action.done_on is not None
    assert await ActionResponse.filter(action=action, response=answer).exists()
    await context.close()

    # Back on the phone, the thank-you page's link leads to the board, which shows the change.
    await public.get_by_role("link", name="See what the team changed").click()
    await public.wait_for_load_state("load")
    await check_a11y(public)
    board = await public.locator("main").inner_text()
    assert SAID in board and DID in board and "Done in" in board
    assert "sam.champion" not in board and "Sam" not in board
    await phone.close()
