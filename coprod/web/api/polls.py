"""API operations for finding a time: the times offered, invitations, answers, and choosing
the time, which books the people chosen.

Handlers only translate between JSON and the services: every rule lives in
coprod.services.activities and coprod.services.bookings. The grid shows leads only that a
wellbeing conversation would be needed, never why.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request

from coprod.domain.scheduling import Answer, Tally
from coprod.errors import NotFound
from coprod.models import BookingStatus, Invitation, Mode, OptionAnswer, TimeOption
from coprod.services import activities, courses, earnings, polls
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.api.activities import (
    ACTIVITIES,
    LEADS,
    ActivityReply,
    BookingWarning,
    EarningsWarning,
    NotContacted,
    activity_reply,
    booking_warnings_of,
    not_contacted_json,
    warnings_of,
)
from coprod.web.api.paging import keyset_page, list_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, Page, Paging, Reply, text

MAX_PEOPLE = 500  # an activity's capacity is at most 500


class OptionReply(Reply):
    id: int
    starts_at: DateTime


class Options(Reply):
    items: list[OptionReply]


class NewOptions(Body):
    options: list[DateTime] = Field(
        max_length=20,
        title="the times to offer",
        description="Without an offset, each is the time in England",
    )


def _option(option: TimeOption) -> OptionReply:
    return OptionReply(id=option.id, starts_at=option.starts_at)


@api.operation(
    "GET",
    "/activities/{id:int}/options",
    summary="The times offered for an activity, earliest first",
    tag=ACTIVITIES,
    roles=LEADS,
    query=Paging,
    reply=Page[OptionReply],
)
async def list_options(request: Request, actor: Actor, id: int, query: Paging) -> Page[OptionReply]:
    activity = await activities.activity_for(actor, id)
    options, cursor = await keyset_page(
        TimeOption.filter(activity=activity), query, ("starts_at", "id")
    )
    return Page(items=[_option(o) for o in options], next_cursor=cursor)


@api.operation(
    "POST",
    "/activities/{id:int}/options",
    summary="Offer times to choose from (at least two in all, each in the future); "
    "replies with the options added",
    tag=ACTIVITIES,
    roles=LEADS,
    body=NewOptions,
    reply=Options,
    status=201,
)
async def add_options(request: Request, actor: Actor, id: int, body: NewOptions) -> Options:
    activity = await activities.activity_for(actor, id)
    created = await activities.add_options(actor, activity, body.data())
    return Options(items=[_option(o) for o in created])


class Invite(Body):
    representative_ids: list[Id] = Field(max_length=MAX_PEOPLE, title="the people to invite")


class InvitationReply(Reply):
    id: int
    activity_id: int
    representative_id: int


class Invited(Reply):
    items: list[InvitationReply] = Field(description="Those newly invited")
    warnings: list[EarningsWarning]
    not_contacted: list[NotContacted]


@api.operation(
    "POST",
    "/activities/{id:int}/invitations",
    summary="Invite people to say when they can come; those with email get a link to answer",
    tag=ACTIVITIES,
    roles=LEADS,
    body=Invite,
    reply=Invited,
    status=201,
)
async def invite(request: Request, actor: Actor, id: int, body: Invite) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    invited = await polls.invite(actor, activity, body.representative_ids)
    reps = [await i.invitation.representative for i in invited]
    return {
        "warnings": warnings_of(await earnings.activity_warnings(activity, reps)),
        "items": [
            InvitationReply(
                id=i.invitation.id,
                activity_id=activity.id,
                representative_id=i.invitation.representative_id,
            )
            for i in invited
        ],
        "not_contacted": await not_contacted_json(reps),
    }


AnswerMap = dict[str, Answer]


class TallyReply(Reply):
    yes: int
    if_need_be: int
    no: int
    can_come: int


class GridOption(OptionReply):
    totals: TallyReply


class Cell(Reply):
    option_id: int
    answer: Answer | None
    cannot_do: bool = Field(description="Their standing 'can't do' times include this slot")
    on_break: bool
    no_contract: bool
    wellbeing_flag: bool = Field(description="A wellbeing conversation would be needed first")


class Invitee(Reply):
    invitation_id: int
    representative_id: int
    full_name: str
    mode: Mode | None
    comment: str | None
    answered_at: DateTime | None
    answers: AnswerMap = Field(description="Option id to answer")
    cells: list[Cell]


class Grid(Reply):
    options: list[GridOption]
    invitees: list[Invitee]


def _mode(value: str | None) -> Mode | None:
    return Mode(value) if value else None


def _answer(value: str | None) -> Answer | None:
    return Answer(value) if value else None


def _tally(tally: Tally) -> TallyReply:
    return TallyReply(
        yes=tally.yes, if_need_be=tally.if_need_be, no=tally.no, can_come=tally.can_come
    )


@api.operation(
    "GET",
    "/activities/{id:int}/answers",
    summary="Everyone invited against every option, with what stands in the way, and totals",
    description="Seeing that a wellbeing conversation would be needed is a view of health "
    "data, audited as it is on the activity's page.",
    tag=ACTIVITIES,
    roles=LEADS,
    reply=Grid,
)
async def get_answers(request: Request, actor: Actor, id: int) -> Grid:
    activity = await activities.activity_for(actor, id)
    options, rows, totals = await polls.grid(actor, activity)
    return Grid(
        options=[
            GridOption(id=o.id, starts_at=o.starts_at, totals=_tally(totals.get(o.id, Tally())))
            for o in options
        ],
        invitees=[
            Invitee(
                invitation_id=row.invitation.id,
                representative_id=row.representative.id,
                full_name=row.representative.full_name,
                mode=_mode(row.invitation.mode),
                comment=row.invitation.comment,
                answered_at=row.invitation.answered_at,
                answers={
                    str(oid): Answer(cell.answer) for oid, cell in row.cells.items() if cell.answer
                },
                cells=[
                    Cell(
                        option_id=oid,
                        answer=_answer(cell.answer),
                        cannot_do=cell.cannot_do,
                        on_break=cell.on_break,
                        no_contract=cell.no_contract,
                        wellbeing_flag=cell.wellbeing_flag,
                    )
                    for oid, cell in row.cells.items()
                ],
            )
            for row in rows
        ],
    )


class Answers(Body):
    representative_id: Id = Field(title="the person answering")
    answers: AnswerMap = Field(
        max_length=20, title="an answer for each time", description="Option id to answer"
    )
    mode: Mode | None = Field(
        None,
        title="how they would like to take part",
        description="Needed when they can come to any of the times",
    )
    comment: str | None = text(1000, required=False, default=None, title="a comment")


class Answered(Reply):
    invitation_id: int
    representative_id: int
    mode: Mode | None
    comment: str | None
    answered_at: DateTime | None
    answers: AnswerMap = Field(description="Option id to answer")


@api.operation(
    "POST",
    "/activities/{id:int}/answers",
    summary="Record someone's answers for them, e.g. after a phone call",
    tag=ACTIVITIES,
    roles=LEADS,
    body=Answers,
    reply=Answered,
)
async def record_answers(request: Request, actor: Actor, id: int, body: Answers) -> Answered:
    activity = await activities.activity_for(actor, id)
    invitation = await Invitation.get_or_none(
        activity=activity, representative_id=body.representative_id
    )
    if invitation is None:
        raise NotFound
    await polls.record_answers(actor, invitation, body.data())
    answers = await OptionAnswer.filter(invitation=invitation).order_by("option_id")
    return Answered(
        invitation_id=invitation.id,
        representative_id=invitation.representative_id,
        mode=_mode(invitation.mode),
        comment=invitation.comment,
        answered_at=invitation.answered_at,
        answers={str(a.option_id): Answer(a.answer) for a in answers},
    )


class ChoiceReply(Reply):
    invitation_id: int
    representative_id: int
    full_name: str
    answer: Answer | None = Field(description="Their answer for this time, if they gave one")
    bookable: bool = Field(description="False when they answered no: nothing books them")
    ticked: bool = Field(description="Booked by finalising unless `representative_ids` is sent")


@api.operation(
    "GET",
    "/activities/{id:int}/options/{option_id:int}/choices",
    summary="Before finalising on a time: everyone invited, with their answer for it, by name",
    tag=ACTIVITIES,
    roles=LEADS,
    query=Paging,
    reply=Page[ChoiceReply],
)
async def list_choices(
    request: Request, actor: Actor, id: int, option_id: int, query: Paging
) -> Page[ChoiceReply]:
    activity = await activities.activity_for(actor, id)
    try:
        _, everyone = await polls.choices(actor, activity, str(option_id))
    except ValidationFailed:
        raise NotFound from None  # the option is part of the path: not one of this activity's
    page, cursor = list_page(everyone, query)
    return Page(
        items=[
            ChoiceReply(
                invitation_id=c.invitation.id,
                representative_id=c.representative.id,
                full_name=c.representative.full_name,
                answer=_answer(c.answer),
                bookable=c.bookable,
                ticked=c.ticked,
            )
            for c in page
        ],
        next_cursor=cursor,
    )


class Finalise(Body):
    option_id: Id = Field(title="the time you have chosen")
    representative_ids: list[Id] | None = Field(
        None,
        max_length=MAX_PEOPLE,
        title="who will take part",
        description="Who to book. Without it, everyone who answered yes or if need be to the "
        "time. Nobody who answered no to it is booked, even if listed",
    )


class Outcome(Reply):
    representative_id: int
    full_name: str
    booking_id: int | None
    status: BookingStatus | None
    mode: Mode | None
    refused: list[str] = Field(description="Why they were not booked")
    note: str | None = Field(description="Anything to check with them, e.g. the way to join")


class Finalised(Reply):
    activity: ActivityReply
    items: list[Outcome] = Field(description="Everyone invited: booked, or not and why")
    warnings: list[BookingWarning] = Field(
        description="For those booked: earnings limits and training, as on the pages"
    )
    not_contacted: list[NotContacted]


@api.operation(
    "POST",
    "/activities/{id:int}/finalise",
    summary="Choose the time and book the people chosen, each by the way they asked to join; "
    "the reply says, for everyone invited, whether they were booked and if not why",
    tag=ACTIVITIES,
    roles=LEADS,
    body=Finalise,
    reply=Finalised,
)
async def finalise(request: Request, actor: Actor, id: int, body: Finalise) -> dict[str, Any]:
    activity = await activities.activity_for(actor, id)
    outcomes = await polls.finalise(actor, activity, body.data())
    booked = [o.representative for o in outcomes if o.booking]
    return {
        "warnings": booking_warnings_of(
            await earnings.activity_warnings(activity, booked),
            await courses.booking_warnings(activity, booked),
        ),
        "activity": activity_reply(activity),
        "items": [
            Outcome(
                representative_id=o.representative.id,
                full_name=o.representative.full_name,
                booking_id=o.booking.id if o.booking else None,
                status=o.booking.status if o.booking else None,
                mode=_mode(o.booking.mode) if o.booking else None,
                refused=[r.value for r in o.refused],
                note=o.note,
            )
            for o in outcomes
        ],
        "not_contacted": await not_contacted_json(booked),
    }
