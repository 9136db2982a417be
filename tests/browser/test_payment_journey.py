"""A lead records two 2-hour meetings on one day; the representative sees £70, adds mileage and
submits; another lead approves; finance pays through the Stripe stand-in; the representative
sees "Paid" and gets the remittance email. Then Stripe reverses that transfer, and another
person's payment is held because their Stripe set-up is not finished: finance and each
representative see it, in plain words. axe-core runs on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import expect

from coprod import clock
from coprod.domain.scheduling import LONDON
from coprod.integrations.stripe_gateway import StripeGateway
from coprod.models import (
    Activity,
    Booking,
    Claim,
    ClaimLine,
    ClaimStatus,
    LineKind,
    Role,
    User,
)
from coprod.services import activities, auth, bookings, contracts, payouts, representatives
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD, agree_to_contact, deliver_mail
from tests.stripe_standin import running_standin

pytestmark = pytest.mark.browser


async def submit(page, name: str) -> None:
    await page.get_by_role("button", name=name, exact=True).click()
    await page.wait_for_load_state("load")
    await check_a11y(page)


async def signed_in_page(browser, live_server, email: str, password: str | None = PASSWORD):
    context = await browser.new_context(base_url=live_server.url, locale="en-GB")
    page = await context.new_page()
    if password is None:
        user = await User.get(email=email)
        host = live_server.url.split("//", 1)[1].split(":")[0]
        await context.add_cookies(
            [
                {
                    "name": "coprod_session",
                    "value": await auth.start_session(user),
                    "domain": host,
                    "path": "/",
                }
            ]
        )
        return context, page
    await visit(page, "/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(password)
    await submit(page, "Sign in")
    return context, page


async def test_attendance_to_payment(browser, live_server, world, mailbox, client):
    org = await world.org()
    lead_user = await world.user(org, "priya@northshire.example", Role.INVOLVEMENT_LEAD)
    await world.user(org, "jordan@northshire.example", Role.INVOLVEMENT_LEAD)
    finance_user = await world.user(org, "chris@northshire.example", Role.FINANCE_OFFICER)
    lead = await auth.actor_for(lead_user, org.id)
    rep = await representatives.create(
        lead,
        {
            "full_name": "Alex Morgan",
            "representative_type": "patient",
            "email": "alex@people.example",
            "contact_channels": ["email"],
        },
    )
    await agree_to_contact(lead, rep)
    await contracts.create(
        lead,
        rep,
        {
            "role_title": "Patient representative",
            "starts_on": (clock.today() - dt.timedelta(days=30)).isoformat(),
        },
    )
    # Two 2-hour meetings yesterday (booked while in the future, then the day passed).
    yesterday = clock.today() - dt.timedelta(days=1)
    booked = []
    for title, hour in (("Leaflet review", 10), ("Staff training plan", 14)):
        activity = await activities.create_activity(
            lead,
            {
                "title": title,
                "kind": "meeting",
                "category": "co_design",
                "duration_minutes": "120",
                "capacity": "4",
                "phone": "yes",
                "dial_in": "0300 123 4567",
                "starts_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat(),
            },
        )
        booking = await bookings.book(lead, activity, rep, "phone")
        start = dt.datetime.combine(yesterday, dt.time(hour), LONDON).astimezone(dt.UTC)
        await Activity.filter(id=activity.id).update(starts_at=start)
        await Booking.filter(id=booking.id).update(
            starts_at=start, ends_at=start + dt.timedelta(hours=2)
        )
        booked.append(booking)

    with running_standin() as standin:
        gateway = StripeGateway(
            standin.api_key, "whsec_test", api_base=standin.url, timeout=5, retries=1
        )
        payouts.use_gateway(gateway)
        try:
            account = await gateway.create_express_account(
                email=rep.email, reference=f"representative-{rep.id}"
            )
            await standin.complete_onboarding_async(account)
            rep.payout_method, rep.stripe_account_id = "stripe", account
            rep.stripe_payouts_enabled = rep.stripe_transfers_active = True
            await rep.save()

            # The lead records attendance for both meetings.
            context, page = await signed_in_page(browser, live_server, "priya@northshire.example")
            for booking in booked:
                await visit(page, f"/bookings/{booking.id}")
                await page.get_by_label("Minutes they took part").fill("120")
                await submit(page, "Save attendance")
                await expect(page.get_by_text("Attendance recorded.")).to_be_visible()
            await context.close()

            # The representative claims: two 2-hour meetings on one day are a half day, £70.
            context, page = await signed_in_page(browser, live_server, "alex@people.example", None)
            await visit(page, "/my/claims")
            await submit(page, "Start claim")
            await expect(page.get_by_text("Claim started from attendance.")).to_be_visible()
            await expect(page.locator("table").first).to_contain_text("£70.00")
            await page.get_by_role("radio", name="Mileage").check()
            await page.get_by_label("Day").fill(str(yesterday.day))
            await page.get_by_label("Month").fill(str(yesterday.month))
            await page.get_by_label("Year").fill(str(yesterday.year))
            await page.get_by_label("Miles (for mileage)").fill("10")
            await submit(page, "Add expense")
            await expect(page.get_by_text("Expense added.")).to_be_visible()
            await expect(page.get_by_text("£74.50")).to_be_visible()
            await submit(page, "Send claim for approval")
            await expect(page.get_by_text("Claim sent for approval.")).to_be_visible()
            claim_url = page.url.split("?")[0]
            await context.close()
            claim = await Claim.get()
            assert claim.status == ClaimStatus.SUBMITTED

            # Another lead approves.
            context, page = await signed_in_page(browser, live_server, "jordan@northshire.example")
            await visit(page, "/claims")
            await visit(page, f"/claims/{claim.id}")
            await submit(page, "Approve")
            await expect(page.get_by_text("Claim approved.")).to_be_visible()
            await context.close()

            # Finance pays; the worker makes the transfer through the stand-in.
            context, page = await signed_in_page(browser, live_server, "chris@northshire.example")
            await visit(page, "/finance")
            await submit(page, "Pay approved claims by bank transfer")
            await expect(page.get_by_text("1 payment queued.")).to_be_visible()
            await context.close()
            assert await payouts.process_payments(dt.datetime.now(dt.UTC)) == 1
            [transfer] = standin.transfers.values()
            assert transfer["amount"] == 7450 and transfer["destination"] == account
            assert await deliver_mail() >= 1
            [remittance] = mailbox.to("alex@people.example")[-1:]
            assert remittance["Subject"] == "You have been paid £74.50"

            context, page = await signed_in_page(browser, live_server, "alex@people.example", None)
            await visit(page, claim_url.replace(live_server.url, ""))
            await expect(page.locator(".nhsuk-tag")).to_have_text("Paid")
            await expect(page.get_by_text("on its way to your bank")).to_be_visible()
            await visit(page, "/my/statement")
            await visit(page, "/my/payments")
            await context.close()

            # Stripe reverses the transfer; Sam's payment waits for his Stripe set-up.
            standin.webhook_target("/api/v1/stripe/webhook", "whsec_test", client=client.http)
            await standin.reverse_transfer_async(transfer["id"])
            sam = await representatives.create(
                lead,
                {
                    "full_name": "Sam Patel",
                    "representative_type": "carer",
                    "email": "sam@people.example",
                    "contact_channels": ["email"],
                },
            )
            await agree_to_contact(lead, sam)
            sam.payout_method = "stripe"
            sam.stripe_account_id = await gateway.create_express_account(
                email=sam.email, reference=f"representative-{sam.id}"
            )
            await sam.save()
            waiting = await Claim.create(
                organisation_id=org.id,
                representative=sam,
                period_start=yesterday,
                period_end=yesterday,
                status=ClaimStatus.APPROVED,
            )
            await ClaimLine.create(
                claim=waiting,
                kind=LineKind.FEE,
                day=yesterday,
                minutes=120,
                band="half_day",
                amount_pence=3500,
                description="Half day: Leaflet review",
            )
            await payouts.start_pay_run(await auth.actor_for(finance_user, org.id))
            assert await payouts.process_payments(dt.datetime.now(dt.UTC)) == 0

            context, page = await signed_in_page(browser, live_server, "chris@northshire.example")
            await visit(page, "/finance")
            attention = page.locator("h2:has-text('Payments that need attention') + ul")
            await expect(attention).to_contain_text("Sam Patel, held")
            await expect(attention).to_contain_text("needs to finish or update their Stripe set-up")
            await expect(attention).to_contain_text("Alex Morgan, reversed")
            await visit(page, f"/claims/{claim.id}")
            await expect(page.get_by_text("Pay again to make a new transfer")).to_be_visible()
            await context.close()

            context, page = await signed_in_page(browser, live_server, "alex@people.example", None)
            await visit(page, "/my/claims")
            await expect(page.get_by_text("before it reached you")).to_be_visible()
            await visit(page, claim_url.replace(live_server.url, ""))
            await expect(page.locator(".nhsuk-tag")).to_have_text("Payment problem")
            await context.close()
            context, page = await signed_in_page(browser, live_server, "sam@people.example", None)
            await visit(page, f"/my/claims/{waiting.id}")
            await expect(page.get_by_text("your Stripe account needs attention")).to_be_visible()
            await context.close()
        finally:
            payouts.use_gateway(None)
            await gateway.aclose()
