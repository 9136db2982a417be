"""Bookings through the real services on a real database, with mail to a real SMTP server:
the booking rules, bookings made at once, the six-week check, calendar invites read back with
vobject, changes and cancellations, the personal feed, reminders, polls, access arrangements
and who may see what."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from tortoise import connections

from coprod import clock, worker
from coprod.domain.scheduling import Refusal, Tally, best_option
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import (
    AccessArrangement,
    Activity,
    AuditEvent,
    Booking,
    BookingStatus,
    Invitation,
    OutboxMessage,
    Representative,
    Role,
    User,
)
from coprod.services import (
    activities,
    arrangements,
    bookings,
    calendar_feed,
    contracts,
    polls,
    projects,
    reminders,
    representatives,
    wellbeing,
)
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from coprod.services.bookings import BookingRefused
from tests.conftest import Mailbox, agree_to_contact, deliver_mail, postgres_only, sign_in
from tests.test_scheduling_rules import OVERLAPS

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
LEAD_EMAIL = "lena.lead@trust.example"
LEAD_NAME = "Lena.Lead"  # world.user makes the name from the address
VENUE = "Trust HQ"
ADDRESS = "1 Park Row, Leeds LS1 5HD"
VIDEO_LINK = "https://meet.example/coprod-42"
DIAL_IN = "0300 123 4567"
PIN = "8421"
NOTE = "Talked it through: feeling steadier, keen to come"
WISH = "Would like to sit near the door"
# Dates in 2049: it has 2027's calendar (a Friday New Year, not a leap year), so every weekday
# and clock change below is as it was written for 2027, and they stay in the future, where
# an activity must start. Either side of 2049's clock changes (forward on 28 March, back on
# 31 October).
BEFORE_SPRING = "2049-03-26T10:00"
AFTER_SPRING = "2049-03-30T10:00"
BEFORE_AUTUMN = "2049-10-29T14:00"
AFTER_AUTUMN = "2049-11-01T14:00"


def utc(local: str) -> dt.datetime:
    """A wall-clock time in England as the instant it is."""
    return dt.datetime.fromisoformat(local).replace(tzinfo=LONDON).astimezone(UTC)


def local_iso(day: dt.date, time: str = "14:00") -> str:
    return f"{day.isoformat()}T{time}"


# --------------------------------------------------------------------------- people and things


@dataclass
class Scene:
    org: Any
    lead: Actor


@pytest.fixture
async def scene(world: Any) -> Scene:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return Scene(org, await actor_for(user, org.id))


async def person(
    lead: Actor,
    full_name: str,
    *,
    contract: tuple[dt.date, dt.date] | None = (
        clock.today() - dt.timedelta(days=30),
        dt.date(2050, 12, 31),
    ),
    agrees: bool = True,
    **changes: Any,
) -> Representative:
    """Someone on email who agreed to be contacted, with a contract in force from last month
    to the end of 2050."""
    slug = full_name.lower().replace(" ", ".")
    data: dict[str, Any] = {
        "full_name": full_name,
        "representative_type": "patient",
        "email": f"{slug}@people.example",
        "contact_channels": ["email"],
        "payment_preference": "paid",
    }
    data.update(changes)
    rep = await representatives.create(lead, data)
    if agrees:
        await agree_to_contact(lead, rep)
    if contract is not None:
        await contracts.create(
            lead,
            rep,
            {
                "role_title": "Patient representative",
                "starts_on": contract[0].isoformat(),
                "ends_on": contract[1].isoformat(),
            },
        )
    return rep


async def phone_person(lead: Actor, full_name: str, **changes: Any) -> Representative:
    return await person(
        lead, full_name, email="", phone="01632 960 001", contact_channels=["phone"], **changes
    )


async def as_self(rep: Representative) -> Actor:
    user = await User.get(id=rep.user_id)
    return await actor_for(user, rep.organisation_id)


MODE_DETAILS: dict[str, dict[str, str]] = {
    "in_person": {"in_person": "true", "venue": VENUE, "address": ADDRESS, "step_free": "true"},
    "video": {"video": "true", "video_link": VIDEO_LINK},
    "phone": {"phone": "true", "dial_in": DIAL_IN, "dial_in_pin": PIN},
}


async def activity(
    lead: Actor,
    starts: str | None,
    *modes: str,
    title: str = "Service design workshop",
    minutes: int = 120,
    capacity: int = 8,
    **changes: Any,
) -> Activity:
    """An activity made as a lead would; `starts` is England's wall-clock time (None: a poll)."""
    data: dict[str, Any] = {
        "title": title,
        "kind": "meeting",
        "category": "co_design",
        "duration_minutes": str(minutes),
        "capacity": str(capacity),
    }
    for mode in modes or ("in_person",):
        data.update(MODE_DETAILS[mode])
    if starts is not None:
        data["starts_at"] = starts
    data.update(changes)
    return await activities.create_activity(lead, data)


# --------------------------------------------------------------------------- reading mail


