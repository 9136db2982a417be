"""Every page each kind of person can reach, opened at 320 px wide (WCAG 2.2 reflow): nothing
scrolls sideways, nothing says "None", and axe-core finds nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from coprod import clock
from coprod.domain.scheduling import LONDON
from coprod.models import (
    Activity,
    Booking,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    Role,
)
from coprod.services import (
    activities,
    attendance,
    auth,
    bookings,
    claims,
    contracts,
    polls,
    projects,
    reminders,
    representatives,
    wellbeing,
)
from tests.browser.conftest import visit
from tests.browser.test_remaining_pages import sign_in_as
from tests.conftest import deliver_mail

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
NONE_WORD = re.compile(r"\bNone\b")
# The innermost elements that stick out past the right edge, to say what to fix.
WIDE_ELEMENTS = """
[...document.body.querySelectorAll("*")]
  .filter((e) => e.getBoundingClientRect().right > 320.5)
  .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > 320.5))
  .slice(0, 5)
  .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`
    + ` "${e.textContent.trim().slice(0, 40)}"`)
"""


async def check_narrow(page: Any, path: str, problems: list[str]) -> None:
    """Collects problems rather than stopping at the first, so one run lists every page to fix."""
    await visit(page, path)
    width = await page.evaluate("document.documentElement.scrollWidth")
    if width > NARROW["width"]:
        culprits = await page.evaluate(WIDE_ELEMENTS)
        problems.append(f"{path} is {width} px wide at 320 px, because of: {culprits}")
    text = await page.inner_text("body")
    for match in NONE_WORD.finditer(text):
        problems.append(f'{path} shows "None": …{text[max(0, match.start() - 60) : match.end()]}')


async def narrow_as(browser: Any, live_server: Any, email: str, password: bool = True) -> Any:
    if password:
        context, page = await sign_in_as(browser, live_server, email)
    else:
        context, page = await sign_in_as(browser, live_server, email, None)
    await page.set_viewport_size(NARROW)
    return context, page


async def test_every_page_fits_a_small_screen(browser, live_server, world, mailbox):
    org = await world.org()
    lead_user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN)
    await world.user(org, "approver@trust.example", Role.INVOLVEMENT_LEAD)
    await world.user(org, "finance@trust.example", Role.FINANCE_OFFICER)
    reporter = await world.user(org, "rita@trust.example", Role.REPORTER)
    network = await Network.create(name="Crisis care quality network")
    await NetworkMembership.create(network=network, organisation=org)
    await NetworkMember.create(user=reporter, network=network, role=NetworkRole.NETWORK_REPORTER)
    lead = await auth.actor_for(lead_user, org.id)
    rep = await representatives.create(
        lead,
        {
            "full_name": "Alexandria Montgomery-Fairweather",
            "representative_type": "carer",
            "email": "alexandria.montgomery-fairweather@people.example",
            "contact_channels": ["email"],
        },
    )
    contract = await contracts.create(
        lead,
        rep,
        {
            "role_title": "Carer representative",
            "starts_on": (clock.today() - dt.timedelta(days=200)).isoformat(),
        },
    )
    for purpose in ("contact", "health"):
        await wellbeing.give_consent(lead, rep, {"purpose": purpose})
    await wellbeing.record_episode(
        lead, rep, {"started_on": "2026-01-05", "ended_on": "2026-02-01", "under_crisis_team": "no"}
    )
    [episode] = await wellbeing.episodes(lead, rep)
    project = await projects.create_project(lead, {"name": "Crisis pathway redesign"})
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
            "video_link": "https://meet.example/a-very-long-meeting-link-that-does-not-wrap",
            "option_1": soon.isoformat(),
            "option_2": (soon + dt.timedelta(days=1)).isoformat(),
            "option_3": (soon + dt.timedelta(days=2)).isoformat(),
        },
    )
    await polls.invite(lead, poll, [rep.id])
    await deliver_mail()
    answer_path = mailbox.link(mailbox.to(rep.email)[-1], r"http://testserver(/answer/\S+)")
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

    # A meeting that has happened, attended and claimed, so claims and statements have rows.
    past = await activities.create_activity(
        lead,
        {
            "title": "Staff training day",
            "kind": "meeting",
            "category": "co_delivery",
            "duration_minutes": "120",
            "capacity": "4",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "starts_at": (soon + dt.timedelta(days=5)).isoformat(),
        },
    )
    held = await bookings.book(lead, past, rep, "phone")
    start = dt.datetime.combine(
        clock.today() - dt.timedelta(days=2), dt.time(10), LONDON
    ).astimezone(dt.UTC)
    await Activity.filter(id=past.id).update(starts_at=start)
    await Booking.filter(id=held.id).update(starts_at=start, ends_at=start + dt.timedelta(hours=2))
    held = await Booking.get(id=held.id)
    await attendance.record_attendance(lead, held, {"attended": "yes", "attended_minutes": "120"})
    claim = await claims.generate_draft(
        lead,
        rep,
        {
            "period_start": (clock.today() - dt.timedelta(days=7)).isoformat(),
            "period_end": clock.today().isoformat(),
        },
    )
    await claims.submit(lead, claim)
    problems: list[str] = []

    context, page = await narrow_as(browser, live_server, "lead@trust.example")
    for path in (
        "/",
        "/accessibility",
        "/projects",
        f"/projects/{project.id}",
        "/activities",
        "/activities/new",
        f"/activities/{poll.id}",
        f"/activities/{fixed.id}",
        f"/activities/{past.id}",
        f"/activities/{poll.id}/answers/{(await poll.invitations.all())[0].id}",
        f"/bookings/{booking.id}",
        f"/bookings/{held.id}",
        "/arrangements/overdue",
        "/call-list",
        f"/contracts/{contract.id}/book-catch-up",
        "/representatives",
        "/representatives/new",
        f"/representatives/{rep.id}",
        f"/representatives/{rep.id}/messages",
        f"/representatives/{rep.id}/edit",
        f"/representatives/{rep.id}/break",
        f"/representatives/{rep.id}/health",
        f"/representatives/{rep.id}/health/{episode.id}",
        f"/representatives/{rep.id}/equality",
        f"/representatives/{rep.id}/contracts/new",
        f"/representatives/{rep.id}/statement",
        f"/contracts/{contract.id}/renew",
        f"/contracts/{contract.id}/end",
        f"/contracts/{contract.id}/catch-ups",
        "/catch-ups",
        "/consents/review",
        "/claims",
        "/admin/rates",
        "/admin/teams",
        "/admin/audit",
        "/admin/outbox",
        "/admin/api-tokens",
        "/account",
        f"/bookings/{booking.id}/cancel",
        "/reports",
        "/reports/population",
    ):
        await check_narrow(page, path, problems)
    await context.close()

    context, page = await narrow_as(browser, live_server, "approver@trust.example")
    await check_narrow(page, f"/claims/{claim.id}", problems)
    await context.close()

    context, page = await narrow_as(browser, live_server, "finance@trust.example")
    for path in ("/", "/finance", "/account"):
        await check_narrow(page, path, problems)
    await context.close()

    context, page = await narrow_as(browser, live_server, "rita@trust.example")
    for path in ("/", "/reports", f"/reports/networks/{network.id}"):
        await check_narrow(page, path, problems)
    await context.close()

    context, page = await narrow_as(browser, live_server, rep.email, password=False)
    for path in (
        "/",
        "/my/bookings",
        f"/bookings/{booking.id}",
        f"/bookings/{held.id}",
        "/my/calendar",
        "/my/claims",
        f"/my/claims/{claim.id}",
        "/my/payments",
        "/my/statement",
        "/my/profile",
        "/my/profile/edit",
        "/my/profile/break",
        "/my/profile/health",
        f"/my/profile/health/{episode.id}",
        "/my/profile/equality",
        f"/bookings/{booking.id}/cancel",
        f"/tech-test/{reminders.tech_test_token(booking)}",
        answer_path,
    ):
        await check_narrow(page, path, problems)
    await context.close()

    context = await browser.new_context(base_url=live_server.url, locale="en-GB", viewport=NARROW)
    page = await context.new_page()
    for path in ("/sign-in", "/sign-in/link", "/password-reset", answer_path):
        await check_narrow(page, path, problems)
    await context.close()
    assert not problems, "\n".join(problems)
