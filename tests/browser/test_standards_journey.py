"""A lead gets a team ready for peer review: marks standards, links a suggested interview panel
and a note, then opens the printable page and downloads the CSV. axe-core runs on every page."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.async_api import expect

from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD
from tests.standards_world import held, teams

pytestmark = pytest.mark.browser


async def test_a_lead_marks_standards_links_evidence_and_prints_the_review(page, world):
    w = await teams(world)
    await held(w.t.lead, w.reps[:2], title="Team manager interviews", kind="interview_panel")

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("lead@trust.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await visit(page, f"/teams/{w.team.id}/standards")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Patient and carer standards: self-review"
    )

    await page.get_by_role("link", name="Standard 54", exact=True).click()
    await check_a11y(page)
    # Saving without a choice says what to do, beside the question.
    await page.get_by_role("button", name="Save the mark").click()
    await check_a11y(page)
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Select whether the standard is met"
    )
    await page.get_by_label("Met", exact=True).check()
    await page.get_by_label("Note (optional)").fill("On every panel since April")
    await page.get_by_role("button", name="Save the mark").click()
    await check_a11y(page)
    await expect(page.get_by_text("The mark is saved.")).to_be_visible()

    suggested = page.locator("li", has_text="Representatives sat on a staff interview panel")
    await expect(suggested).to_contain_text("Team manager interviews")
    await suggested.get_by_role("button").click()
    await check_a11y(page)
    await expect(page.get_by_text("The evidence is linked.")).to_be_visible()
    evidence = page.locator("#evidence + ul")
    await expect(evidence).to_contain_text("2 representatives took part")

    await page.get_by_label("Evidence in your own words").fill("Panel guidance written with carers")
    await page.get_by_role("button", name="Add the note").click()
    await check_a11y(page)
    await expect(evidence.locator("li")).to_have_count(2)

    await page.get_by_role("link", name="All standards").click()
    await page.get_by_role("link", name="Standard 90", exact=True).click()
    await page.get_by_label("Partly met").check()
    await page.get_by_role("button", name="Save the mark").click()
    await check_a11y(page)

    await visit(page, f"/teams/{w.team.id}/standards")
    staffing = page.locator('#shares tr[data-section="Staffing and Training"]')
    await expect(staffing.locator('[data-figure="met"]')).to_contain_text("1")
    await expect(staffing.locator('[data-figure="partly_met"]')).to_contain_text("1")
    await expect(staffing.locator('[data-figure="percent_met"]')).to_contain_text("25%")

    await page.get_by_role("link", name="Printable page for peer reviewers").click()
    await check_a11y(page)
    await expect(page.get_by_role("img", name="Share of standards met, by section")).to_be_visible()
    panel = page.locator("#standard-54")
    await expect(panel).to_contain_text("fewer than 5 representatives took part")
    await expect(panel).to_contain_text("Panel guidance written with carers")
    await expect(page.locator("body")).not_to_contain_text("Person trust")

    await visit(page, f"/teams/{w.team.id}/standards")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download as a spreadsheet (CSV)").click()
    download = await info.value
    content = (await download.path()).read_bytes()
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 44
    by_number = {r["number"]: r for r in rows}
    assert by_number["54"]["status"] == "Met"
    assert by_number["54"]["note"] == "On every panel since April"
    assert "Team manager interviews" in by_number["54"]["evidence"]
    assert by_number["90"]["status"] == "Partly met"
