"""Two organisations form a network through the pages: one administrator sets it up and invites
the other, whose administrator joins it; each page is checked with axe-core on the way."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from coprod.models import MembershipStatus, NetworkMember, NetworkMembership, NetworkRole, Role
from tests.browser.conftest import check_a11y, visit
from tests.browser.test_remaining_pages import sign_in_as

pytestmark = pytest.mark.browser


async def test_an_administrator_sets_up_a_network_and_another_organisation_joins(
    browser, live_server, world
):
    north = await world.org("Northshire NHS Trust")
    south = await world.org("Southshire NHS Trust")
    await world.user(north, "admin@north.example", Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)
    await world.user(south, "admin@south.example", Role.ORG_ADMIN)
    await world.user(south, "reporter@south.example", Role.REPORTER)

    context, page = await sign_in_as(browser, live_server, "admin@north.example")
    await visit(page, "/networks")
    await page.get_by_role("button", name="Set up network").click()
    # An empty name is refused field by field, and the page with its errors is accessible too.
    # expect() waits for the refused page: counting at once can run before it has arrived.
    await expect(page.get_by_role("alert")).to_have_count(1)
    await check_a11y(page)
    await page.get_by_label("Name of the network").fill("North Region Crisis Care Network")
    await page.get_by_role("button", name="Set up network").click()
    await page.wait_for_load_state("load")
    assert "created=1" in page.url
    await check_a11y(page)
    network_path = page.url.split(live_server.url, 1)[1].split("?", 1)[0]

    await page.get_by_label("Organisation's short name or number").fill("no-such-trust")
    await page.get_by_role("button", name="Send invitation").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    assert await page.get_by_text("Enter the short name (slug) or number").count() >= 1
    await page.get_by_label("Organisation's short name or number").fill(south.slug)
    await page.get_by_role("button", name="Send invitation").click()
    await page.wait_for_load_state("load")
    assert "invited=1" in page.url
    await check_a11y(page)
    await context.close()

    context, page = await sign_in_as(browser, live_server, "admin@south.example")
    await visit(page, "/networks")
    await page.get_by_role("button", name="Join North Region Crisis Care Network").click()
    await page.wait_for_load_state("load")
    assert "answered=accepted" in page.url
    await check_a11y(page)
    await visit(page, network_path)
    assert await page.get_by_role("cell", name="Southshire NHS Trust").count() == 1
    await context.close()

    membership = await NetworkMembership.get(organisation=south)
    assert membership.status == MembershipStatus.ACCEPTED

    # The network's administrator lets the other organisation's reporter see the report.
    context, page = await sign_in_as(browser, live_server, "admin@north.example")
    await visit(page, network_path)
    await page.get_by_label("Their email address on Coprod").fill("reporter@south.example")
    await page.get_by_label("Network reporter").check()
    await page.get_by_role("button", name="Give role").click()
    await page.wait_for_load_state("load")
    assert "given=1" in page.url
    await check_a11y(page)
    assert await page.get_by_role("cell", name="Reporter (reporter@south.example)").count() == 1
    # Removing the only administrator is refused, with the reason on the page.
    await page.get_by_role("button", name="Remove Admin as network administrator").click()
    await page.wait_for_load_state("load")
    assert await page.get_by_text("A network needs at least one administrator").count() >= 1
    await check_a11y(page)
    await page.get_by_role("button", name="Remove Reporter as network reporter").click()
    await page.wait_for_load_state("load")
    assert "taken=1" in page.url
    assert await NetworkMember.filter(role=NetworkRole.NETWORK_REPORTER).count() == 0
    await context.close()
