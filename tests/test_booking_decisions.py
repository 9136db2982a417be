"""Bookings follow the answers, and changes keep the rules (issue 9, points 1 and 4), through the
real services on a real database, with mail to a real SMTP server: choosing a time never books
someone who answered no; moving an activity or ending a contract early lists whoever would now
break a rule, and the lead cancels (with a calendar cancellation) or keeps each booking."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from coprod import clock
from coprod.domain.scheduling import Refusal
from coprod.models import (
    Activity,
    AuditEvent,
    Booking,
    BookingStatus,
    Contract,
    Invitation,
    OutboxMessage,
    Representative,
    Role,
)
from coprod.services import activities, bookings, contracts, polls, representatives, wellbeing
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from coprod.services.decisions import DecisionsNeeded
from tests.conftest import deliver_mail, postgres_only
from tests.test_bookings import (
    LEAD_EMAIL,
    activity,
    calendar_of,
    local_iso,
    only_message,
    person,
    utc,
)

CAPTIONS = "I need captions"


@pytest.fixture
async def lead(world: Any) -> Actor:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return await actor_for(user, org.id)


async def contactable(lead: Actor, full_name: str, **changes: Any) -> Representative:
    """Someone on email with a contract and consent to be contacted about involvement."""
    rep = await person(lead, full_name, **changes)
    await wellbeing.give_consent(lead, rep, {"purpose": "contact"})
    return rep


def email_of(rep: Representative) -> str:
    assert rep.email
    return rep.email


# --------------------------------------------------------------------------- choosing a time


async def answered_poll(lead: Actor) -> tuple[Activity, Any, dict[str, Representative]]:
    """A poll with two times. For the first: Ada yes (with a note), Bob no, Dee if need be,
    and Cy has not answered at all."""
    poll = await activity(lead, None, "video", "phone", title="Finding a time")
    first, second = await activities.add_options(
        lead, poll, {"options": ["2049-02-10T10:00", "2049-02-11T14:00"]}
    )
    people = {
        name: await contactable(lead, name, preferred_modes=["in_person"])
        for name in ("Ada Lovelace", "Bob Brown", "Cy Young", "Dee Dale")
    }
    await polls.invite(lead, poll, [p.id for p in people.values()])
    for name, (one, two, mode, comment) in {
        "Ada Lovelace": ("yes", "no", "video", CAPTIONS),
        "Bob Brown": ("no", "yes", "phone", ""),
        "Dee Dale": ("if_need_be", "yes", "phone", ""),
    }.items():
        invitation = await Invitation.get(activity=poll, representative=people[name])
        await polls.record_answers(
            lead,
            invitation,
            {
                "answers": {str(first.id): one, str(second.id): two},
                "mode": mode,
                "comment": comment,
            },
        )
    await deliver_mail()
    return poll, first, people


async def test_someone_who_answered_no_is_never_booked_whatever_the_lead_sends(lead, mailbox):
    poll, first, people = await answered_poll(lead)
    ada, bob, cy, dee = people.values()
    mailbox.messages.clear()

    outcomes = await polls.finalise(
        lead, poll, {"option_id": str(first.id), "representative_ids": [str(ada.id), str(bob.id)]}
    )
    result = {o.representative.full_name: o for o in outcomes}
    assert result["Ada Lovelace"].booking is not None
    assert result["Ada Lovelace"].booking.mode == "video"
    assert result["Bob Brown"].booking is None
    assert result["Bob Brown"].refused == [Refusal.ANSWERED_NO]
    assert result["Cy Young"].refused == [Refusal.NOT_ANSWERED]
    assert result["Dee Dale"].refused == [Refusal.NOT_PICKED]
    assert [b.representative_id for b in await Booking.filter(activity=poll)] == [ada.id]

    assert await deliver_mail() == 1
    method, _ = calendar_of(only_message(mailbox, email_of(ada)))
    assert method == "REQUEST"
    for rep in (bob, cy, dee):
        assert mailbox.to(email_of(rep)) == []


async def test_without_a_pick_the_yes_and_if_need_be_people_are_booked(lead, mailbox):
    poll, first, _ = await answered_poll(lead)
    outcomes = await polls.finalise(lead, poll, {"option_id": str(first.id)})
    result = {o.representative.full_name: o for o in outcomes}
    assert {name for name, o in result.items() if o.booking} == {"Ada Lovelace", "Dee Dale"}
    assert result["Dee Dale"].booking.mode == "phone" and result["Dee Dale"].note is None
    assert result["Bob Brown"].refused == [Refusal.ANSWERED_NO]
    assert result["Cy Young"].refused == [Refusal.NOT_ANSWERED]


async def test_someone_who_did_not_answer_is_booked_only_when_picked_and_the_mode_is_explained(
    lead, mailbox
):
    poll, first, people = await answered_poll(lead)
    cy = people["Cy Young"]
    outcomes = await polls.finalise(
        lead, poll, {"option_id": str(first.id), "representative_ids": [cy.id]}
    )
    [picked] = [o for o in outcomes if o.booking]
    assert picked.representative.id == cy.id
    # Cy prefers in person, which this activity does not offer: phone suits most people.
    assert picked.booking.mode == "phone"
    assert picked.note == (
        "They had not said how they would join, so they are booked to join by phone: "
        "check this with them"
    )


async def test_the_choices_start_with_only_yes_and_if_need_be_ticked(lead, mailbox):
    poll, first, _ = await answered_poll(lead)
    option, choices = await polls.choices(lead, poll, str(first.id))
    assert option.id == first.id
    seen = {c.representative.full_name: (c.answer, c.bookable, c.ticked) for c in choices}
    assert seen == {
        "Ada Lovelace": ("yes", True, True),
        "Bob Brown": ("no", False, False),
        "Cy Young": (None, True, False),
        "Dee Dale": ("if_need_be", True, True),
    }
    with pytest.raises(Exception) as bad:
        await polls.choices(lead, poll, "999999")
    assert "Select the time you have chosen" in str(bad.value)


async def test_nobody_bookable_picked_is_an_error_and_nothing_is_saved(lead, mailbox):
    poll, first, people = await answered_poll(lead)
    with pytest.raises(Exception) as refused:
        await polls.finalise(
            lead,
            poll,
            {"option_id": str(first.id), "representative_ids": [people["Bob Brown"].id]},
        )
    assert "Select who will take part" in str(refused.value)
    await poll.refresh_from_db()
    assert poll.status == "planning" and poll.starts_at is None


@postgres_only
async def test_two_leads_choosing_a_time_at_once_book_once(lead, mailbox):
    poll, first, _ = await answered_poll(lead)

    async def choose() -> list[polls.Outcome]:
        # As two requests would: each loads its own copy of the activity.
        return await polls.finalise(
            lead, await Activity.get(id=poll.id), {"option_id": str(first.id)}
        )

    results = await asyncio.gather(choose(), choose(), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "list"], results
    assert await Booking.filter(activity=poll).count() == 2


# --------------------------------------------------------------------------- moving an activity


async def test_moving_lists_who_would_break_a_rule_and_the_lead_decides_for_each(lead, mailbox):
    day = clock.today() + dt.timedelta(days=20)
    new_day = day + dt.timedelta(days=7)
    workshop = await activity(lead, local_iso(day), "in_person", capacity=8)
    ada = await contactable(lead, "Ada Lovelace")
    bob = await contactable(
        lead,
        "Bob Brown",
        contract=(clock.today() - dt.timedelta(days=30), day + dt.timedelta(days=5)),
    )
    cy = await contactable(lead, "Cy Young")
    dee = await contactable(lead, "Dee Dale")
    booked = {
        rep.full_name: await bookings.book(lead, workshop, rep, "in_person")
        for rep in (ada, bob, cy, dee)
    }
    # After booking: Cy takes a break over the new date; Dee is booked elsewhere at that time.
    await representatives.set_break(lead, cy, day + dt.timedelta(days=10))
    elsewhere = await activity(lead, local_iso(new_day, "15:00"), "in_person", title="Panel")
    await bookings.book(lead, elsewhere, dee, "in_person")
    await deliver_mail()
    mailbox.messages.clear()
    outbox_before = await OutboxMessage.all().count()

    with pytest.raises(DecisionsNeeded) as needed:
        await bookings.reschedule(lead, workshop, {"starts_at": local_iso(new_day)})
    why = {r.booking.representative.full_name: r.reasons for r in needed.value.at_risk}
    assert why == {
        "Bob Brown": [Refusal.NO_CONTRACT.value],
        "Cy Young": [Refusal.ON_BREAK.value],
        "Dee Dale": [Refusal.OVERLAP.value],
    }
    assert needed.value.undecided
    # Nothing moved and nobody told.
    await workshop.refresh_from_db()
    assert workshop.starts_at == utc(local_iso(day))
    assert await OutboxMessage.all().count() == outbox_before

    # Keeping someone needs a reason: still nothing moved.
    with pytest.raises(DecisionsNeeded) as half:
        await bookings.reschedule(
            lead,
            workshop,
            {
                "starts_at": local_iso(new_day),
                f"decision_{booked['Bob Brown'].id}": "cancel",
                f"decision_{booked['Cy Young'].id}": "keep",
                f"decision_{booked['Dee Dale'].id}": "cancel",
            },
        )
    assert not half.value.undecided
    assert {e.field for e in half.value.errors} == {f"reason_{booked['Cy Young'].id}"}
    await workshop.refresh_from_db()
    assert workshop.starts_at == utc(local_iso(day))

    await bookings.reschedule(
        lead,
        workshop,
        {
            "starts_at": local_iso(new_day),
            "decisions": [
                {"booking_id": booked["Bob Brown"].id, "decision": "cancel"},
                {
                    "booking_id": booked["Cy Young"].id,
                    "decision": "keep",
                    "reason": "She asked to come to this one",
                },
                {"booking_id": booked["Dee Dale"].id, "decision": "cancel"},
            ],
        },
    )
    for booking in booked.values():
        await booking.refresh_from_db()
    assert booked["Bob Brown"].status == BookingStatus.CANCELLED
    assert booked["Dee Dale"].status == BookingStatus.CANCELLED
    assert booked["Cy Young"].status == BookingStatus.CONFIRMED
    assert booked["Cy Young"].starts_at == utc(local_iso(new_day))
    assert booked["Ada Lovelace"].starts_at == utc(local_iso(new_day))
    [kept] = await AuditEvent.filter(action="booking.keep")
    assert kept.entity_id == str(booked["Cy Young"].id)
    assert kept.after["reason"] == "She asked to come to this one"
    assert kept.after["rules"] == [Refusal.ON_BREAK.value]

    assert await deliver_mail() == 4
    for rep, expected in ((bob, "CANCEL"), (dee, "CANCEL"), (cy, "REQUEST"), (ada, "REQUEST")):
        method, cal = calendar_of(only_message(mailbox, email_of(rep)))
        assert method == expected, rep.full_name
        assert cal.vevent.uid.value == booked[rep.full_name].uid
        assert cal.vevent.sequence.value == "1"


async def test_a_move_that_breaks_no_rule_needs_no_decision(lead, mailbox):
    day = clock.today() + dt.timedelta(days=20)
    workshop = await activity(lead, local_iso(day), "in_person")
    ada = await contactable(lead, "Ada Lovelace")
    booking = await bookings.book(lead, workshop, ada, "in_person")
    await bookings.reschedule(lead, workshop, {"starts_at": local_iso(day, "16:00")})
    await booking.refresh_from_db()
    assert booking.starts_at == utc(local_iso(day, "16:00"))
    assert await AuditEvent.filter(action="booking.keep").count() == 0


# --------------------------------------------------------------------------- ending a contract


async def test_ending_a_contract_early_lists_later_bookings_to_cancel_or_keep(lead, mailbox):
    ada = await contactable(lead, "Ada Lovelace")
    [contract] = await Contract.filter(representative=ada)
    soon, later, latest = (clock.today() + dt.timedelta(days=d) for d in (3, 12, 25))
    before_end = await bookings.book(
        lead, await activity(lead, local_iso(soon), title="Soon"), ada, "in_person"
    )
    to_cancel = await bookings.book(
        lead, await activity(lead, local_iso(later), title="Later"), ada, "in_person"
    )
    to_keep = await bookings.book(
        lead, await activity(lead, local_iso(latest), title="Latest"), ada, "in_person"
    )
    await deliver_mail()
    mailbox.messages.clear()
    ended_on = clock.today() + dt.timedelta(days=7)
    data: dict[str, Any] = {"ended_on": ended_on.isoformat(), "reason": "She asked to stop"}

    with pytest.raises(DecisionsNeeded) as needed:
        await contracts.end_early(lead, contract, data)
    assert [r.booking.id for r in needed.value.at_risk] == [to_cancel.id, to_keep.id]
    assert needed.value.at_risk[0].reasons == [Refusal.NO_CONTRACT.value]
    await contract.refresh_from_db()
    assert contract.ended_on is None

    await contracts.end_early(
        lead,
        contract,
        {
            **data,
            f"decision_{to_cancel.id}": "cancel",
            f"decision_{to_keep.id}": "keep",
            f"reason_{to_keep.id}": "A renewal is being agreed",
        },
    )
    await contract.refresh_from_db()
    assert contract.ended_on == ended_on
    for booking in (before_end, to_cancel, to_keep):
        await booking.refresh_from_db()
    assert before_end.status == BookingStatus.CONFIRMED
    assert to_cancel.status == BookingStatus.CANCELLED
    assert to_keep.status == BookingStatus.CONFIRMED
    [kept] = await AuditEvent.filter(action="booking.keep")
    assert kept.entity_id == str(to_keep.id) and kept.after["reason"] == "A renewal is being agreed"

    assert await deliver_mail() == 1
    method, cal = calendar_of(only_message(mailbox, email_of(ada)))
    assert method == "CANCEL" and cal.vevent.uid.value == to_cancel.uid


async def test_bookings_covered_by_a_following_contract_are_not_listed(lead, mailbox):
    ada = await contactable(
        lead,
        "Ada Lovelace",
        contract=(clock.today() - dt.timedelta(days=30), clock.today() + dt.timedelta(days=9)),
    )
    [first] = await Contract.filter(representative=ada)
    await contracts.renew(lead, first, {})
    later = await bookings.book(
        lead,
        await activity(lead, local_iso(clock.today() + dt.timedelta(days=12))),
        ada,
        "in_person",
    )
    # Ending the first contract a few days early leaves the renewal covering the booking.
    await contracts.end_early(
        lead,
        first,
        {"ended_on": (clock.today() + dt.timedelta(days=5)).isoformat(), "reason": "Moved"},
    )
    await later.refresh_from_db()
    assert later.status == BookingStatus.CONFIRMED
