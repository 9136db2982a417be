"""Every page not walked through in another journey, opened in Chromium and checked with
axe-core: a lead's, a representative's, finance's and an admin's."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod import clock
from coprod.models import Claim, ClaimStatus, Invitation, Role, User
from coprod.services import (
    activities,
    auth,
    bookings,
    contracts,
    payouts,
    people,
    polls,
    projects,
    reminders,
    representatives,
    wellbeing,
)
from tests.browser.conftest import check_a11y, visit
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


async def sign_in_as(browser, live_server, email: str, password: str | None = PASSWORD):
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
    else:
        await page.goto("/sign-in")
        await page.get_by_label("Email address").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await page.wait_for_load_state("load")
    return context, page


async def test_the_remaining_pages_are_accessible(browser, live_server, world):
    org = await world.org()
    lead_user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN)
    await world.user(org, "finance@trust.example", Role.FINANCE_OFFICER)
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
    contract = await contracts.create(
        lead,
        rep,
        {
            "role_title": "Patient representative",
            "starts_on": (clock.today() - dt.timedelta(days=200)).isoformat(),
        },
    )
    await wellbeing.give_consent(lead, rep, {"purpose": "health"})
    await wellbeing.record_episode(
        lead, rep, {"started_on": "2026-01-05", "ended_on": "2026-02-01", "under_crisis_team": "no"}
    )
    [episode] = await wellbeing.episodes(lead, rep)
    project = await projects.create_project(
        lead,
        {
            "name": "Crisis pathway redesign",
            "respect_agreement": "We listen and take turns.",
            "respect_agreement_required": "yes",
        },
    )
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=10)
    poll = await activities.plan(
        lead,
        {
            "title": "Leaflet review",
            "kind": "meeting",
            "category": "co_evaluation",
            "duration_minutes": "60",
            "capacity": "4",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "video": "yes",
            "video_link": "https://meet.example/x",
            "option_1": soon.isoformat(),
            "option_2": (soon + dt.timedelta(days=1)).isoformat(),
        },
    )
    await polls.invite(lead, poll, [rep.id])
    invitation = await Invitation.get()
    fixed = await activities.create_activity(
        lead,
        {
            "title": "Training plan",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": "60",
            "capacity": "4",
            "video": "yes",
            "video_link": "https://meet.example/y",
            "starts_at": (soon + dt.timedelta(days=3)).isoformat(),
        },
    )
    booking = await bookings.book(lead, fixed, rep, "video")
    claim = await Claim.create(
        organisation_id=org.id,
        representative=rep,
        status=ClaimStatus.PAID,
        period_start=clock.today() - dt.timedelta(days=30),
        period_end=clock.today(),
        paid_at=dt.datetime.now(dt.UTC),
    )

    await people.create_team(lead, org, "North community team")
    await payouts.set_payout_method(
        lead,
        rep,
        {
            "payout_method": "payroll",
            "payroll_reference": "PR-1",
            "national_insurance_number": "AB123456C",
        },
    )

    context, page = await sign_in_as(browser, live_server, "lead@trust.example")
    for path in (
        f"/representatives/{rep.id}/payments",
        "/admin/teams",
        f"/projects/{project.id}",
        f"/activities/{poll.id}/answers/{invitation.id}",
        f"/representatives/{rep.id}/health/{episode.id}",
        f"/representatives/{rep.id}/statement",
        f"/contracts/{contract.id}/book-catch-up",
        f"/claims/{claim.id}",
        "/admin/rates",
        "/catch-ups",
    ):
        await visit(page, path)
    await context.close()

    context, page = await sign_in_as(browser, live_server, "finance@trust.example")
    await visit(page, "/finance")
    await visit(page, "/finance/pay-elements")
    # With its errors showing, too.
    await page.get_by_label("Involvement fee (taxable)").fill("")
    await page.get_by_label("Mileage (not taxable)").fill("R MILES")
    await page.get_by_role("button", name="Save codes").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await visit(page, f"/representatives/{rep.id}/payments")
    await page.get_by_label("National Insurance number").fill("QQ 12 34 56 C")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_load_state("load")
    await check_a11y(page)
    await context.close()

    context, page = await sign_in_as(browser, live_server, "alex@people.example", None)
    for path in (
        "/my/bookings",
        f"/bookings/{booking.id}",
        "/my/calendar",
        "/my/claims",
        f"/my/claims/{claim.id}",
        "/my/profile/health",
        f"/my/profile/health/{episode.id}",
        f"/tech-test/{reminders.tech_test_token(booking)}",
    ):
        await visit(page, path)
    await context.close()


async def test_the_opportunity_pages_are_accessible(browser, live_server, world):
    from coprod.models import MembershipStatus, Network, NetworkMembership
    from coprod.models.recruitment import Opportunity
    from coprod.services import opportunities

    org = await world.org()
    lead_user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(lead_user, org.id)
    role = {
        "title": "Member of our staff interview panels",
        "activity_kind": "interview_panel",
        "involves": "You sit on the panel that interviews people for jobs.",
        "easy_read": "You help us pick new staff.",
        "time_commitment": "Half a day a month",
        "pay": "£70 for half a day, plus travel",
        "modes": ["in_person", "video"],
        "accessibility": "The room is step-free.",
        "closes_on": (clock.today() + dt.timedelta(days=20)).isoformat(),
    }
    panel = await opportunities.publish(lead, await opportunities.create(lead, role))
    draft = await opportunities.create(lead, role | {"title": "Advisory group member"})
    closed = await opportunities.publish(
        lead, await opportunities.create(lead, role | {"title": "Governor"})
    )
    # Its closing day has gone by since it was published.
    await Opportunity.filter(id=closed.id).update(closes_on=clock.today() - dt.timedelta(days=1))
    network = await Network.create(name="Quality network", host_organisation=org)
    await NetworkMembership.create(
        network=network, organisation=org, status=MembershipStatus.ACCEPTED
    )

    context, page = await sign_in_as(browser, live_server, "lead@trust.example")
    for path in (
        "/opportunities",
        "/opportunities/new",
        f"/opportunities/{panel.id}",
        f"/opportunities/{draft.id}",
        f"/opportunities/{draft.id}/edit",
    ):
        await visit(page, path)
    # With its errors showing, too.
    await visit(page, "/opportunities/new")
    await page.get_by_label("The role").fill("")
    await page.get_by_role("button", name="Save as a draft").click()
    await page.wait_for_load_state("load")
    assert await page.get_by_text("Select at least one way to take part").count() >= 1
    await check_a11y(page)
    await context.close()

    context = await browser.new_context(base_url=live_server.url, locale="en-GB")
    page = await context.new_page()
    public = f"/join/{org.slug}/opportunities/{panel.id}"
    for path in (
        f"/join/{org.slug}",
        public,
        f"{public}/easy-read",
        f"{public}/large-print",
        f"/join/networks/{network.id}",
    ):
        await visit(page, path)
    await visit(page, f"/join/{org.slug}/opportunities/{closed.id}", 404)
    await context.close()
