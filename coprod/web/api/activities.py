"""API operations for activities, and the replies the finding-a-time and booking operations
share (api/polls.py, api/bookings.py).

Handlers only translate between JSON and the services: every rule lives in
coprod.services.activities and coprod.services.bookings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from tortoise.transactions import in_transaction

from coprod.config import get_settings
from coprod.models import (
    HOLDING,
    Activity,
    ActivityStatus,
    Booking,
    Category,
    Contract,
    Kind,
    Mode,
    Representative,
    Role,
)
from coprod.services import activities, bookings, contact, decisions, earnings
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.api.core import DECISIONS_FIELD, Decision, decisions_needed
from coprod.web.api.paging import keyset_page, list_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, Page, Paging, Reply, text

ACTIVITIES = "activities"
BOOKINGS = "bookings"
LEADS = (Role.INVOLVEMENT_LEAD,)


# ---------------------------------------------------------------------------- shared replies


class NotContacted(Reply):
    representative_id: int
    name: str
    reason: str = Field(
        description="Why this did not write to them: they have not agreed to be contacted (or "
        "withdrew, or their consent is past its review date), asked to be phoned, or have no "
        "address for the ways they chose. Phone them"
    )


class EarningsWarning(Reply):
    representative_id: int
    message: str = Field(
        description="The same warning the pages show: this may affect their benefits. "
        "It never stops anything"
    )


def warnings_of(found: dict[int, str]) -> list[EarningsWarning]:
    return [EarningsWarning(representative_id=k, message=v) for k, v in sorted(found.items())]


class BookingWarning(Reply):
    representative_id: int
    about: Literal["earnings", "training"] = Field(
        description="earnings: this may affect their benefits. training: they have not done a "
        "course this kind of activity asks for, or the course is not yet available in the "
        "format they need (they are booked in it anyway, and making the materials is on the "
        "access arrangements)"
    )
    message: str = Field(description="The same warning the pages show. It never stops anything")


def booking_warnings_of(
    earnings: dict[int, str], training: dict[int, list[str]]
) -> list[BookingWarning]:
    return [
        *(
            BookingWarning(representative_id=k, about="earnings", message=v)
            for k, v in sorted(earnings.items())
        ),
        *(
            BookingWarning(representative_id=k, about="training", message=m)
            for k, messages in sorted(training.items())
            for m in messages
        ),
    ]


async def not_contacted_json(reps: list[Representative]) -> list[dict[str, Any]]:
    return [
        {
            "representative_id": n.representative.id,
            "name": n.representative.full_name,
            "reason": n.reason,
        }
        for n in await contact.not_contacted(reps)
    ]


def flag_reason() -> str:
    days = get_settings().recovery_window_days
    window = f"{days // 7} weeks" if days % 7 == 0 else f"{days} days"
    return f"Activity falls within {window} of an acute episode"


# ---------------------------------------------------------------------------- activities


class ActivityFields(Body):
    """An activity's details, every one optional: what a change sends."""

    title: str | None = text(200, default=None, title="a title")
    description: str | None = text(4000, required=False, default=None, title="a description")
    project_id: Id | None = Field(None, title="the project")
    team_id: Id | None = Field(None, title="the team")
    kind: Kind | None = Field(None, title="what kind of activity it is")
    category: Category | None = Field(
        None,
        title="which co-production activity this is",
        description="Required except for catch_up and training_received",
    )
    duration_minutes: int | None = Field(None, ge=15, le=720, title="how long it lasts, in minutes")
    preparation_minutes: int | None = Field(
        None, ge=0, le=480, title="preparation time, in minutes"
    )
    capacity: int | None = Field(None, ge=1, le=500, title="the number of places")
    course_id: Id | None = Field(
        None,
        title="the course",
        description="For training_received: the course this is a session of. Booking someone "
        "on chooses the format they take it in from their access needs",
    )
    audience: str | None = text(
        200,
        required=False,
        default=None,
        title="who the training is for",
        description="For training_delivery: the staff it was delivered to, e.g. 'Ward nurses'",
    )
    in_person: bool | None = None
    venue: str | None = text(200, required=False, default=None, title="the venue")
    address: str | None = text(1000, required=False, default=None, title="the address")
    step_free: bool | None = None
    transport_offered: bool | None = None
    video: bool | None = None
    video_link: str | None = text(
        500, required=False, default=None, title="the video link", description="https:// only"
    )
    phone: bool | None = None
    dial_in: str | None = text(40, required=False, default=None, title="the dial-in number")
    dial_in_pin: str | None = text(20, required=False, default=None, title="the PIN")
    starts_at: DateTime | None = Field(
        None,
        title="the date and time it starts",
        description="A fixed time (no time options needed); moving a scheduled activity "
        "sends everyone booked the change. Without an offset it is the time in England",
    )


