"""Finance's reconciliation pages in Chromium, checked with axe-core: the open differences (a
transfer made by hand in Stripe, found through the stand-in), one difference, a resolve
refused for want of a note, and the resolve."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from coprod.integrations.stripe_gateway import StripeGateway
from coprod.models import ReconciliationItem, Role
from coprod.services import auth, payouts, reconciliation, representatives
from tests.browser.conftest import check_a11y, visit
from tests.stripe_standin import running_standin

pytestmark = pytest.mark.browser


async def test_finance_resolves_a_difference(page: Any, world: Any) -> None:
    org = await world.org()
    lead = await auth.actor_for(
        await world.user(org, "priya@northshire.example", Role.INVOLVEMENT_LEAD), org.id
    )
    finance = await auth.actor_for(
        await world.user(org, "chris@northshire.example", Role.FINANCE_OFFICER), org.id
    )
    rep = await representatives.create(
        lead,
        {
            "full_name": "Alex Morgan",
            "representative_type": "patient",
            "phone": "01632 960 001",
            "contact_channels": ["phone"],
        },
    )
    with running_standin() as standin:
        gateway = StripeGateway(standin.api_key, "whsec_test", api_base=standin.url, retries=1)
        payouts.use_gateway(gateway)
        try:
            account = await gateway.create_express_account(email=None, reference="alex")
            await standin.complete_onboarding_async(account)
            rep.stripe_account_id = account
            await rep.save(update_fields=["stripe_account_id"])
            for key in ("one", "two"):
                await gateway.transfer(
                    amount_pence=2500,
                    account_id=account,
                    idempotency_key=key,
                    description="Made by hand",
                    metadata={"organisation_id": str(org.id)},
                    transfer_group="by-hand",
                )
            assert (await reconciliation.run_now(finance)).opened == 2
        finally:
            payouts.use_gateway(None)
            await gateway.aclose()

    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill("chris@northshire.example")
    await page.get_by_label("Password").fill("correct horse battery staple")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_load_state("load")
    await visit(page, "/finance")
    await visit(page, "/finance/reconciliation")
    await expect(page.locator("table")).to_contain_text("£25.00")
    item = await ReconciliationItem.filter(organisation_id=org.id).order_by("id").first()
    assert item is not None
    await visit(page, f"/finance/reconciliation/{item.id}")
    await page.get_by_role("button", name="Mark as resolved", exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter what you did")
    await page.get_by_label("What did you do about it?").fill("Reversed it in Stripe")
    await page.get_by_role("button", name="Mark as resolved", exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await expect(page.get_by_role("status")).to_contain_text("marked as resolved")
