"""API operations for bookings, wellbeing checks, the personal calendar feed and the call list.

Handlers only translate between JSON and the services: every rule lives in
coprod.services.bookings, coprod.services.calendar_feed and coprod.services.reminders. Health
data never appears in these replies: a booking says only that it waits for a wellbeing
conversation, and why in general terms.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from coprod.config import get_settings
from coprod.models import (
    Booking,
    BookingStatus,
    Representative,
    WellbeingCheck,
    WellbeingOutcome,
)
from coprod.services import (
    access,
    activities,
    bookings,
    calendar_feed,
    earnings,
    reminders,
)
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.web.api.activities import (
    BOOKINGS,
    LEADS,
    MODE,
    NOT_CONTACTED,
    NULL_DATETIME,
    NULL_INT,
    NULL_STR,
    flag_reason,
    id_of,
    not_contacted_json,
    required,
)
from coprod.web.api.claims import WARNINGS, warnings_json
from coprod.web.api.core import DATETIME, INT, STR, iso, list_of, obj
from coprod.web.api.registry import api

BOOKING = obj(
    id=INT,
    activity_id=INT,
    representative_id=INT,
    status={"enum": [s.value for s in BookingStatus]},
    mode=MODE,
    uid=STR,
    sequence=INT,
    starts_at=DATETIME,
    ends_at=DATETIME,
    wellbeing_flag_reason={
        **NULL_STR,
        "description": "Why a wellbeing conversation is needed first; only for the person "
        "and their involvement leads, and never with health details",
    },
    warnings=WARNINGS,
)
BOOKING_SENT = obj(**BOOKING["properties"], not_contacted=NOT_CONTACTED)
BOOK_INPUT = required(obj(representative_id=INT, mode=MODE), "representative_id", "mode")
MODE_INPUT = required(obj(mode=MODE), "mode")
WELLBEING_INPUT = required(
    obj(
        outcome={"enum": [o.value for o in WellbeingOutcome]},
        note=STR,
        representative_wish=STR,
    ),
    "outcome",
    "note",
    "representative_wish",
)
WELLBEING_CHECK = obj(
    id=INT,
    booking_id=INT,
    outcome={"enum": [o.value for o in WellbeingOutcome]},
    created_at=DATETIME,
    booking=BOOKING_SENT,
)
FEED_URL = obj(url={"type": "string", "format": "uri"})


async def _booking_told(actor: Actor, booking: Booking) -> dict[str, Any]:
    """A booking after a change that would have emailed the person, saying if it did not."""
    rep = booking.representative
    return {**_booking(actor, booking, rep), "not_contacted": await not_contacted_json([rep])}


def _booking(actor: Actor, booking: Booking, rep: Representative) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": booking.id,
        "activity_id": booking.activity_id,
        "representative_id": booking.representative_id,
        "status": booking.status.value,
        "mode": booking.mode,
        "uid": booking.uid,
        "sequence": booking.sequence,
        "starts_at": iso(booking.starts_at),
        "ends_at": iso(booking.ends_at),
    }
    if is_lead(actor) or is_self(actor, rep):
        flagged = booking.status == BookingStatus.NEEDS_WELLBEING_CHECK
        shown["wellbeing_flag_reason"] = flag_reason() if flagged else None
    return shown


@api.operation(
    "GET",
    "/activities/{id:int}/bookings",
    summary="Everyone booked onto an activity, including cancelled bookings",
    tag=BOOKINGS,
    roles=LEADS,
    response=list_of(BOOKING),
)
async def list_bookings(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    found = await Booking.filter(activity=activity).prefetch_related("representative")
    return {"items": [_booking(actor, b, b.representative) for b in found]}


@api.operation(
    "POST",
    "/activities/{id:int}/bookings",
    summary="Book someone onto an activity that has a time; a refusal (409) names each rule broken",
    tag=BOOKINGS,
    roles=LEADS,
    request=BOOK_INPUT,
    response=BOOKING_SENT,
    status=201,
)
async def create_booking(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    rep_id = id_of(body, "representative_id", "the person to book")
    rep = await access.representative_for(actor, rep_id, include_archived=False)
    mode = str(body.get("mode") or "").strip()
    booking = await bookings.book(actor, activity, rep, mode)
    warnings = await earnings.activity_warnings(activity, [rep])
    return {**await _booking_told(actor, booking), "warnings": warnings_json(warnings)}


@api.operation(
    "GET",
    "/bookings/{id:int}",
    summary="One booking (involvement leads, or the person booked)",
    tag=BOOKINGS,
    response=BOOKING,
)
async def get_booking(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    booking = await bookings.booking_for(actor, id)
    return _booking(actor, booking, booking.representative)


@api.operation(
    "PATCH",
    "/bookings/{id:int}",
    summary="Change how someone takes part; they are sent the updated calendar invite",
    tag=BOOKINGS,
    request=MODE_INPUT,
    response=BOOKING_SENT,
)
async def update_booking(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    booking = await bookings.booking_for(actor, id)
    mode = str(body.get("mode") or "").strip()
    await bookings.change_mode(actor, booking, mode)
    return await _booking_told(actor, booking)


@api.operation(
    "POST",
    "/bookings/{id:int}/cancel",
    summary="Cancel a booking (a lead) or withdraw (the person booked); no reason is asked",
    tag=BOOKINGS,
    request=obj(),
    response=BOOKING_SENT,
)
async def cancel_booking(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    booking = await bookings.booking_for(actor, id)
    await bookings.cancel(actor, booking)
    return await _booking_told(actor, booking)


@api.operation(
    "POST",
    "/bookings/{id:int}/wellbeing-check",
    summary="Record the wellbeing conversation: proceed or adjust_role confirms the booking, "
    "postpone or not_this_time releases the place",
    tag=BOOKINGS,
    roles=LEADS,
    request=WELLBEING_INPUT,
    response=WELLBEING_CHECK,
    status=201,
)
async def record_wellbeing_check(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    booking = await bookings.booking_for(actor, id)
    check: WellbeingCheck = await bookings.record_wellbeing_check(actor, booking, body)
    return {
        "id": check.id,
        "booking_id": booking.id,
        "outcome": WellbeingOutcome(check.outcome).value,
        "created_at": iso(check.created_at),
        "booking": await _booking_told(actor, booking),
    }


# ---------------------------------------------------------------------------- calendar feed


@api.operation(
    "GET",
    "/representatives/{id:int}/calendar.ics",
    summary="Someone's bookings as a calendar file (involvement leads, or the person)",
    tag=BOOKINGS,
    response={"type": "string"},
    content_type="text/calendar",
)
async def get_calendar(request: Request, actor: Actor, id: int) -> Response:
    rep = await access.representative_for(actor, id)
    return Response(await calendar_feed.feed(rep), media_type="text/calendar")


@api.operation(
    "POST",
    "/representatives/{id:int}/calendar-token",
    summary="Make a new secret calendar feed address; the old one stops working",
    tag=BOOKINGS,
    request=obj(),
    response=FEED_URL,
)
async def reset_calendar_token(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    rep = await access.representative_for(actor, id, include_archived=False)
    token = await calendar_feed.reset_calendar_token(actor, rep)
    return {"url": f"{get_settings().base_url}/calendar/{token}.ics"}


# ---------------------------------------------------------------------------- call list

TO_CALL = obj(
    representative_id=INT,
    name=STR,
    phone=NULL_STR,
    reason={
        **STR,
        "description": "Why we do not email them, e.g. 'has not agreed to be contacted'",
    },
    activity_id=INT,
    title=STR,
    booking_id=NULL_INT,
    starts_at=NULL_DATETIME,
    invitation_id=NULL_INT,
    poll_deadline=NULL_DATETIME,
)


@api.operation(
    "GET",
    "/call-list",
    summary="People to phone because we may not email them: their bookings in the next two "
    "weeks and the invitations they have not answered, each with the reason",
    tag=BOOKINGS,
    roles=LEADS,
    response=list_of(TO_CALL),
)
async def call_list(request: Request, actor: Actor) -> dict[str, Any]:
    return {
        "items": [
            {
                "representative_id": c.representative.id,
                "name": c.representative.full_name,
                "phone": c.representative.phone or c.representative.mobile,
                "reason": c.reason,
                "activity_id": c.activity.id,
                "title": c.activity.title,
                "booking_id": c.booking.id if c.booking else None,
                "starts_at": iso(c.booking.starts_at) if c.booking else None,
                "invitation_id": c.invitation.id if c.invitation else None,
                "poll_deadline": iso(c.activity.poll_deadline),
            }
            for c in await reminders.call_list(actor)
        ]
    }