def calendar_of(message: EmailMessage) -> tuple[str | None, Any]:
    """An email's calendar: the text/calendar body beside the text and HTML, which must be the
    attached invite.ics byte for byte. Its iTIP method and the parsed calendar."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 2, "expected a calendar body and the same file attached"
    inline, attached = parts
    assert inline.get_content_disposition() is None
    assert attached.get_filename() == "invite.ics"
    assert inline.get_param("method") == attached.get_param("method")
    payload = inline.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert attached.get_payload(decode=True) == payload
    return inline.get_param("method"), vobject.readOne(payload.decode("utf-8"))


def only_message(mailbox: Mailbox, address: str) -> EmailMessage:
    found = mailbox.to(address)
    assert len(found) == 1, f"{len(found)} messages to {address}"
    return found[0]


def assert_time(prop: Any, local: str, expected_utc: dt.datetime) -> None:
    """A DTSTART/DTEND: that instant, written as London wall-clock time with its TZID."""
    assert prop.value.astimezone(UTC) == expected_utc
    assert prop.value.replace(tzinfo=None) == dt.datetime.fromisoformat(local)
    tzid = prop.params.get("X-VOBJ-ORIGINAL-TZID") or prop.params.get("TZID")
    assert tzid == ["Europe/London"]


def end_of(local: str, minutes: int) -> str:
    return (dt.datetime.fromisoformat(local) + dt.timedelta(minutes=minutes)).isoformat()


async def assert_refused(
    lead: Actor, target: Activity, rep: Representative, mode: str, *expected: Refusal
) -> None:
    """Refused, naming exactly these rules, and nothing at all saved or sent."""
    bookings_before = await Booking.all().count()
    arrangements_before = await AccessArrangement.all().count()
    audit_before = await AuditEvent.all().count()
    outbox_before = await OutboxMessage.all().count()
    with pytest.raises(BookingRefused) as refused:
        await bookings.book(lead, target, rep, mode)
    assert refused.value.refusals == list(expected)
    for refusal in expected:
        assert refusal.value in refused.value.message
    assert await Booking.all().count() == bookings_before
    assert await AccessArrangement.all().count() == arrangements_before
    assert await AuditEvent.all().count() == audit_before
    assert await OutboxMessage.all().count() == outbox_before


# --------------------------------------------------------------------------- the booking rules


async def test_no_contract_on_the_date_is_refused(scene, mailbox):
    lead = scene.lead
    workshop = await activity(lead, BEFORE_SPRING)
    never = await person(lead, "Ada Lovelace", contract=None)
    lapsed = await person(
        lead, "Bob Brown", contract=(clock.today() - dt.timedelta(days=30), dt.date(2049, 3, 25))
    )
    later = await person(lead, "Cy Young", contract=(dt.date(2049, 3, 27), dt.date(2051, 1, 1)))

    for rep in (never, lapsed, later):
        await assert_refused(lead, workshop, rep, "in_person", Refusal.NO_CONTRACT)
    assert await deliver_mail() == 0

    # A contract whose last day is the day of the activity is enough.
    on_the_day = await person(
        lead, "Dee Day", contract=(clock.today() - dt.timedelta(days=1), dt.date(2049, 3, 26))
    )
    booking = await bookings.book(lead, workshop, on_the_day, "in_person")
    assert booking.status == BookingStatus.CONFIRMED


async def test_the_day_that_counts_is_the_day_in_england(scene, mailbox):
    """00:30 on 1 July in London is 23:30 on 30 June in UTC: it is a 1 July activity."""
    lead = scene.lead
    night = await activity(lead, "2049-07-01T00:30", minutes=60, title="Night shift review")
    assert night.starts_at == dt.datetime(2049, 6, 30, 23, 30, tzinfo=UTC)
    july = await person(lead, "Jules July", contract=(dt.date(2049, 7, 1), dt.date(2051, 6, 30)))
    june = await person(lead, "June Jones", contract=(clock.today(), dt.date(2049, 6, 30)))
    await representatives.set_break(lead, july, dt.date(2049, 6, 30))

    assert (await bookings.book(lead, night, july, "in_person")).status == BookingStatus.CONFIRMED
    await assert_refused(lead, night, june, "in_person", Refusal.NO_CONTRACT)


async def test_someone_on_a_break_on_the_day_is_refused(scene, mailbox):
    lead = scene.lead
    workshop = await activity(lead, BEFORE_SPRING)
    rep = await person(lead, "Ada Lovelace")
    await representatives.set_break(lead, rep, dt.date(2049, 3, 26))
    await assert_refused(lead, workshop, rep, "in_person", Refusal.ON_BREAK)

    # A break that ends the day before is over by then.
    await representatives.set_break(lead, rep, dt.date(2049, 3, 25))
    booking = await bookings.book(lead, workshop, rep, "in_person")
    assert booking.status == BookingStatus.CONFIRMED


async def test_an_overlapping_confirmed_booking_of_the_same_person_is_refused(scene, mailbox):
    lead = scene.lead
    morning = await activity(lead, "2049-02-10T10:00", minutes=120, title="Morning")
    clashing = await activity(lead, "2049-02-10T11:00", minutes=120, title="Clashing")
    after = await activity(lead, "2049-02-10T12:00", minutes=60, title="Straight after")
    ada = await person(lead, "Ada Lovelace")
    bob = await person(lead, "Bob Brown")

    first = await bookings.book(lead, morning, ada, "in_person")
    await assert_refused(lead, clashing, ada, "in_person", Refusal.OVERLAP)
    # Someone else is free then; and 12:00 is free for Ada, as the morning ends at 12:00.
    await bookings.book(lead, clashing, bob, "in_person")
    straight_after = await bookings.book(lead, after, ada, "in_person")

    # 11:00-13:00 clashes with both of hers; once both are cancelled, the time is free again.
    await bookings.cancel(lead, first)
    await assert_refused(lead, clashing, ada, "in_person", Refusal.OVERLAP)
    await bookings.cancel(lead, straight_after)
    second = await bookings.book(lead, clashing, ada, "in_person")
    assert second.status == BookingStatus.CONFIRMED


# The domain's overlap cases that activities can have (15 minutes to 12 hours), moved from
# 2027 into 2049, which has 2027's calendar and clock changes.
LATER = dt.date(2049, 5, 10) - dt.date(2027, 5, 10)
BOOKABLE_OVERLAPS = [
    case
    for case in OVERLAPS
    if all(15 * 60 <= (end - start).total_seconds() <= 720 * 60 for start, end in case.values[:2])
]


@pytest.mark.parametrize(("a", "b", "clash"), BOOKABLE_OVERLAPS)
async def test_the_database_finds_clashes_by_the_domains_overlap_rule(
    scene, mailbox, a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime], clash
):
    """Bookings count their clashes in SQL; it must agree with scheduling.times_overlap."""
    lead = scene.lead

    async def at(times: tuple[dt.datetime, dt.datetime], title: str) -> Activity:
        start, end = (t + LATER for t in times)
        wall_clock = start.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")
        minutes = int((end - start).total_seconds() // 60)
        return await activity(lead, wall_clock, minutes=minutes, title=title)

    ada = await person(lead, "Ada Lovelace")
    await bookings.book(lead, await at(b, "Booked already"), ada, "in_person")
    wanted = await at(a, "Wanted")
    if clash:
        await assert_refused(lead, wanted, ada, "in_person", Refusal.OVERLAP)
    else:
        booked = await bookings.book(lead, wanted, ada, "in_person")
        assert booked.status == BookingStatus.CONFIRMED


async def test_a_full_activity_is_refused_until_a_place_is_freed(scene, mailbox):
    lead = scene.lead
    panel = await activity(lead, BEFORE_SPRING, capacity=1, title="Interview panel")
    ada = await person(lead, "Ada Lovelace")
    bob = await person(lead, "Bob Brown")

    ada_booking = await bookings.book(lead, panel, ada, "in_person")
    await assert_refused(lead, panel, bob, "in_person", Refusal.FULL)

    await bookings.cancel(await as_self(ada), ada_booking)  # Ada withdraws
    assert (await bookings.book(lead, panel, bob, "in_person")).status == BookingStatus.CONFIRMED


async def test_a_way_of_taking_part_that_is_not_offered_is_refused(scene, mailbox):
    lead = scene.lead
    in_person_only = await activity(lead, BEFORE_SPRING)
    rep = await person(lead, "Ada Lovelace")
    await assert_refused(lead, in_person_only, rep, "video", Refusal.MODE_NOT_OFFERED)
    await assert_refused(lead, in_person_only, rep, "carrier_pigeon", Refusal.MODE_NOT_OFFERED)


async def test_the_respect_agreement_must_be_acknowledged_first(scene, mailbox):
    lead = scene.lead
    project = await projects.create_project(
        lead,
        {
            "name": "Crisis pathway redesign",
            "respect_agreement": "We listen to each other.",
            "respect_agreement_required": "true",
        },
    )
    workshop = await activity(lead, BEFORE_SPRING, project_id=str(project.id))
    rep = await person(lead, "Ada Lovelace")
    await assert_refused(lead, workshop, rep, "in_person", Refusal.RESPECT_AGREEMENT)

    # The lead records that Ada agreed (say on the phone): then she can be booked.
    await projects.acknowledge(lead, project, rep)
    [ack] = await AuditEvent.filter(action="respect_agreement.acknowledge")
    assert ack.on_behalf_of == "Ada Lovelace"
    booking = await bookings.book(lead, workshop, rep, "in_person")
    assert booking.status == BookingStatus.CONFIRMED


async def test_several_rules_broken_are_all_named(scene, mailbox):
    lead = scene.lead
    panel = await activity(lead, BEFORE_SPRING, capacity=1)
    await bookings.book(lead, panel, await person(lead, "Bob Brown"), "in_person")
    rep = await person(lead, "Ada Lovelace", contract=None)
    await representatives.set_break(lead, rep, dt.date(2049, 4, 30))
    await assert_refused(
        lead,
        panel,
        rep,
        "phone",
        Refusal.NO_CONTRACT,
        Refusal.ON_BREAK,
        Refusal.FULL,
        Refusal.MODE_NOT_OFFERED,
    )


async def test_an_activity_without_a_time_cannot_be_booked(scene, mailbox):
    lead = scene.lead
    poll = await activity(lead, None)
    await assert_refused(
        lead, poll, await person(lead, "Ada Lovelace"), "in_person", Refusal.NOT_SCHEDULED
    )


# --------------------------------------------------------------------------- bookings at once


@postgres_only
async def test_twenty_people_booked_at_once_onto_the_last_place_leave_exactly_one(scene, mailbox):
    lead = scene.lead
    panel = await activity(lead, BEFORE_SPRING, capacity=1, title="Interview panel")
    people = [await person(lead, f"Person {i:02d}") for i in range(20)]

    async def book(rep: Representative) -> Booking:
        # As twenty requests would: each loads its own copy of the activity and the person.
        fresh_activity = await Activity.get(id=panel.id)
        fresh_rep = await Representative.get(id=rep.id)
        return await bookings.book(lead, fresh_activity, fresh_rep, "in_person")

    results = await asyncio.gather(*(book(rep) for rep in people), return_exceptions=True)

    made = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, BookingRefused)]
    assert len(made) == 1, results
    assert len(refused) == 19, results
    assert all(r.refusals == [Refusal.FULL] for r in refused)
    assert await Booking.filter(activity_id=panel.id).count() == 1
    assert await Booking.filter(activity_id=panel.id, status=BookingStatus.CONFIRMED).count() == 1
    assert await deliver_mail() == 1


@postgres_only
async def test_one_person_booked_at_once_onto_twenty_overlapping_activities_gets_one(
    scene, mailbox
):
    lead = scene.lead
    rep = await person(lead, "Ada Lovelace")
    # Starting five minutes apart, two hours each: every pair overlaps.
    first_start = dt.datetime(2049, 2, 10, 10, 0)
    sessions = [
        await activity(
            lead, (first_start + dt.timedelta(minutes=5 * i)).isoformat(), title=f"Session {i}"
        )
        for i in range(20)
    ]

    async def book(target: Activity) -> Booking:
        fresh_activity = await Activity.get(id=target.id)
        fresh_rep = await Representative.get(id=rep.id)
        return await bookings.book(lead, fresh_activity, fresh_rep, "in_person")

    results = await asyncio.gather(*(book(s) for s in sessions), return_exceptions=True)

    made = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, BookingRefused)]
    assert len(made) == 1, results
    assert len(refused) == 19, results
    assert all(r.refusals == [Refusal.OVERLAP] for r in refused)
    assert await Booking.filter(representative_id=rep.id).count() == 1
    assert await deliver_mail() == 1


# --------------------------------------------------------------------------- the six-week check


async def health_episode(
    lead: Actor, rep: Representative, started_on: dt.date, ended_on: dt.date | None
) -> None:
    await wellbeing.give_consent(lead, rep, {"purpose": "health"})
    await wellbeing.record_episode(
        lead,
        rep,
        {
            "started_on": started_on.isoformat(),
            "ended_on": ended_on.isoformat() if ended_on else "",
            "under_crisis_team": "no",
            "note": "",
        },
    )


async def test_six_week_check_day_42_waits_for_a_conversation_and_day_43_is_confirmed(
    scene, mailbox
):
    lead = scene.lead
    day = clock.today() + dt.timedelta(days=20)
    workshop = await activity(lead, local_iso(day))
    ada = await person(lead, "Ada Lovelace")
    bob = await person(lead, "Bob Brown")
    await health_episode(lead, ada, day - dt.timedelta(days=60), day - dt.timedelta(days=42))
    await health_episode(lead, bob, day - dt.timedelta(days=60), day - dt.timedelta(days=43))

    waiting = await bookings.book(lead, workshop, ada, "in_person")
    confirmed = await bookings.book(lead, workshop, bob, "in_person")
    assert waiting.status == BookingStatus.NEEDS_WELLBEING_CHECK
    assert waiting.confirmed_at is None
    assert confirmed.status == BookingStatus.CONFIRMED

    # Only Bob hears anything yet; Ada's place is held while the lead talks with her.
    assert await deliver_mail() == 1
    assert mailbox.to("ada.lovelace@people.example") == []
    only_message(mailbox, "bob.brown@people.example")

    mailbox.messages.clear()
    await bookings.record_wellbeing_check(
        lead, waiting, {"outcome": "proceed", "note": NOTE, "representative_wish": WISH}
    )
    await waiting.refresh_from_db()
    assert waiting.status == BookingStatus.CONFIRMED
    assert waiting.confirmed_at is not None
    assert await deliver_mail() == 1
    method, cal = calendar_of(only_message(mailbox, "ada.lovelace@people.example"))
    assert method == "REQUEST"
    assert cal.vevent.uid.value == waiting.uid
    assert cal.vevent.sequence.value == "0"  # the first invite she has had

    # The note is health information: encrypted at rest, readable by the lead (audited).
    conn = connections.get("default")
    rows = await conn.execute_query_dict("SELECT payload FROM wellbeing_check")
    assert len(rows) == 1
    for secret in (NOTE, "steadier", WISH, "near the door"):
        assert secret not in rows[0]["payload"]
    [check] = await bookings.wellbeing_checks(lead, waiting)
    assert (check["outcome"], check["note"], check["representative_wish"]) == (
        "proceed",
        NOTE,
        WISH,
    )
    assert await AuditEvent.filter(action="health.view", entity_id=str(waiting.id)).exists()
    [recorded] = await AuditEvent.filter(action="wellbeing_check.record")
    assert NOTE not in str(recorded.after) and WISH not in str(recorded.after)

    # Only a waiting booking takes a check.
    with pytest.raises(Conflict, match="not waiting for a wellbeing check"):
        await bookings.record_wellbeing_check(lead, waiting, {"outcome": "proceed", "note": "x"})


async def test_postponing_after_the_conversation_cancels_and_frees_the_place(scene, mailbox):
    lead = scene.lead
    day = clock.today() + dt.timedelta(days=10)
    panel = await activity(lead, local_iso(day), capacity=1)
    ada = await person(lead, "Ada Lovelace")
    await health_episode(lead, ada, clock.today() - dt.timedelta(days=5), None)  # still ongoing
    waiting = await bookings.book(lead, panel, ada, "in_person")
    assert waiting.status == BookingStatus.NEEDS_WELLBEING_CHECK

    # While it waits, it holds the only place.
    await assert_refused(lead, panel, await person(lead, "Bob Brown"), "in_person", Refusal.FULL)

    await bookings.record_wellbeing_check(
        lead,
        waiting,
        {"outcome": "postpone", "note": NOTE, "representative_wish": "Try again in the spring"},
    )
    await waiting.refresh_from_db()
    assert waiting.status == BookingStatus.CANCELLED
    assert waiting.cancelled_at is not None
    assert await deliver_mail() == 0  # she never had an invite, so there is nothing to cancel
    bob = await Representative.get(full_name="Bob Brown")
    assert (await bookings.book(lead, panel, bob, "in_person")).status == BookingStatus.CONFIRMED


async def test_an_episode_recorded_after_booking_flags_the_booking_again(scene, mailbox):
    lead = scene.lead
    day = clock.today() + dt.timedelta(days=14)
    soon = await activity(lead, local_iso(day), title="Soon")
    much_later = await activity(lead, AFTER_AUTUMN, title="Much later")
    ada = await person(lead, "Ada Lovelace")
    first = await bookings.book(lead, soon, ada, "in_person")
    second = await bookings.book(lead, much_later, ada, "in_person")
    assert first.status == second.status == BookingStatus.CONFIRMED

    await health_episode(
        lead, ada, clock.today() - dt.timedelta(days=10), clock.today() - dt.timedelta(days=2)
    )

    await first.refresh_from_db()
    await second.refresh_from_db()
    assert first.status == BookingStatus.NEEDS_WELLBEING_CHECK
    assert second.status == BookingStatus.CONFIRMED  # November 2049 is long after six weeks
    [flag] = await AuditEvent.filter(action="booking.flag")
    assert flag.entity_id == str(first.id)


async def test_someone_flagged_after_their_invite_is_sent_the_cancellation(scene, mailbox):
    """They have the event in their calendar, so postponing or cancelling must take it out."""
    lead = scene.lead
    day = clock.today() + dt.timedelta(days=14)
    first = await activity(lead, local_iso(day, "10:00"), title="First")
    second = await activity(lead, local_iso(day, "15:00"), title="Second")
    ada = await person(lead, "Ada Lovelace")
    postponed = await bookings.book(lead, first, ada, "in_person")
    cancelled = await bookings.book(lead, second, ada, "in_person")
    assert await deliver_mail() == 2
    mailbox.messages.clear()

    await health_episode(
        lead, ada, clock.today() - dt.timedelta(days=10), clock.today() - dt.timedelta(days=2)
    )
    await postponed.refresh_from_db()
    await cancelled.refresh_from_db()
    assert postponed.status == cancelled.status == BookingStatus.NEEDS_WELLBEING_CHECK

    await bookings.record_wellbeing_check(
        lead, postponed, {"outcome": "postpone", "note": NOTE, "representative_wish": WISH}
    )
    await bookings.cancel(lead, cancelled)
    assert await deliver_mail() == 2
    messages = mailbox.to("ada.lovelace@people.example")
    assert len(messages) == 2
    for message in messages:
        method, cal = calendar_of(message)
        assert method == "CANCEL"
        assert cal.vevent.status.value == "CANCELLED"
        assert cal.vevent.uid.value in {postponed.uid, cancelled.uid}
        assert cal.vevent.sequence.value == "1"
    assert {calendar_of(m)[1].vevent.uid.value for m in messages} == {
        postponed.uid,
        cancelled.uid,
    }


async def test_moving_an_activity_tells_only_those_who_have_had_an_invite(scene, mailbox):
    lead = scene.lead
    day = clock.today() + dt.timedelta(days=20)
    workshop = await activity(lead, local_iso(day))
    ada = await person(lead, "Ada Lovelace")
    bob = await person(lead, "Bob Brown")
    cy = await person(lead, "Cy Young")
    await health_episode(lead, bob, clock.today() - dt.timedelta(days=10), None)
    # Cy's episode ended 43 days before the activity: fine on that day, not a day earlier.
    await health_episode(
        lead, cy, clock.today() - dt.timedelta(days=60), day - dt.timedelta(days=43)
    )
    adas = await bookings.book(lead, workshop, ada, "in_person")
    bobs = await bookings.book(lead, workshop, bob, "in_person")
    cys = await bookings.book(lead, workshop, cy, "in_person")
    assert bobs.status == BookingStatus.NEEDS_WELLBEING_CHECK
    assert cys.status == BookingStatus.CONFIRMED
    assert await deliver_mail() == 2
    mailbox.messages.clear()

    new_day = day - dt.timedelta(days=1)
    await bookings.reschedule(lead, workshop, {"starts_at": local_iso(new_day, "11:00")})
    assert await deliver_mail() == 2
    _, cal = calendar_of(only_message(mailbox, "ada.lovelace@people.example"))
    assert cal.vevent.uid.value == adas.uid and cal.vevent.sequence.value == "1"
    # The new day is day 42 for Cy: flagged for a conversation, and told of the change.
    await cys.refresh_from_db()
    assert cys.status == BookingStatus.NEEDS_WELLBEING_CHECK
    _, cal = calendar_of(only_message(mailbox, "cy.young@people.example"))
    assert cal.vevent.uid.value == cys.uid and cal.vevent.sequence.value == "1"
    # Bob is still waiting for his conversation: he has had no invite, so gets no change.
    assert mailbox.to("bob.brown@people.example") == []
    await bobs.refresh_from_db()
    assert bobs.starts_at == utc(local_iso(new_day, "11:00"))

    # When the lead and Bob agree he goes ahead, his first invite has the new time.
    mailbox.messages.clear()
    await bookings.record_wellbeing_check(
        lead, bobs, {"outcome": "proceed", "note": NOTE, "representative_wish": WISH}
    )
    assert await deliver_mail() == 1
    _, cal = calendar_of(only_message(mailbox, "bob.brown@people.example"))
    assert_time(cal.vevent.dtstart, local_iso(new_day, "11:00"), bobs.starts_at)


# --------------------------------------------------------------------------- calendar invites


async def test_invites_carry_the_right_times_places_and_people_either_side_of_clock_changes(
    scene, mailbox
):
    lead = scene.lead
    ada = await person(lead, "Ada Lovelace")
    cases = [
        # (wall-clock start, minutes, mode, expected UTC start, expected LOCATION)
        (
            BEFORE_SPRING,
            120,
            "in_person",
            dt.datetime(2049, 3, 26, 10, tzinfo=UTC),
            f"{VENUE}, {ADDRESS}",
        ),
        (
            AFTER_SPRING,
            90,
            "phone",
            dt.datetime(2049, 3, 30, 9, tzinfo=UTC),
            f"Phone {DIAL_IN}, PIN {PIN}",
        ),
        (BEFORE_AUTUMN, 60, "video", dt.datetime(2049, 10, 29, 13, tzinfo=UTC), VIDEO_LINK),
        (AFTER_AUTUMN, 60, "video", dt.datetime(2049, 11, 1, 14, tzinfo=UTC), VIDEO_LINK),
    ]
    made = []
    for local, minutes, mode, _, _ in cases:
        target = await activity(lead, local, mode, minutes=minutes, title=f"Meeting {local}")
        made.append(await bookings.book(lead, target, ada, mode))
    assert await deliver_mail() == 4
    messages = mailbox.to("ada.lovelace@people.example")
    assert len(messages) == 4

    by_uid = {}
    for message in messages:
        method, cal = calendar_of(message)
        assert method == "REQUEST"
        assert cal.method.value == "REQUEST"
        by_uid[cal.vevent.uid.value] = (message, cal)
    assert set(by_uid) == {b.uid for b in made}

    for booking, (local, minutes, _mode, start_utc, location) in zip(made, cases, strict=True):
        message, cal = by_uid[booking.uid]
        event = cal.vevent
        assert message["Subject"].startswith(f"Booked: Meeting {local}")
        assert event.sequence.value == "0"
        assert event.status.value == "CONFIRMED"
        assert event.summary.value == f"Meeting {local}"
        assert_time(event.dtstart, local, start_utc)
        assert_time(event.dtend, end_of(local, minutes), start_utc + dt.timedelta(minutes=minutes))
        assert event.location.value == location
        assert event.organizer.value.lower() == f"mailto:{LEAD_EMAIL}"
        assert event.organizer.params["CN"] == [LEAD_NAME]
        assert event.attendee.value.lower() == "mailto:ada.lovelace@people.example"
        assert event.attendee.params["CN"] == ["Ada Lovelace"]
        # The booking keeps the same instants the file says.
        assert booking.starts_at == start_utc
        assert booking.ends_at == start_utc + dt.timedelta(minutes=minutes)


async def test_moving_changing_and_cancelling_send_updates_to_the_same_event(scene, mailbox):
    lead = scene.lead
    ada = await person(lead, "Ada Lovelace")
    workshop = await activity(lead, BEFORE_SPRING, "in_person", "video", minutes=120)
    booking = await bookings.book(lead, workshop, ada, "in_person")
    assert await deliver_mail() == 1
    _, cal = calendar_of(only_message(mailbox, "ada.lovelace@people.example"))
    assert cal.vevent.sequence.value == "0"
    assert_time(cal.vevent.dtstart, BEFORE_SPRING, dt.datetime(2049, 3, 26, 10, tzinfo=UTC))

    # Moved across the clock change: 10:00 on 29 March is 09:00 UTC.
    mailbox.messages.clear()
    await bookings.reschedule(lead, workshop, {"starts_at": "2049-03-29T10:00"})
    assert await deliver_mail() == 1
    message = only_message(mailbox, "ada.lovelace@people.example")
    assert message["Subject"].startswith("Changed: Service design workshop")
    method, cal = calendar_of(message)
    assert method == "REQUEST" and cal.method.value == "REQUEST"
    assert cal.vevent.uid.value == booking.uid
    assert cal.vevent.sequence.value == "1"
    assert_time(cal.vevent.dtstart, "2049-03-29T10:00", dt.datetime(2049, 3, 29, 9, tzinfo=UTC))
    assert_time(cal.vevent.dtend, "2049-03-29T12:00", dt.datetime(2049, 3, 29, 11, tzinfo=UTC))
    assert cal.vevent.location.value == f"{VENUE}, {ADDRESS}"

    # Joining by video instead: a new SEQUENCE and the link as the place.
    mailbox.messages.clear()
    await booking.refresh_from_db()
    await bookings.change_mode(lead, booking, "video")
    assert await deliver_mail() == 1
    method, cal = calendar_of(only_message(mailbox, "ada.lovelace@people.example"))
    assert method == "REQUEST"
    assert cal.vevent.uid.value == booking.uid
    assert cal.vevent.sequence.value == "2"
    assert cal.vevent.location.value == VIDEO_LINK
    assert_time(cal.vevent.dtstart, "2049-03-29T10:00", dt.datetime(2049, 3, 29, 9, tzinfo=UTC))

    # Cancelled: METHOD:CANCEL for the same event, with a higher SEQUENCE than the last request.
    mailbox.messages.clear()
    await bookings.cancel(lead, booking)
    assert await deliver_mail() == 1
    message = only_message(mailbox, "ada.lovelace@people.example")
    assert message["Subject"].startswith("Cancelled: Service design workshop")
    method, cal = calendar_of(message)
    assert method == "CANCEL" and cal.method.value == "CANCEL"
    assert cal.vevent.uid.value == booking.uid
    assert cal.vevent.status.value == "CANCELLED"
    assert int(cal.vevent.sequence.value) == 3
    [event] = await AuditEvent.filter(action="booking.cancel")
    assert event.on_behalf_of == "Ada Lovelace"


async def test_a_representative_withdraws_with_no_reason_asked(scene, mailbox):
    lead = scene.lead
    ada = await person(lead, "Ada Lovelace")
    booking = await bookings.book(lead, await activity(lead, AFTER_SPRING), ada, "in_person")
    await deliver_mail()
    mailbox.messages.clear()

    me = await as_self(ada)
    assert me.has(Role.REPRESENTATIVE) and not me.has(Role.INVOLVEMENT_LEAD)
    mine = await bookings.booking_for(me, booking.id)
    await bookings.cancel(me, mine)

    await booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    [event] = await AuditEvent.filter(action="booking.withdraw")
    assert event.actor_id == ada.user_id and event.on_behalf_of is None
    assert await deliver_mail() == 1
    method, cal = calendar_of(only_message(mailbox, "ada.lovelace@people.example"))
    assert method == "CANCEL" and cal.vevent.uid.value == booking.uid
    assert cal.vevent.sequence.value == "1"


# --------------------------------------------------------------------------- the personal feed


async def test_the_personal_feed_lists_bookings_and_a_reset_cuts_off_the_old_address(
    scene, mailbox
):
    lead = scene.lead
    ada = await person(lead, "Ada Lovelace")
    kept = await bookings.book(lead, await activity(lead, BEFORE_SPRING), ada, "in_person")
    dropped = await bookings.book(
        lead, await activity(lead, AFTER_AUTUMN, "video", title="Dropped"), ada, "video"
    )
    await bookings.cancel(lead, dropped)
    me = await as_self(ada)

    token = await calendar_feed.reset_calendar_token(me, ada)
    cal = vobject.readOne((await calendar_feed.feed_by_token(token)).decode("utf-8"))
    assert "method" not in cal.contents  # a calendar to subscribe to, not a scheduling message
    assert cal.x_wr_calname.value == "Coprod: Ada Lovelace"
    events = {e.uid.value: e for e in cal.vevent_list}
    assert set(events) == {kept.uid, dropped.uid}
    assert events[kept.uid].status.value == "CONFIRMED"
    assert events[dropped.uid].status.value == "CANCELLED"
    assert int(events[dropped.uid].sequence.value) == 1
    assert_time(events[kept.uid].dtstart, BEFORE_SPRING, dt.datetime(2049, 3, 26, 10, tzinfo=UTC))
    assert_time(events[dropped.uid].dtstart, AFTER_AUTUMN, dt.datetime(2049, 11, 1, 14, tzinfo=UTC))

    new_token = await calendar_feed.reset_calendar_token(me, ada)
    assert new_token != token
    with pytest.raises(NotFound):
        await calendar_feed.feed_by_token(token)
    assert (
        len(vobject.readOne((await calendar_feed.feed_by_token(new_token)).decode()).vevent_list)
        == 2
    )
    for forged in ("", "x", token[:-1]):
        with pytest.raises(NotFound):
            await calendar_feed.feed_by_token(forged)
    [reset] = await AuditEvent.filter(action="calendar_feed.reset").limit(1)
    assert reset.on_behalf_of is None  # she did it herself

    # Someone without email has a feed too, set up by their lead; no ATTENDEE without an address.
    bob = await phone_person(lead, "Bob Brown")
    bobs = await bookings.book(lead, await activity(lead, AFTER_SPRING, "phone"), bob, "phone")
    bob_cal = vobject.readOne(
        (
            await calendar_feed.feed_by_token(await calendar_feed.reset_calendar_token(lead, bob))
        ).decode()
    )
    assert bob_cal.vevent.uid.value == bobs.uid
    assert "attendee" not in bob_cal.vevent.contents
    assert bob_cal.vevent.location.value == f"Phone {DIAL_IN}, PIN {PIN}"


# --------------------------------------------------------------------------- reminders


async def test_reminders_go_once_with_how_to_join_and_phone_only_people_are_on_the_call_list(
    scene, mailbox
):
    lead = scene.lead
    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    starts = (now + dt.timedelta(hours=24)).isoformat()
    call = await activity(lead, starts, "video", "phone", "in_person", minutes=60, title="Call")
    ada = await person(lead, "Ada Lovelace", wants_tech_test="true")
    bob = await person(lead, "Bob Brown")
    cy = await phone_person(lead, "Cy Young")
    by_video = await bookings.book(lead, call, ada, "video")
    by_phone = await bookings.book(lead, call, bob, "phone")
    phone_only = await bookings.book(lead, call, cy, "phone")
    assert await deliver_mail() == 2  # the two invites; Cy has no email
    mailbox.messages.clear()

    # Several runs, some at once, as several workers would: one reminder each.
    await worker.run_periodic_jobs(now)
    await worker.run_periodic_jobs(now)
    await asyncio.gather(*(worker.run_periodic_jobs(now) for _ in range(3)))
    assert await deliver_mail() == 2
    assert len(mailbox.messages) == 2

    to_ada = only_message(mailbox, "ada.lovelace@people.example")
    assert to_ada["Subject"].startswith("Reminder: Call")
    ada_text = mailbox.text(to_ada)
    assert f"By video: {VIDEO_LINK}" in ada_text
    token = mailbox.link(to_ada, r"http://testserver/tech-test/(\S+)")
    assert DIAL_IN not in ada_text

    bob_text = mailbox.text(only_message(mailbox, "bob.brown@people.example"))
    assert f"Dial-in number: {DIAL_IN}" in bob_text
    assert f"PIN: {PIN}" in bob_text
    assert "tech-test" not in bob_text

    # Cy is not emailed, and is on the lead's list of people to ring.
    listed = await reminders.call_list(lead)
    assert [(c.booking and c.booking.id, c.reason) for c in listed] == [
        (phone_only.id, "asked to be phoned")
    ]
    assert listed[0].representative.full_name == "Cy Young"
    with pytest.raises(Forbidden):
        await reminders.call_list(await as_self(ada))

    # The tech-test link asks the lead, once however often it is used.
    mailbox.messages.clear()
    found = await reminders.booking_for_tech_test(token)
    assert found.id == by_video.id
    await reminders.request_tech_test(found)
    await asyncio.gather(*(reminders.request_tech_test(found) for _ in range(2)))
    assert await deliver_mail() == 1
    to_lead = only_message(mailbox, LEAD_EMAIL)
    assert to_lead["Subject"] == "Tech test requested: Ada Lovelace"
    assert "ada.lovelace@people.example" in mailbox.text(to_lead)

    booking_id, _, signature = token.partition(".")
    forgeries = [
        f"{booking_id}.{'0' * len(signature)}",
        f"{by_phone.id}.{signature}",  # another booking's id with this signature
        f"{booking_id}.",
        booking_id,
        "",
        "nonsense",
        f"{booking_id}.{signature[:-1]}",
        # Mangled ids are not found either, rather than failing on the way to the database.
        f"\u00b2.{signature}",  # a superscript two counts as a digit to str.isdigit
        f"99999999999999999999.{signature}",
        f"{2**31}.{signature}",
        f"-{booking_id}.{signature}",
    ]
    for forged in forgeries:
        with pytest.raises(NotFound):
            await reminders.booking_for_tech_test(forged)


async def test_no_reminder_outside_the_window_or_for_a_cancelled_booking(scene, mailbox):
    lead = scene.lead
    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    far = await activity(lead, (now + dt.timedelta(days=5)).isoformat(), title="Far")
    soon = await activity(lead, (now + dt.timedelta(hours=6)).isoformat(), title="Soon")
    ada = await person(lead, "Ada Lovelace")
    await bookings.book(lead, far, ada, "in_person")
    await bookings.cancel(lead, await bookings.book(lead, soon, ada, "in_person"))
    await deliver_mail()
    mailbox.messages.clear()

    assert await reminders.send_reminders(now) == 0
    # Five days on, the far one is due, once.
    later = now + dt.timedelta(days=4)
    assert await reminders.send_reminders(later) == 1
    assert await reminders.send_reminders(later) == 0


# --------------------------------------------------------------------------- finding a time


async def test_a_poll_from_options_to_answers_to_bookings(scene, mailbox):
    lead = scene.lead
    poll = await activity(lead, None, "video", "phone", title="Finding a time")
    options = await activities.add_options(
        lead, poll, {"options": ["2049-02-10T10:00", "2049-02-11T14:00"]}
    )
    first, second = options
    assert first.starts_at == utc("2049-02-10T10:00")
    ada = await person(lead, "Ada Lovelace")
    bob = await phone_person(lead, "Bob Brown")
    # Cy's contract ends before either time.
    cy = await person(
        lead, "Cy Young", contract=(clock.today() - dt.timedelta(days=30), dt.date(2049, 2, 1))
    )

    invited = await polls.invite(lead, poll, [ada.id, bob.id, cy.id])
    links = {i.invitation.representative_id: i.link for i in invited}
    assert links[bob.id].startswith("http://testserver/answer/")  # the lead may answer for him
    assert await deliver_mail() == 2
    to_ada = only_message(mailbox, "ada.lovelace@people.example")
    secret = mailbox.link(to_ada, r"http://testserver/answer/(\S+)")
    assert links[ada.id] == f"http://testserver/answer/{secret}"
    assert "Wednesday 10 February 2049 at 10:00am" in mailbox.text(to_ada)

    # Ada answers through her link; the lead answers for Bob after phoning him; Cy by form.
    ada_invitation = await polls.invitation_by_token(secret)
    assert ada_invitation.representative_id == ada.id
    await polls.record_answers(
        None,
        ada_invitation,
        {"answers": {str(first.id): "yes", str(second.id): "no"}, "mode": "video"},
    )
    bob_invitation = await Invitation.get(activity=poll, representative=bob)
    await polls.record_answers(
        lead,
        bob_invitation,
        {"answers": {str(first.id): "if_need_be", str(second.id): "yes"}, "mode": "phone"},
    )
    cy_invitation = await Invitation.get(activity=poll, representative=cy)
    await polls.record_answers(
        None,
        cy_invitation,
        {f"answer_{first.id}": "yes", f"answer_{second.id}": "yes", "mode": "video"},
    )

    [by_lead] = await AuditEvent.filter(
        action="invitation.answer", entity_id=str(bob_invitation.id)
    )
    assert by_lead.actor_id == lead.user.id and by_lead.on_behalf_of == "Bob Brown"
    [by_link] = await AuditEvent.filter(
        action="invitation.answer", entity_id=str(ada_invitation.id)
    )
    assert by_link.actor_id is None and by_link.on_behalf_of is None and by_link.via == "link"

    grid_options, rows, totals = await polls.grid(lead, poll)
    assert [o.id for o in grid_options] == [first.id, second.id]
    assert totals == {
        first.id: Tally(yes=2, if_need_be=1, no=0),
        second.id: Tally(yes=2, if_need_be=0, no=1),
    }
    assert best_option(totals, [first.id, second.id]) == first.id
    cells = {row.representative.full_name: row.cells for row in rows}
    assert cells["Ada Lovelace"][first.id].answer == "yes"
    assert cells["Bob Brown"][first.id].answer == "if_need_be"
    assert cells["Cy Young"][first.id].no_contract
    assert not cells["Ada Lovelace"][first.id].no_contract

    mailbox.messages.clear()
    outcomes = await polls.finalise(
        lead,
        poll,
        {"option_id": str(first.id), "representative_ids": [str(ada.id), str(bob.id), str(cy.id)]},
    )
    await poll.refresh_from_db()
    assert poll.status == "scheduled" and poll.starts_at == first.starts_at
    result = {o.representative.full_name: o for o in outcomes}
    assert set(result) == {"Ada Lovelace", "Bob Brown", "Cy Young"}
    assert result["Ada Lovelace"].booking.mode == "video"
    assert result["Ada Lovelace"].booking.status == BookingStatus.CONFIRMED
    assert result["Bob Brown"].booking.mode == "phone"
    assert result["Bob Brown"].booking.starts_at == utc("2049-02-10T10:00")
    assert result["Cy Young"].booking is None
    assert result["Cy Young"].refused == [Refusal.NO_CONTRACT]
    assert await Booking.filter(activity=poll).count() == 2

    assert await deliver_mail() == 1  # Ada's invite; Bob has no email and Cy is not booked
    _, cal = calendar_of(only_message(mailbox, "ada.lovelace@people.example"))
    assert cal.vevent.location.value == VIDEO_LINK
    assert_time(cal.vevent.dtstart, "2049-02-10T10:00", dt.datetime(2049, 2, 10, 10, tzinfo=UTC))


# --------------------------------------------------------------------------- access arrangements


async def test_access_arrangements_are_listed_ticked_and_overdue_ones_shown(scene, mailbox):
    lead = scene.lead
    day = clock.today() + dt.timedelta(days=3)
    soon = await activity(lead, local_iso(day), "in_person", "video")
    pia = await person(
        lead,
        "Pia Nowak",
        formats=["braille", "interpreter"],
        interpreter_language="Polish",
        needs_transport="true",
        wants_tech_test="true",
    )
    booking = await bookings.book(lead, soon, pia, "in_person")

    items = {a.kind: a for a in await AccessArrangement.filter(booking=booking)}
    assert {k: (a.label, a.due_on) for k, a in items.items()} == {
        "braille": ("Braille papers posted", day - dt.timedelta(days=7)),
        "interpreter": ("Interpreter booked (Polish)", day - dt.timedelta(days=7)),
        "transport": ("Transport or pick-up arranged", day - dt.timedelta(days=3)),
    }
    assert all(a.done_at is None for a in items.values())

    # Due a week before an activity three days away: already overdue. Transport is due today.
    overdue = await arrangements.overdue(lead)
    assert {a.kind for a in overdue} == {"braille", "interpreter"}

    await arrangements.tick(lead, items["braille"], True)
    ticked = await AccessArrangement.get(id=items["braille"].id)
    assert ticked.done_at is not None and ticked.done_by_id == lead.user.id
    assert {a.kind for a in await arrangements.overdue(lead)} == {"interpreter"}
    [event] = await AuditEvent.filter(action="arrangement.tick")
    assert event.after == {"done": True, "label": "Braille papers posted"}

    # The person can see their booking but only a lead ticks things off.
    with pytest.raises(Forbidden):
        await arrangements.tick(await as_self(pia), items["interpreter"], True)

    # Joining by video instead: transport is no longer needed, a tech test is; done ones stay.
    await bookings.change_mode(lead, booking, "video")
    kinds = {a.kind: a for a in await AccessArrangement.filter(booking=booking)}
    assert set(kinds) == {"braille", "interpreter", "tech_test"}
    assert kinds["braille"].done_at is not None
    assert kinds["tech_test"].due_on == day - dt.timedelta(days=2)

    # A cancelled booking's arrangements are not overdue any more.
    await bookings.cancel(lead, booking)
    assert await arrangements.overdue(lead) == []


# --------------------------------------------------------------------------- who may see what


async def test_another_organisations_lead_sees_nothing_and_books_nothing(scene, world, mailbox):
    lead = scene.lead
    ada = await person(lead, "Ada Lovelace")
    workshop = await activity(lead, BEFORE_SPRING)
    booking = await bookings.book(lead, workshop, ada, "in_person")

    elsewhere = await world.org("Southshire NHS Trust")
    stranger = await actor_for(
        await world.user(elsewhere, "sam.stranger@south.example", Role.INVOLVEMENT_LEAD),
        elsewhere.id,
    )
    their_activity = await activity(stranger, BEFORE_SPRING, title="Theirs")
    their_rep = await person(stranger, "Zed Zulu")

    with pytest.raises(NotFound):
        await bookings.booking_for(stranger, booking.id)
    with pytest.raises(NotFound):
        await activities.activity_for(stranger, workshop.id)
    for target, rep in ((workshop, ada), (workshop, their_rep), (their_activity, ada)):
        with pytest.raises(NotFound):
            await bookings.book(stranger, target, rep, "in_person")
    # Nor can our lead reach theirs.
    with pytest.raises(NotFound):
        await bookings.book(lead, their_activity, their_rep, "in_person")
    assert await Booking.all().count() == 1


async def test_another_organisations_lead_cannot_change_our_bookings(scene, world, mailbox):
    lead = scene.lead
    ada = await person(lead, "Ada Lovelace")
    workshop = await activity(lead, BEFORE_SPRING, "in_person", "video")
    booking = await bookings.book(lead, workshop, ada, "in_person")
    poll = await activity(lead, None, title="Poll")
    await activities.add_options(lead, poll, {"options": [BEFORE_SPRING, AFTER_SPRING]})
    await polls.invite(lead, poll, [ada.id])
    [option, _] = await poll.options.all()

    elsewhere = await world.org("Southshire NHS Trust")
    stranger = await actor_for(
        await world.user(elsewhere, "sam.stranger@south.example", Role.INVOLVEMENT_LEAD),
        elsewhere.id,
    )
    with pytest.raises(NotFound):
        await bookings.cancel(stranger, booking)
    with pytest.raises(NotFound):
        await bookings.change_mode(stranger, booking, "video")
    with pytest.raises(NotFound):
        await calendar_feed.reset_calendar_token(stranger, ada)
    with pytest.raises(NotFound):
        await bookings.reschedule(stranger, workshop, {"starts_at": AFTER_SPRING})
    with pytest.raises(NotFound):
        await polls.finalise(
            stranger, poll, {"option_id": str(option.id), "representative_ids": [str(ada.id)]}
        )

    await booking.refresh_from_db()
    await workshop.refresh_from_db()
    await poll.refresh_from_db()
    await ada.refresh_from_db()
    assert (booking.status, booking.mode, booking.sequence) == (
        BookingStatus.CONFIRMED,
        "in_person",
        0,
    )
    assert workshop.starts_at == utc(BEFORE_SPRING)
    assert poll.status == "planning" and poll.starts_at is None
    assert ada.calendar_token is None


async def test_a_representative_sees_only_their_own_bookings(scene, mailbox):
    lead = scene.lead
    workshop = await activity(lead, BEFORE_SPRING)
    ada = await person(lead, "Ada Lovelace")
    bob = await person(lead, "Bob Brown")
    adas = await bookings.book(lead, workshop, ada, "in_person")
    bobs = await bookings.book(lead, workshop, bob, "in_person")
    ada_self = await as_self(ada)

    assert (await bookings.booking_for(ada_self, adas.id)).id == adas.id
    with pytest.raises(NotFound):
        await bookings.booking_for(ada_self, bobs.id)
    with pytest.raises(NotFound):
        await bookings.booking_for(ada_self, 999999)
    with pytest.raises(NotFound):
        await bookings.cancel(ada_self, bobs)
    with pytest.raises(NotFound):
        await bookings.change_mode(ada_self, bobs, "in_person")
    with pytest.raises(NotFound):
        await calendar_feed.reset_calendar_token(ada_self, bob)
    with pytest.raises(NotFound):
        await bookings.wellbeing_checks(ada_self, bobs)
    # Not a lead: no activities to manage and no booking of anyone, herself included.
    with pytest.raises(NotFound):
        await activities.activity_for(ada_self, workshop.id)
    with pytest.raises(NotFound):
        await bookings.book(ada_self, workshop, ada, "in_person")
    await bobs.refresh_from_db()
    assert bobs.status == BookingStatus.CONFIRMED


# --------------------------------------------------------------------------- what emails say


async def test_invitations_and_bookings_say_where_how_what_is_paid_and_whom_to_phone(
    scene: Scene, client: Any, mailbox: Mailbox
) -> None:
    # The lead adds their phone number where staff keep their own details.
    await sign_in(client, LEAD_EMAIL)
    saved = await client.post_form(
        "/account", {"full_name": "Lena Lead", "phone": "01632 960 123"}, token_from="/account"
    )
    assert saved.status_code == 303
    paid = await person(scene.lead, "Ada Paid")
    declined = await person(scene.lead, "Bo Declined", payment_preference="decline")
    for rep in (paid, declined):
        await wellbeing.give_consent(scene.lead, rep, {"purpose": "contact"})
    poll = await activities.plan(
        scene.lead,
        {
            "title": "Leaflet review",
            "kind": "meeting",
            "category": "co_evaluation",
            "duration_minutes": "120",
            "capacity": "4",
            **MODE_DETAILS["in_person"],
            **MODE_DETAILS["phone"],
            "option_1": "2049-06-01T10:00",
            "option_2": "2049-06-02T10:00",
        },
    )
    await polls.invite(scene.lead, poll, [paid.id, declined.id])
    await deliver_mail()

    invitation = mailbox.text(only_message(mailbox, "ada.paid@people.example"))
    assert f"In person at {VENUE}, {ADDRESS}. There is step-free access." in invitation
    assert f"By phone: call {DIAL_IN} and enter PIN {PIN}." in invitation
    assert "What you are paid: £70.00 for a half day" in invitation
    assert "phone your involvement lead, Lena Lead, on 01632 960 123" in invitation
    not_paid = mailbox.text(only_message(mailbox, "bo.declined@people.example"))
    assert "What you are paid: Expenses only: you chose not to be paid for your time" in not_paid
    assert "£70.00" not in not_paid

    day = await activity(scene.lead, "2049-06-10T09:30", "video", minutes=300)
    await bookings.book(scene.lead, day, paid, "video")
    await deliver_mail()
    [confirmation] = [
        m for m in mailbox.to("ada.paid@people.example") if m["Subject"].startswith("Booked")
    ]
    text = mailbox.text(confirmation)
    assert f"Where and how to join: By video: {VIDEO_LINK}" in text
    assert "What you are paid: £140.00 for a day" in text
    assert "phone your involvement lead, Lena Lead, on 01632 960 123" in text
    assert "None" not in text


async def test_staff_keep_their_phone_number_and_it_is_checked(scene: Scene, client: Any) -> None:
    await sign_in(client, LEAD_EMAIL)
    form = await client.get("/account")
    assert form.status_code == 200 and "Phone number (optional)" in form.text
    refused = await client.post_form(
        "/account", {"full_name": "Lena Lead", "phone": "call me"}, token_from="/account"
    )
    assert refused.status_code == 422
    assert "Enter your phone number in the correct format" in refused.text
    assert (await User.get(email=LEAD_EMAIL)).phone is None
    assert not await AuditEvent.filter(action="user.update").exists()
