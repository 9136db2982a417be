"""Bookings: the rules at booking time, the six-week check, changes, cancellations and moving an
activity. Each booking's access arrangements are made through `arrangements`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from coprod import clock, db
from coprod.config import get_settings
from coprod.crypto import decrypt_json, encrypt_json
from coprod.domain import scheduling
from coprod.domain.contracts import Term
from coprod.domain.scheduling import BookingFacts, Refusal
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import (
    HOLDING,
    AccessArrangement,
    Activity,
    ActivityStatus,
    Booking,
    BookingStatus,
    Contract,
    Project,
    Representative,
    WellbeingCheck,
    WellbeingOutcome,
)
from coprod.services import (
    activities,
    arrangements,
    audit,
    courses,
    invites,
    projects,
    rollups,
    wellbeing,
)
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.services.decisions import AtRisk, Decision, DecisionsNeeded, read_decisions
from coprod.services.representatives import on_behalf
from coprod.validation import Checker, ValidationFailed


class BookingRefused(Conflict):
    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = list(refusals)
        super().__init__(". ".join(r.value for r in self.refusals), "representative_id")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- access


async def booking_for(actor: Actor, booking_id: int) -> Booking:
    """Leads see their organisation's bookings; a representative sees only their own."""
    booking = await Booking.get_or_none(id=booking_id).prefetch_related(
        "activity", "representative"
    )
    if booking is None or booking.activity.organisation_id != actor.organisation_id:
        raise NotFound
    if not (is_lead(actor) or is_self(actor, booking.representative)):
        raise NotFound
    return booking


# --------------------------------------------------------------------------- booking


@cache
def _counted_sql() -> str:
    holding = ", ".join(["{}"] * len(HOLDING))
    booking = Booking._meta.db_table
    # The person's clashes follow scheduling.times_overlap's half-open rule; an activity with no
    # time yet (both times NULL) clashes with nothing.
    return f"""
SELECT
    (SELECT COUNT(*) FROM "{booking}" WHERE "activity_id" = {{}} AND "status" IN ({holding})
        AND "id" <> {{}}) AS "taken",
    (SELECT COUNT(*) FROM "{booking}" WHERE "representative_id" = {{}} AND "status" IN ({holding})
        AND "starts_at" < {{}} AND "ends_at" > {{}} AND "id" <> {{}}) AS "clashes"
"""


@dataclass(frozen=True)
class _Counted:
    taken: int
    clashes: int


async def _counted(activity: Activity, rep: Representative, ignore: int | None) -> _Counted:
    """Places taken on the activity and the person's bookings clashing with it, in one
    statement written by hand: a crowd after the last place each runs it."""
    starts_at = activity.starts_at
    ends_at = starts_at + dt.timedelta(minutes=activity.duration_minutes) if starts_at else None
    holding = [status.value for status in HOLDING]
    client, sql = db.sql(_counted_sql())
    # The person's bookings that start before this one ends and end after it starts.
    starts_before = db.db_value(Booking, "starts_at", ends_at)
    ends_after = db.db_value(Booking, "ends_at", starts_at)
    taken = [activity.id, *holding, ignore or 0]
    clashes = [rep.id, *holding, starts_before, ends_after, ignore or 0]
    rows = await client.execute_query_dict(sql, [*taken, *clashes])
    return _Counted(taken=int(rows[0]["taken"]), clashes=int(rows[0]["clashes"]))


async def _facts(
    activity: Activity,
    rep: Representative,
    mode: str,
    ignore: int | None = None,
    counted: _Counted | None = None,
) -> BookingFacts:
    counted = counted or await _counted(activity, rep, ignore)
    contracts = await db.select(Contract, representative_id=rep.id)
    project = await Project.get_or_none(id=activity.project_id) if activity.project_id else None
    starts_at = activity.starts_at
    return BookingFacts(
        day=scheduling.london_date(starts_at) if starts_at else clock.today(),
        starts_at=starts_at,
        now=_now(),
        contract_days=[
            (c.starts_on, Term(c.starts_on, c.ends_on, c.ended_on).last_day) for c in contracts
        ],
        break_until=rep.break_until,
        clashes=counted.clashes,
        taken=counted.taken,
        capacity=activity.capacity,
        mode=mode,
        modes_offered=activity.modes,
        respect_needed=not await projects.has_acknowledged(project, rep),
    )


