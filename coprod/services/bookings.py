"""Bookings: the rules at booking time, the six-week check, changes, cancellations, calendar
invites, reminders, access arrangements and the personal calendar feed."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from coprod.config import get_settings
from coprod.crypto import decrypt_json, encrypt_json
from coprod.domain import scheduling
from coprod.domain.contracts import Term
from coprod.domain.scheduling import BookingFacts, Refusal
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.integrations import calendar
from coprod.models import (
    HOLDING,
    AccessArrangement,
    Activity,
    ActivityStatus,
    Booking,
    BookingStatus,
    Contract,
    Invitation,
    Project,
    Representative,
    TimeOption,
    User,
    WellbeingCheck,
    WellbeingOutcome,
)
from coprod.security import new_secret, sign, signatures_match
from coprod.services import activities, audit, contact, outbox, wellbeing
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.services.representatives import on_behalf
from coprod.templating import london
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


# --------------------------------------------------------------------------- calendar


def location_for(activity: Activity, mode: str) -> str:
    if mode == "in_person":
        return ", ".join(p for p in (activity.venue, activity.address) if p)
    if mode == "phone":
        pin = f", PIN {activity.dial_in_pin}" if activity.dial_in_pin else ""
        return f"Phone {activity.dial_in}{pin}"
    return activity.video_link or ""


def how_to_join(activity: Activity, mode: str) -> str:
    if mode == "in_person":
        extra = []
        if activity.step_free:
            extra.append("There is step-free access.")
        if activity.transport_offered:
            extra.append("Transport or a pick-up can be arranged: ask your involvement lead.")
        return f"In person at {location_for(activity, mode)}. " + " ".join(extra)
    if mode == "phone":
        return f"By phone: call {activity.dial_in}" + (
            f" and enter PIN {activity.dial_in_pin}." if activity.dial_in_pin else "."
        )
    return f"By video: {activity.video_link}"


async def calendar_event(booking: Booking, *, cancelled: bool = False) -> calendar.CalendarEvent:
    activity = await booking.activity
    rep = await booking.representative
    lead = await User.get_or_none(id=activity.lead_id) if activity.lead_id else None
    settings = get_settings()
    return calendar.CalendarEvent(
        uid=booking.uid,
        sequence=booking.sequence,
        summary=activity.title,
        description="\n\n".join(
            p for p in (how_to_join(activity, booking.mode), activity.description) if p
        ),
        location=location_for(activity, booking.mode),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        organizer_email=lead.email if lead else settings.mail_from,
        organizer_name=lead.full_name if lead else "Coprod",
        attendee_email=rep.email,
        attendee_name=rep.full_name,
        cancelled=cancelled or booking.status == BookingStatus.CANCELLED,
        url=f"{settings.base_url}/my/bookings",
    )


def _invited(booking: Booking) -> bool:
    """Has the person been sent this booking's invite, so the event is in their calendar?
    A booking flagged for a wellbeing check after it was confirmed keeps its confirmed_at."""
    return booking.status == BookingStatus.CONFIRMED or booking.confirmed_at is not None


async def _send_invite(booking: Booking, template: str, *, cancelled: bool = False) -> None:
    """Email the representative the calendar file for this booking, if they use email."""
    rep = await booking.representative
    if not rep.email:
        return
    activity = await booking.activity
    event = await calendar_event(booking, cancelled=cancelled)
    attachment = outbox.Attachment(
        filename="invite.ics",
        content_type="text/calendar",
        content_b64=base64.b64encode(calendar.invite(event)).decode(),
        method="CANCEL" if cancelled else "REQUEST",
    )
    await contact.email_representative(
        rep,
        template=template,
        context={
            "name": rep.full_name,
            "title": activity.title,
            "when": london(booking.starts_at, "%A %-d %B %Y at %-I:%M%p"),
            "how": how_to_join(activity, booking.mode),
            "url": f"{get_settings().base_url}/my/bookings",
        },
        organisation_id=activity.organisation_id,
        attachments=(attachment,),
    )


# --------------------------------------------------------------------------- booking


async def _facts(
    activity: Activity, rep: Representative, mode: str, ignore: int | None = None
) -> BookingFacts:
    starts_at = activity.starts_at
    ends_at = starts_at + dt.timedelta(minutes=activity.duration_minutes) if starts_at else None
    clashes = 0
    if starts_at and ends_at:
        others = await Booking.filter(representative=rep, status__in=HOLDING).exclude(
            id=ignore or 0
        )
        clashes = sum(
            scheduling.times_overlap(starts_at, ends_at, b.starts_at, b.ends_at) for b in others
        )
    taken = (
        await Booking.filter(activity=activity, status__in=HOLDING).exclude(id=ignore or 0).count()
    )
    contracts = await Contract.filter(representative=rep)
    project = await Project.get_or_none(id=activity.project_id) if activity.project_id else None
    return BookingFacts(
        day=scheduling.london_date(starts_at) if starts_at else dt.date.today(),
        starts_at=starts_at,
        now=_now(),
        contract_days=[
            (c.starts_on, Term(c.starts_on, c.ends_on, c.ended_on).last_day) for c in contracts
        ],
        break_until=rep.break_until,
        clashes=clashes,
        taken=taken,
        capacity=activity.capacity,
        mode=mode,
        modes_offered=activity.modes,
        respect_needed=not await activities.has_acknowledged(project, rep),
    )


async def _lock(rep: Representative, activity: Activity) -> None:
    """Row locks in one order (person, then activity), so that two bookings at once for the
    same person, or for the last place, are decided one after the other on PostgreSQL."""
    await Representative.filter(id=rep.id).select_for_update().first()
    await Activity.filter(id=activity.id).select_for_update().first()


async def _flagged(rep: Representative, day: dt.date) -> bool:
    episodes = await wellbeing.episode_dates(rep)
    return scheduling.needs_wellbeing_check(day, episodes, get_settings().recovery_window_days)


async def _checklist(booking: Booking, rep: Representative) -> None:
    for item in scheduling.access_checklist(
        activity_day=scheduling.london_date(booking.starts_at),
        mode=booking.mode,
        formats=rep.formats or [],
        translated_language=rep.translated_language,
        interpreter_language=rep.interpreter_language,
        needs_transport=rep.needs_transport,
        wants_tech_test=rep.wants_tech_test,
    ):
        await AccessArrangement.get_or_create(
            booking=booking, kind=item.kind, defaults={"label": item.label, "due_on": item.due_on}
        )


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
    async with in_transaction():
        await _lock(rep, activity)
        await activity.refresh_from_db()
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
        booking.mode = mode
        booking.starts_at = activity.starts_at
        booking.ends_at = activity.starts_at + dt.timedelta(minutes=activity.duration_minutes)
        booking.status = BookingStatus.NEEDS_WELLBEING_CHECK if flagged else BookingStatus.CONFIRMED
        booking.confirmed_at = None if flagged else _now()
        booking.cancelled_at = None
        await booking.save()
        await _checklist(booking, rep)
        await audit.record(
            actor,
            "booking.create",
            booking,
            after={"status": booking.status.value, "mode": mode, "activity_id": activity.id},
            on_behalf_of=rep.full_name,
        )
        if not flagged:
            await _send_invite(booking, "booking_confirmed")
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


@dataclass
class Outcome:
    representative: Representative
    booking: Booking | None
    refused: list[Refusal]


async def finalise(actor: Actor, activity: Activity, data: Mapping[str, Any]) -> list[Outcome]:
    """Pick the time, then book the people chosen by the modes they asked for."""
    if not is_lead(actor):
        raise Forbidden
    if activity.organisation_id != actor.organisation_id:
        raise NotFound
    c = Checker(data)
    raw_option = c.raw("option_id")
    raw_people = data.get("representative_ids") or []
    people = raw_people if isinstance(raw_people, list) else [raw_people]
    c.done()
    option = (
        await TimeOption.get_or_none(id=int(raw_option), activity=activity)
        if raw_option.isascii() and raw_option.isdigit()
        else None
    )
    if option is None:
        raise ValidationFailed.one("option_id", "Select the time you have chosen")
    if activity.status != ActivityStatus.PLANNING:
        raise Conflict("A time has already been chosen for this activity", "option_id")
    ids = {int(p) for p in people if str(p).isascii() and str(p).isdigit() and len(str(p)) < 10}
    invitations = await Invitation.filter(
        activity=activity, representative_id__in=list(ids)
    ).prefetch_related("representative", "answers")
    if not invitations:
        raise ValidationFailed.one("representative_ids", "Select who will take part")
    async with in_transaction():
        activity.starts_at = option.starts_at
        activity.status = ActivityStatus.SCHEDULED
        await activity.save(update_fields=["starts_at", "status"])
        await audit.record(
            actor, "activity.finalise", activity, after={"starts_at": option.starts_at.isoformat()}
        )
    outcomes = []
    for invitation in invitations:
        rep = invitation.representative
        mode = invitation.mode or next(iter(sorted(activity.modes)))
        try:
            outcomes.append(Outcome(rep, await book(actor, activity, rep, mode), []))
        except BookingRefused as refused:
            outcomes.append(Outcome(rep, None, refused.refusals))
    return outcomes


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
        check = await WellbeingCheck.create(
            booking=booking,
            outcome=outcome,
            recorded_by=actor.user,
            payload=encrypt_json({"note": note, "representative_wish": wish}),
        )
        if outcome in (WellbeingOutcome.PROCEED, WellbeingOutcome.ADJUST_ROLE):
            activity = await booking.activity
            await _lock(rep, activity)
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
            invited = _invited(booking)
            booking.status = BookingStatus.CANCELLED
            booking.cancelled_at = _now()
            if invited:
                booking.sequence += 1
                await _send_invite(booking, "booking_cancelled", cancelled=True)
        await booking.save(update_fields=["status", "confirmed_at", "cancelled_at", "sequence"])
        await audit.record(
            actor,
            "wellbeing_check.record",
            booking,
            after={"outcome": outcome, "status": booking.status.value},
            on_behalf_of=None,
        )
        if booking.status == BookingStatus.CONFIRMED:
            await _send_invite(booking, "booking_confirmed")
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
    """A lead cancels, or the representative withdraws. Nobody is asked why."""
    rep = await booking.representative
    if rep.organisation_id != actor.organisation_id or not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
        raise Conflict(f"This booking is already {booking.status.label.lower()}", "status")
    was_confirmed = _invited(booking)
    async with in_transaction():
        before = booking.status.value
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = _now()
        if was_confirmed:
            booking.sequence += 1
        await booking.save(update_fields=["status", "cancelled_at", "sequence"])
        await audit.record(
            actor,
            "booking.withdraw" if is_self(actor, rep) else "booking.cancel",
            booking,
            before={"status": before},
            after={"status": "cancelled"},
            on_behalf_of=on_behalf(actor, rep),
        )
        if was_confirmed:
            await _send_invite(booking, "booking_cancelled", cancelled=True)
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
        before = booking.mode
        booking.mode = mode
        booking.sequence += 1
        await booking.save(update_fields=["mode", "sequence"])
        await AccessArrangement.filter(booking=booking, done_at__isnull=True).delete()
        await _checklist(booking, rep)
        await audit.record(
            actor,
            "booking.mode",
            booking,
            before={"mode": before},
            after={"mode": mode},
            on_behalf_of=on_behalf(actor, rep),
        )
        if _invited(booking):
            await _send_invite(booking, "booking_updated")
    return booking


async def reschedule(actor: Actor, activity: Activity, data: Mapping[str, Any]) -> Activity:
    """Move a scheduled activity. Everyone booked gets the change (same UID, higher SEQUENCE);
    anyone the new date puts within the six-week window is flagged for a wellbeing
    conversation. (Contract, break and overlap are not re-checked: the lead sees the grid.)"""
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
        before = activity.starts_at
        activity.starts_at = starts_at
        await activity.save(update_fields=["starts_at"])
        await audit.record(
            actor,
            "activity.reschedule",
            activity,
            before={"starts_at": before.isoformat() if before else None},
            after={"starts_at": starts_at.isoformat()},
        )
        for booking in await Booking.filter(activity=activity, status__in=HOLDING).prefetch_related(
            "representative"
        ):
            rep = booking.representative
            booking.starts_at = starts_at
            booking.ends_at = starts_at + dt.timedelta(minutes=activity.duration_minutes)
            booking.sequence += 1
            if booking.status == BookingStatus.CONFIRMED and await _flagged(
                rep, scheduling.london_date(starts_at)
            ):
                booking.status = BookingStatus.NEEDS_WELLBEING_CHECK
            await booking.save(update_fields=["starts_at", "ends_at", "sequence", "status"])
            await AccessArrangement.filter(booking=booking, done_at__isnull=True).delete()
            await _checklist(booking, rep)
            if _invited(booking):
                await _send_invite(booking, "booking_updated")
    return activity


# --------------------------------------------------------------------------- arrangements


async def tick(actor: Actor, arrangement: AccessArrangement, done: bool) -> None:
    booking = await arrangement.booking
    await booking_for(actor, booking.id)
    if not is_lead(actor):
        raise Forbidden
    async with in_transaction():
        arrangement.done_at = _now() if done else None
        arrangement.done_on_time = done and scheduling.london_date(_now()) <= arrangement.due_on
        arrangement.done_by = actor.user if done else None
        await arrangement.save(update_fields=["done_at", "done_by_id", "done_on_time"])
        await audit.record(
            actor,
            "arrangement.tick",
            arrangement,
            after={"done": done, "label": arrangement.label},
            organisation_id=actor.organisation_id,
        )


async def overdue_arrangements(actor: Actor) -> list[AccessArrangement]:
    if not is_lead(actor):
        raise Forbidden
    return list(
        await AccessArrangement.filter(
            booking__activity__organisation_id=actor.organisation_id,
            booking__status__in=HOLDING,
            done_at__isnull=True,
            due_on__lt=dt.date.today(),
        ).prefetch_related("booking__representative", "booking__activity")
    )


# --------------------------------------------------------------------------- reminders


def tech_test_token(booking: Booking) -> str:
    return f"{booking.id}.{sign(get_settings().secret_key, 'tech-test', booking.uid)}"


async def booking_for_tech_test(token: str) -> Booking:
    booking_id, _, signature = token.partition(".")
    # isascii: str.isdigit() also accepts digits such as "²", which int() rejects; and an id
    # beyond the column's range fails in the database rather than being not found.
    pk = int(booking_id) if booking_id.isascii() and booking_id.isdigit() else 0
    booking = await Booking.get_or_none(id=pk) if 0 < pk < 2**31 else None
    if booking is None or not signatures_match(
        sign(get_settings().secret_key, "tech-test", booking.uid), signature
    ):
        raise NotFound
    return booking


async def request_tech_test(booking: Booking) -> None:
    activity = await booking.activity
    rep = await booking.representative
    lead = await User.get_or_none(id=activity.lead_id) if activity.lead_id else None
    async with in_transaction():
        if lead is not None:
            await outbox.enqueue_email_once(
                dedupe_key=f"booking:{booking.id}:tech-test:{booking.sequence}",
                to=lead.email,
                template="tech_test_request",
                context={
                    "name": lead.full_name,
                    "representative": rep.full_name,
                    "title": activity.title,
                    "when": london(booking.starts_at),
                    "phone": rep.phone or rep.mobile or "",
                    "email": rep.email or "",
                },
                organisation_id=activity.organisation_id,
            )
        await audit.record(
            Actor(user=None, organisation_id=activity.organisation_id, via="link"),
            "booking.tech_test_request",
            booking,
            on_behalf_of=rep.full_name,
        )


async def send_reminders(now: dt.datetime) -> int:
    """Periodic job: a reminder a set time before, once per booking and start time."""
    hours = get_settings().reminder_hours_before
    due = await Booking.filter(
        status=BookingStatus.CONFIRMED,
        starts_at__gt=now,
        starts_at__lte=now + dt.timedelta(hours=hours),
    ).prefetch_related("activity", "representative")
    queued = 0
    settings = get_settings()
    for booking in due:
        rep, activity = booking.representative, booking.activity
        # Anyone we may not email is on the lead's call list instead.
        sent = await contact.email_representative(
            rep,
            dedupe_key=f"booking:{booking.id}:reminder:{booking.starts_at.isoformat()}",
            template="booking_reminder",
            context={
                "name": rep.full_name,
                "title": activity.title,
                "mode": booking.mode,
                "when": london(booking.starts_at, "%A %-d %B %Y at %-I:%M%p"),
                "how": how_to_join(activity, booking.mode),
                "tech_test_url": f"{settings.base_url}/tech-test/{tech_test_token(booking)}",
                "dial_in": activity.dial_in,
                "pin": activity.dial_in_pin,
            },
            organisation_id=activity.organisation_id,
        )
        queued += sent.message is not None
    return queued


@dataclass(frozen=True)
class ToCall:
    """Someone the lead needs to phone, because we may not email them, and what about."""

    representative: Representative
    reason: str  # why they are not emailed, e.g. "has not agreed to be contacted"
    activity: Activity
    booking: Booking | None  # a coming booking, or else
    invitation: Invitation | None  # an invitation to say when they can come, not yet answered

    @property
    def when(self) -> dt.datetime | None:
        return self.booking.starts_at if self.booking else self.activity.poll_deadline


async def call_list(actor: Actor, days: int = 14) -> list[ToCall]:
    """Coming bookings, and open invitations not yet answered, of people we may not email
    (no consent to be contacted in force, or no email address): the lead rings them instead."""
    if not is_lead(actor):
        raise Forbidden
    now = _now()
    booked = await Booking.filter(
        activity__organisation_id=actor.organisation_id,
        status__in=HOLDING,
        starts_at__gt=now,
        starts_at__lte=now + dt.timedelta(days=days),
    ).prefetch_related("representative", "activity")
    invited = await (
        Invitation.filter(
            activity__organisation_id=actor.organisation_id,
            activity__status=ActivityStatus.PLANNING,
            answered_at__isnull=True,
            representative__archived_at__isnull=True,
        )
        .filter(Q(activity__poll_deadline__isnull=True) | Q(activity__poll_deadline__gt=now))
        .prefetch_related("representative", "activity")
    )
    reps = {b.representative.id: b.representative for b in booked} | {
        i.representative.id: i.representative for i in invited
    }
    reasons = {n.representative.id: n.reason for n in await contact.not_contacted(reps.values())}
    found = [
        ToCall(b.representative, reasons[b.representative.id], b.activity, b, None)
        for b in booked
        if b.representative.id in reasons
    ] + [
        ToCall(i.representative, reasons[i.representative.id], i.activity, None, i)
        for i in invited
        if i.representative.id in reasons
    ]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda c: (c.when or far, c.representative.full_name))


# --------------------------------------------------------------------------- calendar feed


async def reset_calendar_token(actor: Actor, rep: Representative) -> str:
    if rep.organisation_id != actor.organisation_id or not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    rep.calendar_token = new_secret()
    await rep.save(update_fields=["calendar_token"])
    await audit.record(actor, "calendar_feed.reset", rep, on_behalf_of=on_behalf(actor, rep))
    return rep.calendar_token


async def feed(rep: Representative) -> bytes:
    bookings = await Booking.filter(
        representative=rep,
        status__in=(*HOLDING, BookingStatus.CANCELLED, BookingStatus.ATTENDED),
        starts_at__gt=_now() - dt.timedelta(days=90),
    )
    events = [await calendar_event(b) for b in bookings]
    return calendar.feed(events, f"Coprod: {rep.full_name}")


async def feed_by_token(token: str) -> bytes:
    rep = (
        await Representative.get_or_none(calendar_token=token, archived_at__isnull=True)
        if token
        else None
    )
    if rep is None:
        raise NotFound
    return await feed(rep)
