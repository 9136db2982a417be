"""Three journeys through real Chromium, with axe-core run on every page visited.

- A member of staff signs in with a password (after first getting the form wrong), looks
  round the organisation's admin pages, adds a team, creates an API token, and signs out.
- A representative asks for a sign-in link, gets it by real email, uses it, and finds
  it will not work a second time.
- A representative with only a mobile number asks for a code by text, mistypes the number and
  then the code, signs in with it, and finds it will not work a second time.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from coprod.models import OutboxMessage, Role
from coprod.services import representatives
from coprod.services.auth import actor_for
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD, deliver_mail

pytestmark = pytest.mark.browser


async def test_staff_password_journey(page, live_server, world):
    org = await world.org()
    await world.user(org, "jordan@northshire.example", Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)

    await visit(page, "/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Coprod")

    await visit(page, "/sign-in")
    await expect(page).to_have_title(re.compile("^Sign in \N{EN DASH} "))
    sign_in_button = page.get_by_role("button", name="Sign in", exact=True)

    # An empty form: the NHS error summary, a message by each field, "Error:" in the title.
    await sign_in_button.click()
    summary = page.locator(".nhsuk-error-summary")
    await expect(summary).to_be_visible()
    await expect(summary).to_contain_text("There is a problem")
    await expect(summary.get_by_role("link", name="Enter an email address")).to_have_attribute(
        "href", "#email"
    )
    await expect(summary.get_by_role("link", name="Enter your password")).to_have_attribute(
        "href", "#password"
    )
    await expect(page.locator("#email-error")).to_contain_text("Enter an email address")
    await expect(page.locator("#password-error")).to_contain_text("Enter your password")
    await expect(page).to_have_title(re.compile("^Error: Sign in \N{EN DASH} "))
    await check_a11y(page)

    # Now properly.
    await page.get_by_label("Email address").fill("jordan@northshire.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await sign_in_button.click()
    await expect(page).to_have_url(f"{live_server.url}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Jordan")
    await expect(page.locator("header")).to_contain_text("Jordan")
    await expect(page.get_by_text("Northshire NHS Trust")).to_be_visible()
    await check_a11y(page)

    # Teams: add one through the form.
    await visit(page, "/admin/teams")
    await expect(page.get_by_text("No teams yet.")).to_be_visible()
    await page.get_by_label("Name").fill("Community Mental Health Team East")
    await page.get_by_role("button", name="Add team").click()
    await expect(page).to_have_url(re.compile(r"/admin/teams\?added=1$"))
    await expect(page.get_by_role("status")).to_have_text("Team added.")
    cost_centre = page.get_by_label("Community Mental Health Team East: cost centre")
    await expect(cost_centre).to_be_visible()
    await check_a11y(page)
    # Its cost centre, for the payroll file: a plain error first, then saved.
    await cost_centre.fill("CC 1")
    await page.get_by_role("button", name="Save cost centre").click()
    await expect(page.locator(".nhsuk-error-message")).to_contain_text(
        "The cost centre can only include letters, numbers and hyphens"
    )
    await check_a11y(page)
    await cost_centre.fill("CC-1")
    await page.get_by_role("button", name="Save cost centre").click()
    await expect(page.get_by_role("status")).to_have_text("Cost centre saved.")
    await expect(cost_centre).to_have_value("CC-1")

    # The audit log now has events in its table (the team, at least).
    await visit(page, "/admin/audit")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    await expect(page.get_by_role("table")).to_contain_text("Community Mental Health Team East")

    await visit(page, "/admin/outbox")
    await expect(page.get_by_text("There are no failed messages.")).to_be_visible()

    # API tokens: create one and see its secret, once.
    await visit(page, "/admin/api-tokens")
    await page.get_by_label("Name").fill("Finance reporting")
    await page.get_by_label("Reporter").check()
    await page.get_by_role("button", name="Create token").click()
    await expect(page.get_by_role("heading", name="Copy your new token now")).to_be_visible()
    secret = (await page.locator("#new-token").inner_text()).strip()
    assert len(secret) >= 20, secret
    await expect(page.get_by_role("table")).to_contain_text("Finance reporting")
    await check_a11y(page)
    await visit(page, "/admin/api-tokens")
    await expect(page.locator("#new-token")).to_have_count(0)
    assert secret not in await page.content()

    await visit(page, "/accessibility")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")

    await visit(page, "/organisations")
    await expect(page.get_by_label("Northshire NHS Trust")).to_be_checked()

    # A missing page, signed in.
    await visit(page, "/no-such-page", status=404)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")

    # Sign out from the header.
    await page.locator("header").get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/sign-in\?signed_out=1$"))
    await expect(page.get_by_text("You have signed out.")).to_be_visible()
    await expect(page.locator("header")).not_to_contain_text("Jordan")
    await check_a11y(page)

    # Signed out means signed out: an admin page sends you to sign in.
    await page.goto("/admin/teams")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fadmin%2Fteams$"))
    await check_a11y(page)


async def test_representative_link_journey(page, live_server, world, mailbox):
    org = await world.org()
    email = "alex@example.org"
    await world.user(org, email, Role.REPRESENTATIVE, password=None)

    await visit(page, "/sign-in/link")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page).to_have_url(re.compile(r"/sign-in/check-email\?for="))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    await check_a11y(page)

    # The live server queued the email; deliver it to the real SMTP server on loopback.
    assert await deliver_mail() == 1
    messages = mailbox.to(email)
    assert len(messages) == 1, [m["To"] for m in mailbox.messages]
    found = re.search(re.escape(live_server.url) + r"/sign-in/link/\S+", mailbox.text(messages[0]))
    assert found, mailbox.text(messages[0])
    link = found.group(0)

    # Opening the link only shows a button: a mail scanner fetching it must not spend it.
    await visit(page, link)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Coprod")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{live_server.url}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alex")
    await expect(page.get_by_text("You are signed in as: Representative.")).to_be_visible()
    await check_a11y(page)

    # The link works once.
    await visit(page, link, status=410)
    await expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    await expect(page.get_by_role("link", name="Get a new sign-in link")).to_be_visible()


async def test_representative_code_journey(page, live_server, world):
    org = await world.org()
    lead = await world.user(org, "lead@northshire.example", Role.INVOLVEMENT_LEAD)
    await representatives.create(
        await actor_for(lead, org.id),
        {
            "full_name": "Rita Text",
            "representative_type": "patient",
            "mobile": "07700 900123",
            "contact_channels": ["text"],
            "payment_preference": "paid",
        },
    )

    await visit(page, "/sign-in")
    await page.get_by_role("link", name="sign in with a code sent to your mobile").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sign in with a code sent to your mobile"
    )
    await check_a11y(page)
    await page.get_by_label("Mobile number").fill("01632 960 001")
    await page.get_by_role("button", name="Send me a code").click()
    await expect(page.locator("#mobile-error")).to_contain_text(
        "Enter a mobile number in the correct format"
    )
    await check_a11y(page)
    await page.get_by_label("Mobile number").fill("07700 900123")
    await page.get_by_role("button", name="Send me a code").click()
    await expect(page).to_have_url(re.compile(r"/sign-in/code/[\w-]+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    await check_a11y(page)
    entry = page.url

    assert await deliver_mail() == 1  # printed by the worker, as no Notify key is set
    row = await OutboxMessage.get(notification="sign_in_code")
    found = re.search(r"\b\d{6}\b", row.text_body)
    assert found, row.text_body
    code = found.group(0)

    await page.get_by_label("Code").fill("000000" if code != "000000" else "111111")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.locator("#code-error")).to_contain_text("The code is not right")
    await check_a11y(page)
    await page.get_by_label("Code").fill(code)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{live_server.url}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Rita Text")
    await check_a11y(page)

    await visit(page, entry, status=410)
    await expect(page.get_by_role("heading", level=1)).to_have_text("This code has stopped working")
    await check_a11y(page)


async def test_missing_page(page, live_server):
    await visit(page, "/there-is-no-such-page", status=404)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    home_link = page.get_by_role("link", name="Go to the home page")
    await expect(home_link).to_have_attribute("href", "/")