class NewActivity(ActivityFields):
    title: str = text(200, title="a title")
    kind: Kind = Field(title="what kind of activity it is")
    duration_minutes: int = Field(ge=15, le=720, title="how long it lasts, in minutes")
    capacity: int = Field(ge=1, le=500, title="the number of places")
    options: list[DateTime] | None = Field(
        None,
        max_length=20,
        title="the times to offer",
        description="Instead of `starts_at`: at least two times to offer people, each in the "
        "future, saved with the activity or not at all. Leave both out to add times later",
    )


class ActivityChanges(ActivityFields):
    decisions: list[Decision] | None = DECISIONS_FIELD


class ActivityReply(Reply):
    id: int
    title: str
    description: str | None
    project_id: int | None
    team_id: int | None
    kind: Kind
    category: Category | None
    duration_minutes: int
    preparation_minutes: int
    capacity: int
    course_id: int | None
    audience: str | None
    in_person: bool
    venue: str | None
    address: str | None
    step_free: bool
    transport_offered: bool
    video: bool
    video_link: str | None
    phone: bool
    dial_in: str | None
    dial_in_pin: str | None
    starts_at: DateTime | None
    status: ActivityStatus
    ends_at: DateTime | None
    poll_deadline: DateTime | None
    modes: list[Mode]
    lead_id: int | None


class MovedActivity(ActivityReply):
    not_contacted: list[NotContacted] = Field(
        description="People booked whom the change was not sent to: phone them"
    )


class ActivityFilter(Paging):
    status: ActivityStatus | None = Field(None, title="planning, scheduled or cancelled")
    project: Id | None = Field(None, title="the project", description="A project's id")


def activity_reply(activity: Activity) -> ActivityReply:
    ends_at = (
        activity.starts_at + dt.timedelta(minutes=activity.duration_minutes)
        if activity.starts_at
        else None
    )
    return ActivityReply(
        id=activity.id,
        title=activity.title,
        description=activity.description,
        project_id=activity.project_id,
        team_id=activity.team_id,
        kind=activity.kind,
        category=activity.category,
        duration_minutes=activity.duration_minutes,
        preparation_minutes=activity.preparation_minutes,
        capacity=activity.capacity,
        course_id=activity.course_id,
        audience=activity.audience,
        in_person=activity.in_person,
        venue=activity.venue,
        address=activity.address,
        step_free=activity.step_free,
        transport_offered=activity.transport_offered,
        video=activity.video,
        video_link=activity.video_link,
        phone=activity.phone,
        dial_in=activity.dial_in,
        dial_in_pin=activity.dial_in_pin,
        starts_at=activity.starts_at,
        status=activity.status,
        ends_at=ends_at,
        poll_deadline=activity.poll_deadline,
        modes=sorted(Mode(m) for m in activity.modes),
        lead_id=activity.lead_id,
    )


@api.operation(
    "GET",
    "/activities",
    summary="Your organisation's activities, those with a time first, by date",
    tag=ACTIVITIES,
    roles=LEADS,
    query=ActivityFilter,
    reply=Page[ActivityReply],
)
async def list_activities(
    request: Request, actor: Actor, query: ActivityFilter
) -> Page[ActivityReply]:
    found = Activity.filter(organisation_id=actor.organisation_id)
    if query.status is not None:
        found = found.filter(status=query.status)
    if query.project is not None:
        found = found.filter(project_id=query.project)
    # Activities still finding a time have no start, and keyset paging cannot sort on a column
    # that may be null, so the order is worked out from ids and starts alone.
    order = sorted(
        await found.values_list("id", "starts_at"),
        key=lambda row: (row[1] is None, row[1].timestamp() if row[1] else 0, row[0]),
    )
    ids, cursor = list_page([row[0] for row in order], query)
    by_id = {a.id: a for a in await Activity.filter(id__in=ids)}
    return Page(items=[activity_reply(by_id[i]) for i in ids], next_cursor=cursor)


