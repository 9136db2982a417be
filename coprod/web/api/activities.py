"""API operations for activities, finding a time, bookings and the personal calendar.

Handlers only translate between JSON and the services: every rule lives in
coprod.services.activities and coprod.services.bookings. Health data never appears in these
replies: a booking says only that it waits for a wellbeing conversation, and why in general
terms, to the representative and their organisation's involvement leads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from tortoise.transactions import in_transaction

from coprod.config import get_settings
from coprod.domain.scheduling import Answer, Tally
from coprod.errors import NotFound
from coprod.models import (
    HOLDING,
    Activity,
    ActivityStatus,
    Booking,
    BookingStatus,
    Category,
    Invitation,
    Kind,
    Mode,
    OptionAnswer,
    Representative,
    Role,
    TimeOption,
    WellbeingCheck,
    WellbeingOutcome,
)
from coprod.services import access, activities, bookings, claims, contact
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed, record_id
from coprod.web.api.claims import WARNINGS, warnings_json
from coprod.web.api.core import DATETIME, DECISIONS, INT, STR, decisions_needed, iso, list_of, obj
from coprod.web.api.registry import api

ACTIVITIES = "activities"
BOOKINGS = "bookings"
LEADS = (Role.INVOLVEMENT_LEAD,)

BOOL = {"type": "boolean"}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
NULL_DATETIME = {"type": ["string", "null"], "format": "date-time"}
MODE = {"enum": [m.value for m in Mode]}
NULL_MODE = {"enum": [*(m.value for m in Mode), None]}
ANSWER = {"enum": [a.value for a in Answer]}
IDS = {"type": "array", "items": INT}


def _required(schema: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**schema, "required": list(names)}


# ---------------------------------------------------------------------------- schemas

ACTIVITY_INPUT = obj(
    title=STR,
    description=NULL_STR,
    project_id=NULL_INT,
    team_id=NULL_INT,
    kind={"enum": [k.value for k in Kind]},
    category={
        "enum": [*(c.value for c in Category), None],
        "description": "Required except for catch_up and training_received",
    },
    duration_minutes=INT,
    preparation_minutes=INT,
    capacity=INT,
    in_person=BOOL,
    venue=NULL_STR,
    address=NULL_STR,
    step_free=BOOL,
    transport_offered=BOOL,
    video=BOOL,
    video_link=NULL_STR,
    phone=BOOL,
    dial_in=NULL_STR,
    dial_in_pin=NULL_STR,
    starts_at={
        **NULL_DATETIME,
        "description": "A fixed time (no time options needed); moving a scheduled activity "
        "sends everyone booked the change. Without an offset it is the time in England",
    },
)
CREATE_ACTIVITY = _required(ACTIVITY_INPUT, "title", "kind", "duration_minutes", "capacity")
UPDATE_ACTIVITY = obj(**ACTIVITY_INPUT["properties"], decisions=DECISIONS)
ACTIVITY = obj(
    **ACTIVITY_INPUT["properties"],
    id=INT,
    status={"enum": [s.value for s in ActivityStatus]},
    ends_at=NULL_DATETIME,
    poll_deadline=NULL_DATETIME,
    modes={"type": "array", "items": MODE},
    lead_id=NULL_INT,
)
OPTION = obj(id=INT, starts_at=DATETIME)
OPTIONS_INPUT = _required(
    obj(options={"type": "array", "items": STR, "description": "ISO date-times"}), "options"
)
TALLY = obj(yes=INT, if_need_be=INT, no=INT, can_come=INT)
CELL = obj(
    option_id=INT,
    answer={"enum": [*(a.value for a in Answer), None]},
    cannot_do={**BOOL, "description": "Their standing 'can't do' times include this slot"},
    on_break=BOOL,
    no_contract=BOOL,
    wellbeing_flag={**BOOL, "description": "A wellbeing conversation would be needed first"},
)
ANSWERS_MAP = {
    "type": "object",
    "description": "Option id to answer",
    "additionalProperties": ANSWER,
}
INVITEE = obj(
    invitation_id=INT,
    representative_id=INT,
    full_name=STR,
    mode=NULL_MODE,
    comment=NULL_STR,
    answered_at=NULL_DATETIME,
    answers=ANSWERS_MAP,
    cells={"type": "array", "items": CELL},
)
GRID = obj(
    options={"type": "array", "items": obj(**OPTION["properties"], totals=TALLY)},
    invitees={"type": "array", "items": INVITEE},
)
ANSWERS_INPUT = _required(
    obj(representative_id=INT, answers=ANSWERS_MAP, mode=NULL_MODE, comment=NULL_STR),
    "representative_id",
    "answers",
)
ANSWERED = obj(
    invitation_id=INT,
    representative_id=INT,
    mode=NULL_MODE,
    comment=NULL_STR,
    answered_at=NULL_DATETIME,
    answers=ANSWERS_MAP,
)
INVITATION = obj(id=INT, activity_id=INT, representative_id=INT)
INVITE_INPUT = _required(obj(representative_ids=IDS), "representative_ids")
FINALISE_INPUT = _required(
    obj(
        option_id=INT,
        representative_ids={
            **IDS,
            "description": "Who to book. Without it, everyone who answered yes or if need be "
            "to the time. Nobody who answered no to it is booked, even if listed",
        },
    ),
    "option_id",
)
OUTCOME = obj(
    representative_id=INT,
    full_name=STR,
    booking_id=NULL_INT,
    status={"enum": [*(s.value for s in BookingStatus), None]},
    mode=NULL_MODE,
    refused={"type": "array", "items": STR, "description": "Why they were not booked"},
    note={**NULL_STR, "description": "Anything to check with them, e.g. the way to join"},
)
NOT_CONTACTED = {
    "type": "array",
    "items": obj(representative_id=INT, name=STR, reason=STR),
    "description": "People this did not email, because they have not agreed to be contacted "
    "(or withdrew, or their consent is past its review date), or have no email: phone them",
}
INVITED = obj(
    items={"type": "array", "items": INVITATION}, warnings=WARNINGS, not_contacted=NOT_CONTACTED
)
MOVED = obj(**ACTIVITY["properties"], not_contacted=NOT_CONTACTED)
FINALISED = obj(
    activity=ACTIVITY,
    items={"type": "array", "items": OUTCOME},
    warnings=WARNINGS,
    not_contacted=NOT_CONTACTED,
)
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
BOOK_INPUT = _required(obj(representative_id=INT, mode=MODE), "representative_id", "mode")
MODE_INPUT = _required(obj(mode=MODE), "mode")
WELLBEING_INPUT = _required(
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

LIST_QUERY: list[dict[str, Any]] = [
    {"name": "status", "in": "query", "schema": {"enum": [s.value for s in ActivityStatus]}},
    {"name": "project", "in": "query", "schema": INT, "description": "A project's id"},
]


# ---------------------------------------------------------------------------- reading input


def _id_of(body: dict[str, Any], name: str, label: str) -> int:
    c = Checker(body)
    value = c.integer(name, label, minimum=1)
    c.done()
    assert value is not None
    return value


def _ids_of(body: dict[str, Any], name: str) -> list[int]:
    raw = body.get(name)
    values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    ids = [record_id(v) for v in values]
    if any(i is None for i in ids):
        raise ValidationFailed.one(name, "Select people from the list")
    return [i for i in ids if i is not None]


# ---------------------------------------------------------------------------- serialising


def _activity(activity: Activity) -> dict[str, Any]:
    ends_at = (
        activity.starts_at + dt.timedelta(minutes=activity.duration_minutes)
        if activity.starts_at
        else None
    )
    return {
        "id": activity.id,
        "title": activity.title,
        "description": activity.description,
        "project_id": activity.project_id,
        "team_id": activity.team_id,
        "kind": activity.kind.value,
        "category": activity.category.value if activity.category else None,
        "duration_minutes": activity.duration_minutes,
        "preparation_minutes": activity.preparation_minutes,
        "capacity": activity.capacity,
        "in_person": activity.in_person,
        "venue": activity.venue,
        "address": activity.address,
        "step_free": activity.step_free,
        "transport_offered": activity.transport_offered,
        "video": activity.video,
        "video_link": activity.video_link,
        "phone": activity.phone,
        "dial_in": activity.dial_in,
        "dial_in_pin": activity.dial_in_pin,
        "starts_at": iso(activity.starts_at),
        "status": activity.status.value,
        "ends_at": iso(ends_at),
        "poll_deadline": iso(activity.poll_deadline),
        "modes": sorted(activity.modes),
        "lead_id": activity.lead_id,
    }


def _option(option: TimeOption) -> dict[str, Any]:
    return {"id": option.id, "starts_at": iso(option.starts_at)}


def _tally(tally: Tally) -> dict[str, int]:
    return {
        "yes": tally.yes,
        "if_need_be": tally.if_need_be,
        "no": tally.no,
        "can_come": tally.can_come,
    }


def flag_reason() -> str:
    days = get_settings().recovery_window_days
    window = f"{days // 7} weeks" if days % 7 == 0 else f"{days} days"
    return f"Activity falls within {window} of an acute episode"


async def _not_contacted(reps: list[Representative]) -> list[dict[str, Any]]:
    return [
        {
            "representative_id": n.representative.id,
            "name": n.representative.full_name,
            "reason": n.reason,
        }
        for n in await contact.not_contacted(reps)
    ]


async def _booking_told(actor: Actor, booking: Booking) -> dict[str, Any]:
    """A booking after a change that would have emailed the person, saying if it did not."""
    rep = booking.representative
    return {**_booking(actor, booking, rep), "not_contacted": await _not_contacted([rep])}


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


async def _answered(invitation: Invitation) -> dict[str, Any]:
    answers = await OptionAnswer.filter(invitation=invitation).order_by("option_id")
    return {
        "invitation_id": invitation.id,
        "representative_id": invitation.representative_id,
        "mode": invitation.mode,
        "comment": invitation.comment,
        "answered_at": iso(invitation.answered_at),
        "answers": {str(a.option_id): a.answer for a in answers},
    }


# ---------------------------------------------------------------------------- activities


@api.operation(
    "GET",
    "/activities",
    summary="Your organisation's activities, those with a time first, by date",
    tag=ACTIVITIES,
    roles=LEADS,
    response=list_of(ACTIVITY),
    query=LIST_QUERY,
)
async def list_activities(request: Request, actor: Actor) -> dict[str, Any]:
    params = request.query_params
    c = Checker(params)
    status = (
        c.choice("status", "planning, scheduled or cancelled", [s.value for s in ActivityStatus])
        if params.get("status")
        else ""
    )
    project = c.integer("project", "the project", minimum=1) if params.get("project") else None
    c.done()
    query = Activity.filter(organisation_id=actor.organisation_id)
    if status:
        query = query.filter(status=status)
    if project is not None:
        query = query.filter(project_id=project)
    found = sorted(
        await query,
        key=lambda a: (a.starts_at is None, a.starts_at.timestamp() if a.starts_at else 0, a.id),
    )
    return {"items": [_activity(a) for a in found]}


@api.operation(
    "POST",
    "/activities",
    summary="Create an activity: with starts_at it has a fixed time; without, offer time options",
    tag=ACTIVITIES,
    roles=LEADS,
    request=CREATE_ACTIVITY,
    response=ACTIVITY,
    status=201,
)
async def create_activity(request: Request, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    return _activity(await activities.create_activity(actor, body))


@api.operation(
    "GET",
    "/activities/{id:int}",
    summary="One activity",
    tag=ACTIVITIES,
    roles=LEADS,
    response=ACTIVITY,
)
async def get_activity(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    return _activity(await activities.activity_for(actor, id))


@api.operation(
    "PATCH",
    "/activities/{id:int}",
    summary="Change some details; a new starts_at moves a scheduled activity and everyone "
    "booked gets the change. If the new time would leave anyone booked without a contract, on "
    "a break or double booked, the reply is 409 listing them in `conflicts` until `decisions` "
    "says, for each, to cancel or keep their booking",
    tag=ACTIVITIES,
    roles=LEADS,
    request=UPDATE_ACTIVITY,
    response=MOVED,
)
async def update_activity(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any] | Response:
    activity = await activities.activity_for(actor, id)
    details = {k: v for k, v in body.items() if k not in ("starts_at", "decisions")}
    raw_start = body.get("starts_at")
    moving = bool(raw_start) and (
        activity.starts_at is None or activities.parse_local(str(raw_start)) != activity.starts_at
    )
    # One transaction: a refused move leaves the details unchanged too.
    try:
        async with in_transaction():
            if details or not moving:
                await activities.update_activity(actor, activity, details)
            if moving:
                await bookings.reschedule(
                    actor, activity, {"starts_at": raw_start, "decisions": body.get("decisions")}
                )
    except bookings.DecisionsNeeded as exc:
        return decisions_needed(exc)
    booked = await Booking.filter(activity=activity, status__in=HOLDING).prefetch_related(
        "representative"
    )
    told = await _not_contacted([b.representative for b in booked]) if moving else []
    return {**_activity(activity), "not_contacted": told}


# ---------------------------------------------------------------------------- finding a time


@api.operation(
    "GET",
    "/activities/{id:int}/options",
    summary="The times offered for an activity, earliest first",
    tag=ACTIVITIES,
    roles=LEADS,
    response=list_of(OPTION),
)
async def list_options(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    return {"items": [_option(o) for o in await TimeOption.filter(activity=activity)]}


@api.operation(
    "POST",
    "/activities/{id:int}/options",
    summary="Offer times to choose from (at least two in all, each in the future); "
    "replies with the options added",
    tag=ACTIVITIES,
    roles=LEADS,
    request=OPTIONS_INPUT,
    response=list_of(OPTION),
    status=201,
)
async def add_options(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    if not isinstance(body.get("options"), list):
        raise ValidationFailed.one("options", "Offer at least two times, so people can choose")
    created = await activities.add_options(actor, activity, {"options": body["options"]})
    return {"items": [_option(o) for o in created]}


@api.operation(
    "POST",
    "/activities/{id:int}/invitations",
    summary="Invite people to say when they can come; those with email get a link to answer",
    tag=ACTIVITIES,
    roles=LEADS,
    request=INVITE_INPUT,
    response=INVITED,
    status=201,
)
async def invite(request: Request, actor: Actor, id: int, body: dict[str, Any]) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    invited = await activities.invite(actor, activity, _ids_of(body, "representative_ids"))
    reps = [await i.invitation.representative for i in invited]
    return {
        "warnings": warnings_json(await claims.activity_warnings(activity, reps)),
        "items": [
            {
                "id": i.invitation.id,
                "activity_id": activity.id,
                "representative_id": i.invitation.representative_id,
            }
            for i in invited
        ],
        "not_contacted": await _not_contacted([i.invitation.representative for i in invited]),
    }


@api.operation(
    "GET",
    "/activities/{id:int}/answers",
    summary="Everyone invited against every option, with what stands in the way, and totals",
    tag=ACTIVITIES,
    roles=LEADS,
    response=GRID,
)
async def get_answers(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    options, rows, totals = await activities.grid(actor, activity)
    return {
        "options": [{**_option(o), "totals": _tally(totals.get(o.id, Tally()))} for o in options],
        "invitees": [
            {
                "invitation_id": row.invitation.id,
                "representative_id": row.representative.id,
                "full_name": row.representative.full_name,
                "mode": row.invitation.mode,
                "comment": row.invitation.comment,
                "answered_at": iso(row.invitation.answered_at),
                "answers": {
                    str(oid): cell.answer for oid, cell in row.cells.items() if cell.answer
                },
                "cells": [
                    {
                        "option_id": oid,
                        "answer": cell.answer,
                        "cannot_do": cell.cannot_do,
                        "on_break": cell.on_break,
                        "no_contract": cell.no_contract,
                        "wellbeing_flag": cell.wellbeing_flag,
                    }
                    for oid, cell in row.cells.items()
                ],
            }
            for row in rows
        ],
    }


@api.operation(
    "POST",
    "/activities/{id:int}/answers",
    summary="Record someone's answers for them, e.g. after a phone call",
    tag=ACTIVITIES,
    roles=LEADS,
    request=ANSWERS_INPUT,
    response=ANSWERED,
)
async def record_answers(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    rep_id = _id_of(body, "representative_id", "the person answering")
    invitation = await Invitation.get_or_none(activity=activity, representative_id=rep_id)
    if invitation is None:
        raise NotFound
    await activities.record_answers(actor, invitation, body)
    return await _answered(invitation)


@api.operation(
    "POST",
    "/activities/{id:int}/finalise",
    summary="Choose the time and book the people chosen, each by the way they asked to join; "
    "the reply says, for everyone invited, whether they were booked and if not why",
    tag=ACTIVITIES,
    roles=LEADS,
    request=FINALISE_INPUT,
    response=FINALISED,
)
async def finalise(request: Request, actor: Actor, id: int, body: dict[str, Any]) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    outcomes = await bookings.finalise(actor, activity, body)
    booked = [o.representative for o in outcomes if o.booking]
    return {
        "warnings": warnings_json(await claims.activity_warnings(activity, booked)),
        "activity": _activity(activity),
        "items": [
            {
                "representative_id": o.representative.id,
                "full_name": o.representative.full_name,
                "booking_id": o.booking.id if o.booking else None,
                "status": o.booking.status.value if o.booking else None,
                "mode": o.booking.mode if o.booking else None,
                "refused": [r.value for r in o.refused],
                "note": o.note,
            }
            for o in outcomes
        ],
        "not_contacted": await _not_contacted([o.representative for o in outcomes if o.booking]),
    }


# ---------------------------------------------------------------------------- bookings


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
    rep_id = _id_of(body, "representative_id", "the person to book")
    rep = await access.representative_for(actor, rep_id, include_archived=False)
    mode = str(body.get("mode") or "").strip()
    booking = await bookings.book(actor, activity, rep, mode)
    warnings = await claims.activity_warnings(activity, [rep])
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
    return Response(await bookings.feed(rep), media_type="text/calendar")


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
    token = await bookings.reset_calendar_token(actor, rep)
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
            for c in await bookings.call_list(actor)
        ]
    }
