"""Benefits: an earnings limit is watched, shown, and warned about, but never blocks."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod import clock
from coprod.models import Booking, Claim, ClaimLine, LineKind, Role, User
from coprod.services import activities, auth, bookings, contracts, earnings, polls, representatives
from coprod.validation import ValidationFailed
from tests.conftest import sign_in

SOON = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=10)


async def setup(world):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(user, org.id)
    rep = await representatives.create(
        lead,
        {
            "full_name": "Alex Morgan",
            "representative_type": "patient",
            "email": "alex@people.example",
            "contact_channels": ["email"],
        },
    )
    await contracts.create(
        lead,
        rep,
        {"role_title": "Patient representative", "starts_on": clock.today().isoformat()},
    )
    return org, lead, rep


async def test_choosing_a_limit(world):
    _, lead, rep = await setup(world)
    with pytest.raises(ValidationFailed) as caught:
        await earnings.set_earnings_limit(
            lead, rep, {"earnings_limit": "own", "own_amount": "lots"}
        )
    assert set(caught.value.by_field()) == {"own_amount", "own_period"}
    await earnings.set_earnings_limit(
        lead, rep, {"earnings_limit": "own", "own_amount": "100", "own_period": "week"}
    )
    assert earnings.limit_of(rep) == (10000, "week", "your own limit")
    await earnings.set_earnings_limit(lead, rep, {"earnings_limit": "esa_permitted_work_lower"})
    pence, period, label = earnings.limit_of(rep)
    assert (pence, period) == (2000, "week") and "ESA" in label
    await earnings.set_earnings_limit(lead, rep, {"earnings_limit": "none"})
    assert earnings.limit_of(rep) is None


async def test_warned_at_invitation_booking_and_claim_time_but_never_blocked(client, world):
    _, lead, rep = await setup(world)
    await earnings.set_earnings_limit(
        lead, rep, {"earnings_limit": "own", "own_amount": "100", "own_period": "week"}
    )
    activity = await activities.create_activity(
        lead,
        {
            "title": "Interview panel",
            "kind": "interview_panel",
            "category": "co_decision",
            "duration_minutes": "300",
            "capacity": "3",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "starts_at": SOON.isoformat(),
        },
    )
    warning = await earnings.activity_warning(rep, SOON, 300)
    assert warning and "£140.00" in warning and "£100.00" in warning
    # Answering an invitation by their own link, the person is spoken to.
    poll = await activities.plan(
        lead,
        {
            "title": "Recruitment day",
            "kind": "meeting",
            "category": "co_decision",
            "duration_minutes": "300",
            "capacity": "3",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "option_1": SOON.isoformat(),
            "option_2": (SOON + dt.timedelta(days=1)).isoformat(),
        },
    )
    [invited] = await polls.invite(lead, poll, [rep.id])
    assert invited.link is not None
    answer = (await client.get(invited.link.removeprefix("http://testserver"))).text
    answer = answer.replace("&#39;", "'")
    assert "This would take your earnings" in answer and "may affect your benefits" in answer
    assert "Alex Morgan's earnings" not in answer
    # A half day would stay within it.
    assert await earnings.activity_warning(rep, SOON, 120) is None
    await sign_in(client, "lead@trust.example")
    page = await client.get(f"/activities/{activity.id}")
    assert "Earnings limits" in page.text and "may affect" in page.text.lower()

    booking = await bookings.book(lead, activity, rep, "phone")  # not blocked
    assert booking.status.value == "confirmed"
    position = await earnings.earnings_position(rep, SOON.date())
    assert position is not None and position.earned_pence == 14000 and position.over

    claim = await Claim.create(
        organisation_id=rep.organisation_id,
        representative=rep,
        period_start=SOON.date(),
        period_end=SOON.date(),
    )
    await ClaimLine.create(
        claim=claim,
        kind=LineKind.FEE,
        day=SOON.date(),
        minutes=300,
        band="day",
        amount_pence=14000,
        description="Day",
    )
    assert "Alex Morgan's earnings" in (await earnings.claim_warning(claim))
    assert "over their own limit of £100.00" in (await earnings.claim_warning(claim))
    # The person reads the same warning on their own claim, spoken to them.
    alex = await User.get(email="alex@people.example")
    client.http.cookies.set("coprod_session", await auth.start_session(alex))
    own = (await client.get(f"/my/claims/{claim.id}")).text.replace("&#39;", "'")
    assert "Your earnings for the week" in own and "over your own limit of £100.00" in own
    assert "may affect your benefits" in own and "Alex Morgan's earnings" not in own
    await Booking.filter(id=booking.id).update(status="cancelled")
    assert (
        await earnings.earnings_position(rep, SOON.date())
    ).earned_pence == 14000  # the claim still counts


async def test_a_representative_sees_earnings_against_their_limit(client, world):
    _, lead, rep = await setup(world)
    await earnings.set_earnings_limit(lead, rep, {"earnings_limit": "esa_permitted_work_lower"})
    user = await User.get(email="alex@people.example")
    client.http.cookies.set("coprod_session", await auth.start_session(user))
    page = await client.get("/my/payments")
    assert page.status_code == 200
    assert "£0.00</strong> of £20.00" in page.text
    changed = await client.post_form("/my/payments", {"action": "limit", "earnings_limit": "none"})
    assert changed.status_code == 303
    await rep.refresh_from_db()
    assert rep.earnings_limit_code is None and earnings.limit_of(rep) is None