async def _lock(rep: Representative, activity: Activity) -> None:
    """Row locks in one order (person, then activity), so that two bookings at once for the
    same person, or for the last place, are decided one after the other on PostgreSQL."""
    await Representative.filter(id=rep.id).select_for_update().first()
    await Activity.filter(id=activity.id).select_for_update().first()


async def _refuse_if_full(activity: Activity, rep: Representative, mode: str) -> None:
    """Refuse at once, naming every rule broken, when the places are all taken by bookings
    already committed. A full activity stays full until someone cancels, so refusing from
    this read is the answer the lock would have given a moment later."""
    counted = await _counted(activity, rep, None)
    if counted.taken < activity.capacity:
        return
    refusals = scheduling.booking_refusals(await _facts(activity, rep, mode, counted=counted))
    if Refusal.FULL in refusals:
        raise BookingRefused(refusals)


# How many times a booking waits for the activity's lock without queueing, before it queues.
_SHARE_WAITS = 5


async def _lock_place(rep: Representative, activity: Activity, mode: str) -> None:
    """Take the activity's row lock, which decides the last place, without queueing for it.

    Queued behind FOR UPDATE, two hundred people after the last place would each take the lock
    in turn only to find the activity full. Instead, while someone else holds it, wait with a
    share lock, which every waiter is granted at once when the holder finishes; give it up,
    refuse at once if the activity is now full, and otherwise try again. A share lock can be
    granted while the row is only key-share locked (by a row referring to it being added), so
    after a few rounds the booking queues as before rather than spinning."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        # Taken by an int, not a parameter: the wait below is a script, which takes none.
        activity_id = int(activity.id)
        for _ in range(_SHARE_WAITS):
            # SKIP LOCKED answers "someone else holds it" with no row rather than an error, so
            # trying costs one statement and no savepoint.
            if await db.lock(Activity.filter(id=activity_id), skip_locked=True):
                return
            # Wait for the holder, then give the share lock straight back by rolling back to
            # a savepoint: three statements in one round trip, since a crowd waits here.
            await conn.execute_script(
                "SAVEPOINT share_wait; "
                f"SELECT 1 FROM {Activity._meta.db_table} WHERE id = {activity_id} FOR SHARE; "
                "ROLLBACK TO SAVEPOINT share_wait; RELEASE SAVEPOINT share_wait"
            )
            await _refuse_if_full(activity, rep, mode)
    await Activity.filter(id=activity.id).select_for_update().first()


async def _flagged(rep: Representative, day: dt.date) -> bool:
    episodes = await wellbeing.episode_dates(rep)
    return scheduling.needs_wellbeing_check(day, episodes, get_settings().recovery_window_days)


async def book(actor: Actor, activity: Activity, rep: Representative, mode: str) -> Booking:
    """Book someone onto a scheduled activity, enforcing every rule on the server.

    Fails with BookingRefused (409) naming each rule broken. Someone recently or currently in
    an acute episode is not refused: the booking waits for a wellbeing conversation.
    """
    if (
        not is_lead(actor)
        or rep.organisation_id != actor.organisation_id
        or activity.organisation_id != actor.organisation_id
    ):
        raise NotFound
    if activity.status == ActivityStatus.CANCELLED:
        raise Conflict("This activity has been cancelled")
    await _refuse_if_full(activity, rep, mode)
    async with in_transaction():
        await Representative.filter(id=rep.id).select_for_update().first()
        await _lock_place(rep, activity, mode)
        await activity.refresh_from_db()
        # Read again under the locks: this decides the last place.
        refusals = scheduling.booking_refusals(await _facts(activity, rep, mode))
        if refusals:
            raise BookingRefused(refusals)
        assert activity.starts_at is not None
        day = scheduling.london_date(activity.starts_at)
        flagged = await _flagged(rep, day)
        existing = await Booking.get_or_none(activity=activity, representative=rep)
        if existing is not None and existing.status in HOLDING:
            raise Conflict("They are already booked onto this activity", "representative_id")
        booking = existing or Booking(
            activity=activity, representative=rep, uid=f"{uuid.uuid4()}@coprod"
        )
        if existing is not None:
            booking.sequence += 1  # a rebooking after a cancellation is a change to the event
        access = await rollups.access_of([booking.id])
        booking.mode = mode
        booking.starts_at = activity.starts_at
        booking.ends_at = activity.starts_at + dt.timedelta(minutes=activity.duration_minutes)
        booking.status = BookingStatus.NEEDS_WELLBEING_CHECK if flagged else BookingStatus.CONFIRMED
        booking.confirmed_at = None if flagged else _now()
        booking.cancelled_at = None
        await booking.save()
        await courses.place(booking, rep, activity)
        await arrangements.make_checklist(booking, rep)
        await rollups.access_changed(access, await rollups.access_of([booking.id]))
        await audit.record(
            actor,
            "booking.create",
            booking,
            after={"status": booking.status.value, "mode": mode, "activity_id": activity.id},
            on_behalf_of=rep.full_name,
        )
        if not flagged:
            await invites.send_invite(booking, "booking_confirmed")
    return booking


async def book_catch_up(actor: Actor, contract: Contract, data: Mapping[str, Any]) -> Booking:
    """Book a due catch-up: a half-day activity for one person at a time agreed with them.
    The activity and the booking are made together, or neither is."""
    rep = await contract.representative
    mode = str(data.get("mode") or "")
    if mode not in ("in_person", "video", "phone"):
        raise ValidationFailed.one("mode", "Select how you will meet")
    details = {
        "title": f"Catch-up with {rep.full_name}",
        "kind": "catch_up",
        "duration_minutes": "240",
        "capacity": "1",
        "description": "A half-day catch-up to talk about how the role is going.",
        mode: "yes",
        **{k: data.get(k) for k in ("venue", "address", "video_link", "dial_in", "dial_in_pin")},
        **{k: v for k, v in data.items() if str(k).startswith("starts_at")},
    }
    async with in_transaction():
        activity = await activities.create_activity(actor, details)
        return await book(actor, activity, rep, mode)


async def record_wellbeing_check(
    actor: Actor, booking: Booking, data: Mapping[str, Any]
) -> WellbeingCheck:
    """A lead records the conversation. "Proceed" (or adjusting the role) confirms the booking;
    postponing or "not this time" releases the place."""
    rep = await booking.representative
    if not is_lead(actor) or rep.organisation_id != actor.organisation_id:
        raise NotFound
    if booking.status != BookingStatus.NEEDS_WELLBEING_CHECK:
        raise Conflict("This booking is not waiting for a wellbeing check", "outcome")
    c = Checker(data)
    outcome = c.choice(
        "outcome", "the outcome of the conversation", [o.value for o in WellbeingOutcome]
    )
    note = c.text("note", "a note of the conversation", max_length=4000)
    wish = c.text("representative_wish", "what they want to do", max_length=2000)
    c.done()
    async with in_transaction():
        activity = await booking.activity
        # Locks in the order `book` takes them: person, activity, then (for the roll-up) booking.
        await _lock(rep, activity)
        access = await rollups.access_of([booking.id])
        check = await WellbeingCheck.create(
            booking=booking,
            outcome=outcome,
            recorded_by=actor.user,
            payload=encrypt_json({"note": note, "representative_wish": wish}),
        )
        if outcome in (WellbeingOutcome.PROCEED, WellbeingOutcome.ADJUST_ROLE):
            refusals = [
                r
                for r in scheduling.booking_refusals(
                    await _facts(activity, rep, booking.mode, ignore=booking.id)
                )
            ]
            if refusals:
                raise BookingRefused(refusals)
            booking.status = BookingStatus.CONFIRMED
            booking.confirmed_at = _now()
        else:
            invited = invites.invited(booking)
            booking.status = BookingStatus.CANCELLED
            booking.cancelled_at = _now()
            if invited:
                booking.sequence += 1
                await invites.send_invite(booking, "booking_cancelled", cancelled=True)
        await booking.save(update_fields=["status", "confirmed_at", "cancelled_at", "sequence"])
        await rollups.access_changed(access, await rollups.access_of([booking.id]))
        await audit.record(
            actor,
            "wellbeing_check.record",
            booking,
            after={"outcome": outcome, "status": booking.status.value},
            on_behalf_of=None,
        )
        if booking.status == BookingStatus.CONFIRMED:
            await invites.send_invite(booking, "booking_confirmed")
    return check


async def wellbeing_checks(actor: Actor, booking: Booking) -> list[dict[str, Any]]:
    rep = await booking.representative
    if not (is_lead(actor) or is_self(actor, rep)) or rep.organisation_id != actor.organisation_id:
        raise NotFound
    checks = await WellbeingCheck.filter(booking=booking).order_by("created_at")
    if checks:
        await audit.record(actor, "health.view", booking, after={"wellbeing_checks": len(checks)})
    return [
        {"outcome": ch.outcome, "created_at": ch.created_at, **decrypt_json(ch.payload)}
        for ch in checks
    ]


async def cancel(actor: Actor, booking: Booking) -> Booking:
    """A lead cancels, or the representative withdraws. Nobody is asked why.

    Access arrangements not yet done are closed (removed), so nobody posts Braille papers for a
    meeting that is off; those already done stay as a record of the work."""
    rep = await booking.representative
    if rep.organisation_id != actor.organisation_id or not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
        raise Conflict(f"This booking is already {booking.status.label.lower()}", "status")
    was_confirmed = invites.invited(booking)
    async with in_transaction():
        access = await rollups.access_of([booking.id])
        before = booking.status.value
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = _now()
        if was_confirmed:
            booking.sequence += 1
        await booking.save(update_fields=["status", "cancelled_at", "sequence"])
        open_tasks = AccessArrangement.filter(booking=booking, done_at__isnull=True)
        closed = await open_tasks.values_list("label", flat=True)
        await open_tasks.delete()
        await rollups.access_changed(access, await rollups.access_of([booking.id]))
        await audit.record(
            actor,
            "booking.withdraw" if is_self(actor, rep) else "booking.cancel",
            booking,
            before={"status": before},
            after={"status": "cancelled", "arrangements_closed": closed},
            on_behalf_of=on_behalf(actor, rep),
        )
        if was_confirmed:
            await invites.send_invite(booking, "booking_cancelled", cancelled=True)
    return booking


async def change_mode(actor: Actor, booking: Booking, mode: str) -> Booking:
    rep = await booking.representative
    if rep.organisation_id != actor.organisation_id or not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    activity = await booking.activity
    if mode not in activity.modes:
        raise ValidationFailed.one("mode", "Select one of the ways this activity is offered")
    if booking.status not in HOLDING or booking.mode == mode:
        return booking
    async with in_transaction():
        access = await rollups.access_of([booking.id])
        before = booking.mode
        booking.mode = mode
        booking.sequence += 1
        await booking.save(update_fields=["mode", "sequence"])
        await arrangements.remake_checklist(booking, rep)
        await rollups.access_changed(access, await rollups.access_of([booking.id]))
        await audit.record(
            actor,
            "booking.mode",
            booking,
            before={"mode": before},
            after={"mode": mode},
            on_behalf_of=on_behalf(actor, rep),
        )
        if invites.invited(booking):
            await invites.send_invite(booking, "booking_updated")
    return booking


async def cancel_or_keep(
    actor: Actor, risk: AtRisk, decision: tuple[Decision, str], because: str
) -> None:
    """Carry out the lead's decision for a booking a change put at risk."""
    choice, reason = decision
    booking = risk.booking
    if choice == Decision.CANCEL:
        await cancel(actor, booking)
        return
    await audit.record(
        actor,
        "booking.keep",
        booking,
        after={"because": because, "rules": risk.reasons, "reason": reason},
        on_behalf_of=booking.representative.full_name,
    )


