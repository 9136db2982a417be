"""A lead logs outreach (putting a mistake right first), sees it listed with its totals and
the interest it brought in, corrects it, and a reporter reads the recruitment, outreach and
training sections of the report. axe-core runs on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.models import Outreach, Role
from tests import recruitment_rows
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


async def test_a_lead_logs_outreach_and_the_report_shows_what_it_brought_in(page, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD, Role.REPORTER)
    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("lead@trust.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_load_state("load")

    await visit(page, "/outreach")
    await page.get_by_role("link", name="Log outreach").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    tomorrow = clock.today() + dt.timedelta(days=1)
    await page.get_by_role("radio", name="Youth group").check()
    await page.get_by_label("Day").fill(str(tomorrow.day))
    await page.get_by_label("Month").fill(str(tomorrow.month))
    await page.get_by_label("Year").fill(str(tomorrow.year))
    await page.get_by_role("button", name="Save outreach").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)  # with its errors showing
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "The date must be today or in the past"
    )
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter where it was")

    yesterday = clock.today() - dt.timedelta(days=1)
    await page.get_by_label("Day").fill(str(yesterday.day))
    await page.get_by_label("Month").fill(str(yesterday.month))
    await page.get_by_label("Year").fill(str(yesterday.year))
    await page.get_by_label("Where was it?").fill("Northshire youth club")
    await page.get_by_label("How many people did it reach?").fill("35")
    await page.get_by_role("button", name="Save outreach").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_role("status")).to_contain_text("Outreach saved")

    made = await Outreach.get(place="Northshire youth club")
    for name in ("Ann", "Bea", "Cal", "Dee", "Eve", "Fay"):
        await recruitment_rows.interest(
            org.id, name, outreach_id=made.id, equality={"age_band": "16_24"}
        )
    await visit(page, "/outreach")
    row = page.locator("tr", has_text="Northshire youth club")
    await expect(row).to_contain_text("Youth group")
    await expect(row.locator("td").last).to_have_text("Interest linked 6")

    await row.get_by_role("link", name="Northshire youth club").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_text("6 people said they heard about us")).to_be_visible()
    await page.get_by_label("How many people did it reach?").fill("40")
    await page.get_by_role("button", name="Save outreach").click()
    await page.wait_for_load_state("load")
    assert (await Outreach.get(id=made.id)).people_reached == 40

    await visit(page, "/reports")
    outreach = page.locator("table", has_text="Outreach by kind")
    await expect(outreach.locator("tr", has_text="Youth group")).to_contain_text("40")
    await expect(page.get_by_text("Interest from people aged 16 to 24")).to_be_visible()
    await expect(page.locator("table", has_text="Where they are now")).to_contain_text("6")
