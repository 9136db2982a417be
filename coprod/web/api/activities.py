"""API operations for activities and finding a time; schemas shared with api/bookings.py.

Handlers only translate between JSON and the services: every rule lives in
coprod.services.activities, .polls and .bookings. Health data never appears in these
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
)
from coprod.services import (
    activities,
    bookings,
    contact,
    decisions,
    earnings,
    polls,
)
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


def required(schema: dict[str, Any], *names: str) -> dict[str, Any]:
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
CREATE_ACTIVITY = required(ACTIVITY_INPUT, "title", "kind", "duration_minutes", "capacity")
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
OPTIONS_INPUT = required(
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
ANSWERS_INPUT = required(
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
INVITE_INPUT = required(obj(representative_ids=IDS), "representative_ids")
FINALISE_INPUT = required(
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

LIST_QUERY: list[dict[str, Any]] = [
    {"name": "status", "in": "query", "schema": {"enum": [s.value for s in ActivityStatus]}},
    {"name": "project", "in": "query", "schema": INT, "description": "A project's id"},
]


# ---------------------------------------------------------------------------- reading input


def id_of(body: dict[str, Any], name: str, label: str) -> int:
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


async def not_contacted_json(reps: list[Representative]) -> list[dict[str, Any]]:
    return [
        {
            "representative_id": n.representative.id,
            "name": n.representative.full_name,
            "reason": n.reason,
        }
        for n in await contact.not_contacted(reps)
    ]


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
    except decisions.DecisionsNeeded as exc:
        return decisions_needed(exc)
    booked = await Booking.filter(activity=activity, status__in=HOLDING).prefetch_related(
        "representative"
    )
    told = await not_contacted_json([b.representative for b in booked]) if moving else []
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
    invited = await polls.invite(actor, activity, _ids_of(body, "representative_ids"))
    reps = [await i.invitation.representative for i in invited]
    return {
        "warnings": warnings_json(await earnings.activity_warnings(activity, reps)),
        "items": [
            {
                "id": i.invitation.id,
                "activity_id": activity.id,
                "representative_id": i.invitation.representative_id,
            }
            for i in invited
        ],
        "not_contacted": await not_contacted_json([i.invitation.representative for i in invited]),
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
    options, rows, totals = await polls.grid(actor, activity)
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
    rep_id = id_of(body, "representative_id", "the person answering")
    invitation = await Invitation.get_or_none(activity=activity, representative_id=rep_id)
    if invitation is None:
        raise NotFound
    await polls.record_answers(actor, invitation, body)
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
        "warnings": warnings_json(await earnings.activity_warnings(activity, booked)),
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
        "not_contacted": await not_contacted_json(
            [o.representative for o in outcomes if o.booking]
        ),
    }