async def reschedule(actor: Actor, activity: Activity, data: Mapping[str, Any]) -> Activity:
    """Move a scheduled activity. Everyone booked gets the change (same UID, higher SEQUENCE);
    anyone the new date puts within the six-week window is flagged for a wellbeing
    conversation. Anyone the new time would leave without a contract, on a break or double
    booked is not moved silently: DecisionsNeeded names them until the lead has decided, for
    each, to cancel their booking or keep it with a reason."""
    if not is_lead(actor):
        raise Forbidden
    if activity.organisation_id != actor.organisation_id:
        raise NotFound
    c = Checker(data)
    starts_at = activities.read_moment(c, "starts_at", "the new date and time")
    c.done()
    assert starts_at is not None
    if starts_at <= _now():
        raise ValidationFailed.one("starts_at", "The new time must be in the future")
    if activity.status != ActivityStatus.SCHEDULED:
        raise Conflict("Only an activity with a date and time can be moved", "starts_at")
    async with in_transaction():
        # Person locks first (in id order), then the activity: the order `book` takes them in.
        holders = await Booking.filter(activity=activity, status__in=HOLDING).values_list(
            "representative_id", flat=True
        )
        for rep_id in sorted(set(holders)):
            await Representative.filter(id=rep_id).select_for_update().first()
        await Activity.filter(id=activity.id).select_for_update().first()
        # Read again under the lock: someone may have been booked since.
        booked = await Booking.filter(activity=activity, status__in=HOLDING).prefetch_related(
            "representative"
        )
        before = activity.starts_at
        activity.starts_at = starts_at
        at_risk = []
        for booking in booked:
            facts = await _facts(activity, booking.representative, booking.mode, ignore=booking.id)
            reasons = [
                r.value for r in scheduling.booking_refusals(facts) if r in scheduling.CHANGE_RULES
            ]
            if reasons:
                at_risk.append(AtRisk(booking, reasons))
        try:
            decisions = read_decisions(data, at_risk)
        except DecisionsNeeded:
            activity.starts_at = before
            raise
        await activity.save(update_fields=["starts_at"])
        await audit.record(
            actor,
            "activity.reschedule",
            activity,
            before={"starts_at": before.isoformat() if before else None},
            after={"starts_at": starts_at.isoformat()},
        )
        cancelled = set()
        for risk in at_risk:
            await cancel_or_keep(
                actor, risk, decisions[risk.booking.id], f"moved to {starts_at.isoformat()}"
            )
            if decisions[risk.booking.id][0] == Decision.CANCEL:
                cancelled.add(risk.booking.id)
        # Those cancelled above kept the roll-up in step themselves.
        moving = [b.id for b in booked if b.id not in cancelled]
        access = await rollups.access_of(moving)
        for booking in booked:
            if booking.id in cancelled:
                continue
            rep = booking.representative
            booking.starts_at = starts_at
            booking.ends_at = starts_at + dt.timedelta(minutes=activity.duration_minutes)
            booking.sequence += 1
            if booking.status == BookingStatus.CONFIRMED and await _flagged(
                rep, scheduling.london_date(starts_at)
            ):
                booking.status = BookingStatus.NEEDS_WELLBEING_CHECK
            await booking.save(update_fields=["starts_at", "ends_at", "sequence", "status"])
            await arrangements.remake_checklist(booking, rep)
            if invites.invited(booking):
                await invites.send_invite(booking, "booking_updated")
        await rollups.access_changed(access, await rollups.access_of(moving))
    return activity
