"""API operations for outreach: the visits and posts that told people about involvement, with
the number of people who said they heard through each.

Involvement leads only; the service decides (`services/outreach.py`), as it does for the
pages, so both refuse the same things with the same messages.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from starlette.requests import Request

from coprod.models import Outreach, OutreachKind, Role
from coprod.services import outreach
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Count, DateTime, Id, Page, Paging, Reply, text

TAG = "outreach"
LEADS = (Role.INVOLVEMENT_LEAD,)


class OutreachFields(Body):
    kind: OutreachKind = Field(title="the kind of outreach")
    held_on: dt.date = Field(title="the date", description="Today or in the past")
    place: str = text(outreach.PLACE_MAX, title="where it was")
    people_reached: int = Field(title="the number of people reached", ge=0, le=outreach.PEOPLE_MAX)
    team_id: Id | None = Field(None, title="the team", description="One of your organisation's")
    note: str | None = text(outreach.NOTE_MAX, required=False, default=None, title="a note")


class OutreachChange(Body):
    """Only the fields sent change; send team_id or note as null to clear them."""

    kind: OutreachKind | None = Field(None, title="the kind of outreach")
    held_on: dt.date | None = Field(None, title="the date", description="Today or in the past")
    place: str | None = text(outreach.PLACE_MAX, required=False, default=None, title="where it was")
    people_reached: int | None = Field(
        None, title="the number of people reached", ge=0, le=outreach.PEOPLE_MAX
    )
    team_id: Id | None = Field(None, title="the team")
    note: str | None = text(outreach.NOTE_MAX, required=False, default=None, title="a note")


class OutreachReply(Reply):
    id: int
    kind: OutreachKind
    held_on: dt.date
    place: str
    people_reached: int
    team_id: int | None
    note: str | None
    interests: Count = Field(description="People who said they heard about us through this")
    created_at: DateTime


class OutreachQuery(Paging):
    kind: OutreachKind | None = Field(None, description="Only outreach of this kind")
    start: dt.date | None = Field(None, description="Only outreach held on or after this day")
    end: dt.date | None = Field(None, description="Only outreach held on or before this day")


def _reply(found: Outreach, interests: int) -> OutreachReply:
    return OutreachReply(
        id=found.id,
        kind=found.kind,
        held_on=found.held_on,
        place=found.place,
        people_reached=found.people_reached,
        team_id=found.team_id,
        note=found.note,
        interests=interests,
        created_at=found.created_at,
    )


async def _one(found: Outreach) -> OutreachReply:
    return _reply(found, (await outreach.interests_linked([found]))[found.id])


@api.operation(
    "GET",
    "/outreach",
    summary="Your organisation's outreach, newest first, with the interest each brought in",
    tag=TAG,
    roles=LEADS,
    query=OutreachQuery,
    reply=Page[OutreachReply],
)
async def list_outreach(
    request: Request, actor: Actor, query: OutreachQuery
) -> Page[OutreachReply]:
    chosen = outreach.filters(query.model_dump(mode="json", exclude_none=True))
    found, cursor = await keyset_page(outreach.listing(actor, chosen), query, ("-held_on", "-id"))
    linked = await outreach.interests_linked(found)
    return Page(items=[_reply(o, linked[o.id]) for o in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/outreach",
    summary="Log outreach: the kind, the date, the place and the people reached",
    tag=TAG,
    roles=LEADS,
    body=OutreachFields,
    reply=OutreachReply,
    status=201,
)
async def create_outreach(request: Request, actor: Actor, body: OutreachFields) -> OutreachReply:
    return await _one(await outreach.create(actor, body.data()))


@api.operation(
    "GET",
    "/outreach/{id:int}",
    summary="One piece of outreach, with the interest it brought in",
    tag=TAG,
    roles=LEADS,
    reply=OutreachReply,
)
async def get_outreach(request: Request, actor: Actor, id: int) -> OutreachReply:
    return await _one(await outreach.outreach_for(actor, id))


@api.operation(
    "PATCH",
    "/outreach/{id:int}",
    summary="Correct a piece of outreach",
    tag=TAG,
    roles=LEADS,
    body=OutreachChange,
    reply=OutreachReply,
)
async def change_outreach(
    request: Request, actor: Actor, id: int, body: OutreachChange
) -> OutreachReply:
    found = await outreach.outreach_for(actor, id)
    return await _one(await outreach.update(actor, found, body.data()))


class Removed(Reply):
    id: int


@api.operation(
    "DELETE",
    "/outreach/{id:int}",
    summary="Remove outreach logged by mistake (interest that named it keeps, without the link)",
    tag=TAG,
    roles=LEADS,
    reply=Removed,
)
async def delete_outreach(request: Request, actor: Actor, id: int) -> Removed:
    await outreach.delete(actor, await outreach.outreach_for(actor, id))
    return Removed(id=id)