class PeopleFilter(Paging):
    find: str | None = Field(None, max_length=100, title="part of a name")


class PersonToAdd(Reply):
    id: int
    full_name: str
    has_contract: bool = Field(description="Has a contract (a booking also needs one in force)")
    earnings_warning: str | None = Field(
        description="Taking part may take them over their earnings limit for benefits: talk "
        "with them first. It does not stop an invitation or a booking."
    )


@api.operation(
    "GET",
    "/activities/{id:int}/people-to-add",
    summary="Who may still be invited (while finding a time) or booked (once scheduled), by name",
    tag=ACTIVITIES,
    roles=LEADS,
    query=PeopleFilter,
    reply=Page[PersonToAdd],
)
async def people_to_add(
    request: Request, actor: Actor, id: int, query: PeopleFilter
) -> Page[PersonToAdd]:
    activity = await activities.activity_for(actor, id)
    found, cursor = await keyset_page(
        activities.people_to_add(actor, activity, query.find or ""), query, ("full_name", "id")
    )
    contracted = set(
        await Contract.filter(representative_id__in=[r.id for r in found]).values_list(
            "representative_id", flat=True
        )
    )
    warnings = await earnings.activity_warnings(activity, found)
    return Page(
        items=[
            PersonToAdd(
                id=r.id,
                full_name=r.full_name,
                has_contract=r.id in contracted,
                earnings_warning=warnings.get(r.id),
            )
            for r in found
        ],
        next_cursor=cursor,
    )


@api.operation(
    "POST",
    "/activities",
    summary="Plan an activity: with `starts_at` it has a fixed time; with `options` people are "
    "asked which time suits them; with neither, offer times later",
    tag=ACTIVITIES,
    roles=LEADS,
    body=NewActivity,
    reply=ActivityReply,
    status=201,
)
async def create_activity(request: Request, actor: Actor, body: NewActivity) -> ActivityReply:
    if body.options is not None and body.starts_at is not None:
        raise ValidationFailed.one(
            "options", "Either give the time it starts or offer times to choose from, not both"
        )
    # The same use case as the page's form: "fixed" without a start leaves it planning.
    timing = "fixed" if body.options is None else "poll"
    return activity_reply(await activities.plan(actor, {**body.data(), "timing": timing}))


@api.operation(
    "GET",
    "/activities/{id:int}",
    summary="One activity",
    tag=ACTIVITIES,
    roles=LEADS,
    reply=ActivityReply,
)
async def get_activity(request: Request, actor: Actor, id: int) -> ActivityReply:
    return activity_reply(await activities.activity_for(actor, id))


@api.operation(
    "PATCH",
    "/activities/{id:int}",
    summary="Change some details; a new starts_at moves a scheduled activity and everyone "
    "booked gets the change",
    description="If the new time would leave anyone booked without a contract, on a break or "
    "double booked, the reply is 409 listing them in `conflicts` until `decisions` says, for "
    "each, to cancel or keep their booking.",
    tag=ACTIVITIES,
    roles=LEADS,
    body=ActivityChanges,
    reply=MovedActivity,
)
async def update_activity(
    request: Request, actor: Actor, id: int, body: ActivityChanges
) -> MovedActivity | Response:
    activity = await activities.activity_for(actor, id)
    data = body.data()
    details = {k: v for k, v in data.items() if k not in ("starts_at", "decisions")}
    raw_start = data.get("starts_at")
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
                    actor, activity, {"starts_at": raw_start, "decisions": data.get("decisions")}
                )
    except decisions.DecisionsNeeded as exc:
        return decisions_needed(exc)
    booked = await Booking.filter(activity=activity, status__in=HOLDING).prefetch_related(
        "representative"
    )
    told = await not_contacted_json([b.representative for b in booked]) if moving else []
    return MovedActivity(
        **activity_reply(activity).model_dump(),
        not_contacted=[NotContacted(**n) for n in told],
    )
