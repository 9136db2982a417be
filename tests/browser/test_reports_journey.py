"""A reporter opens the financial-year report, switches to a quarter and downloads the CSV;
a network reporter opens the roll-up. axe-core runs on every page."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from playwright.async_api import expect

from coprod.models import Network, NetworkMember, NetworkMembership, NetworkRole, Organisation, Role
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD
from tests.involvement import claimed_and_approved, last_financial_year, person, took_part, trust

pytestmark = pytest.mark.browser


async def test_reporter_reads_the_year_then_a_quarter_and_downloads_the_csv(page, world):
    t = await trust(world)
    org = await Organisation.get(id=t.organisation_id)
    await world.user(org, "rita@northshire.example", Role.REPORTER)
    year = last_financial_year()
    start = dt.date(year, 4, 1)
    # Three people answered one equality question: too few to show.
    people = [
        await person(
            t,
            f"Person {i}",
            ("patient", "carer")[i % 2],
            contract_from=start,
            equality={"sex": "female"} if i < 3 else None,
        )
        for i in range(9)
    ]
    rows = [
        await took_part(
            t,
            people[i % 9],
            start + dt.timedelta(days=i * 5),
            category=("co_design", "co_decision", "co_delivery", "co_evaluation")[i % 4],
            mode=("in_person", "video", "phone")[i % 3],
            minutes=120,
        )
        for i in range(40)
    ]
    for rep in people:
        await claimed_and_approved(t, rep, rows, miles=10)
    in_q1 = [r for r in rows if r["day"] < dt.date(year, 7, 1)]

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("rita@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    # Each click waits for the page it opens: a click on the home page before it has loaded
    # can be lost.
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in", exact=True).click()
    async with page.expect_navigation():
        await page.get_by_role("link", name="Reports").first.click()
    await page.locator("#year").select_option(str(year))
    await page.get_by_role("button", name="Show report").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    # The page names exactly the figures it hides, and nothing else: the three who took part
    # are representatives too, so their column hides the same counts.
    note = page.locator("#hidden-figures")
    await note.get_by_text("4 figures are hidden on this page").click()
    await expect(note.locator("li")).to_have_text(
        [
            "What is your sex?: Female",
            "What is your sex?: Female (representatives)",
            "What is your sex?: Everyone who answered",
            "What is your sex?: Everyone who answered (representatives)",
        ]
    )
    reach = page.locator("table", has_text="What is your sex?")
    for group, shown in (("Female", "Hidden"), ("Male", "0"), ("Everyone who answered", "Hidden")):
        header = page.get_by_role("rowheader", name=group, exact=True)
        await expect(reach.locator("tr", has=header)).to_contain_text(shown)
    await check_a11y(page)
    await expect(page.locator(".nhsuk-lede-text")).to_contain_text(
        f"April {year} to March {year + 1}"
    )
    total_hours = round(len(rows) * 120 / 60, 1)
    await expect(page.locator("svg.coprod-chart").first).to_be_visible()
    await expect(page.get_by_role("img", name="Hours of co-production by category")).to_be_visible()
    await expect(page.locator("table").first).to_contain_text(str(total_hours / 4))

    await page.get_by_role("radio", name="Quarter").check()
    await page.get_by_label("Quarter (if you chose a quarter)").select_option("1")
    await page.get_by_role("button", name="Show report").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.locator(".nhsuk-lede-text")).to_contain_text("Quarter 1")
    await expect(page.locator(".nhsuk-summary-list").first).to_contain_text(
        str(len({r["representative_id"] for r in in_q1}))
    )

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download as a spreadsheet (CSV)").click()
    download = await info.value
    content = (await download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for Excel
    parsed = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert parsed and len(parsed) > 5
    hours = {tuple(r[:3]): r[3] for r in parsed[1:] if len(r) >= 4}
    q1_design = sum(r["minutes"] for r in in_q1 if r["category"] == "co_design") / 60
    assert float(hours[("by_category", "co_design", "hours")]) == round(q1_design, 1)

    await visit(page, "/reports/population")


async def test_network_reporter_sees_members_side_by_side(page, world):
    first = await world.org("First Trust")
    second = await world.org("Second Trust")
    network = await Network.create(name="Crisis care quality network")
    for org in (first, second):
        await NetworkMembership.create(network=network, organisation=org)
    user = await world.user(first, "nina@network.example", Role.REPORTER)
    await NetworkMember.create(user=user, network=network, role=NetworkRole.NETWORK_REPORTER)
    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("nina@network.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await visit(page, f"/reports/networks/{network.id}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Crisis care quality network"
    )
    await expect(page.get_by_text("Members side by side")).to_be_visible()
    await expect(page.locator("table", has_text="First Trust")).to_contain_text("Second Trust")
