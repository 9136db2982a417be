"""API operations for opportunities: writing, changing, publishing and withdrawing them, for an
organisation's involvement leads and administrators. The public reads them on the /join pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from starlette.requests import Request

from coprod.domain import opportunities as rules
from coprod.models import Kind, Mode, Role
from coprod.models.recruitment import Opportunity
from coprod.services import opportunities
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Count, DateTime, NoBody, Page, Paging, Reply, text

OPPORTUNITIES = "opportunities"
MANAGERS = (Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN)

StageName = Literal["draft", "open", "closed", "withdrawn"]


class NewOpportunity(Body):
    title: str = text(rules.MAX_TITLE, title="the role")
    activity_kind: Kind | None = Field(
        None, title="the kind of activity", description="So that the courses it needs are known"
    )
    involves: str = text(rules.MAX_TEXT, title="what the role involves")
    easy_read: str | None = text(
        rules.MAX_TEXT,
        required=False,
        default=None,
        title="the easy-read version",
        description="What it involves in easy read, for the easy-read print",
    )
    time_commitment: str = text(rules.MAX_SHORT, title="how much time it takes")
    pay: str = text(
        rules.MAX_SHORT,
        title="what it pays",
        description="The form starts with the organisation's standard fee wording",
    )
    modes: list[Mode] | None = Field(
        None, title="the ways to take part", max_length=3, description="Required: at least one"
    )
    accessibility: str = text(
        rules.MAX_TEXT, title="the support you offer so that everyone can take part"
    )
    closes_on: dt.date | None = Field(
        None, title="the closing date", description="Leave out to stay open until withdrawn"
    )


class OpportunityChange(Body):
    """Fields left out stay as they are; null clears an optional one."""

    title: str | None = text(rules.MAX_TITLE, required=False, default=None, title="the role")
    activity_kind: Kind | None = Field(None, title="the kind of activity")
    involves: str | None = text(
        rules.MAX_TEXT, required=False, default=None, title="what the role involves"
    )
    easy_read: str | None = text(
        rules.MAX_TEXT, required=False, default=None, title="the easy-read version"
    )
    time_commitment: str | None = text(
        rules.MAX_SHORT, required=False, default=None, title="how much time it takes"
    )
    pay: str | None = text(rules.MAX_SHORT, required=False, default=None, title="what it pays")
    modes: list[Mode] | None = Field(None, title="the ways to take part", max_length=3)
    accessibility: str | None = text(
        rules.MAX_TEXT,
        required=False,
        default=None,
        title="the support you offer so that everyone can take part",
    )
    closes_on: dt.date | None = Field(None, title="the closing date")


class OpportunityReply(Reply):
    id: int
    title: str
    activity_kind: Kind | None
    involves: str
    easy_read: str | None
    time_commitment: str
    pay: str
    modes: list[Mode]
    accessibility: str
    closes_on: dt.date | None
    stage: StageName = Field(
        description="draft; open (on the public pages); closed (past its closing date); withdrawn"
    )
    published_at: DateTime | None
    withdrawn_at: DateTime | None
    url: str = Field(description="The public page (shown while it is open)")
    interest_count: Count = Field(description="How many people said they were interested in it")
    created_at: DateTime


def _reply(o: Opportunity, interest: dict[int, int]) -> OpportunityReply:
    return OpportunityReply(
        id=o.id,
        title=o.title,
        activity_kind=Kind(o.activity_kind) if o.activity_kind else None,
        involves=o.involves,
        easy_read=o.easy_read,
        time_commitment=o.time_commitment,
        pay=o.pay,
        modes=[Mode(m) for m in o.modes],
        accessibility=o.accessibility,
        closes_on=o.closes_on,
        stage=opportunities.stage_of(o).value,
        published_at=o.published_at,
        withdrawn_at=o.withdrawn_at,
        url=opportunities.public_url(o.organisation, o),
        interest_count=interest.get(o.id, 0),
        created_at=o.created_at,
    )


async def _one(actor: Actor, opportunity_id: int) -> OpportunityReply:
    found = await opportunities.opportunity_for(actor, opportunity_id)
    return _reply(found, await opportunities.interest_counts([found.id]))


@api.operation(
    "GET",
    "/opportunities",
    summary="Your organisation's opportunities in every stage, oldest first",
    tag=OPPORTUNITIES,
    roles=MANAGERS,
    query=Paging,
    reply=Page[OpportunityReply],
)
async def list_opportunities(
    request: Request, actor: Actor, query: Paging
) -> Page[OpportunityReply]:
    found, cursor = await keyset_page(
        opportunities.of_organisation(actor).prefetch_related("organisation"), query, ("id",)
    )
    interest = await opportunities.interest_counts([o.id for o in found])
    return Page(items=[_reply(o, interest) for o in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/opportunities",
    summary="Write a draft opportunity (the public sees it once it is published)",
    tag=OPPORTUNITIES,
    roles=MANAGERS,
    body=NewOpportunity,
    reply=OpportunityReply,
    status=201,
)
async def create_opportunity(
    request: Request, actor: Actor, body: NewOpportunity
) -> OpportunityReply:
    made = await opportunities.create(actor, body.data())
    return await _one(actor, made.id)


@api.operation(
    "GET",
    "/opportunities/{id:int}",
    summary="One opportunity, with how many people said they were interested",
    tag=OPPORTUNITIES,
    roles=MANAGERS,
    reply=OpportunityReply,
)
async def get_opportunity(request: Request, actor: Actor, id: int) -> OpportunityReply:
    return await _one(actor, id)


@api.operation(
    "PATCH",
    "/opportunities/{id:int}",
    summary="Change an opportunity (a published one changes on the public pages too)",
    tag=OPPORTUNITIES,
    roles=MANAGERS,
    body=OpportunityChange,
    reply=OpportunityReply,
)
async def update_opportunity(
    request: Request, actor: Actor, id: int, body: OpportunityChange
) -> OpportunityReply:
    found = await opportunities.opportunity_for(actor, id)
    await opportunities.update(actor, found, body.data())
    return await _one(actor, id)


@api.operation(
    "POST",
    "/opportunities/{id:int}/publish",
    summary="Publish it on the organisation's and its networks' public pages (again, if it "
    "was withdrawn); its closing date must not have passed",
    tag=OPPORTUNITIES,
    roles=MANAGERS,
    body=NoBody,
    reply=OpportunityReply,
)
async def publish_opportunity(
    request: Request, actor: Actor, id: int, body: NoBody
) -> OpportunityReply:
    await opportunities.publish(actor, await opportunities.opportunity_for(actor, id))
    return await _one(actor, id)


@api.operation(
    "POST",
    "/opportunities/{id:int}/withdraw",
    summary="Take it off the public pages",
    tag=OPPORTUNITIES,
    roles=MANAGERS,
    body=NoBody,
    reply=OpportunityReply,
)
async def withdraw_opportunity(
    request: Request, actor: Actor, id: int, body: NoBody
) -> OpportunityReply:
    await opportunities.withdraw(actor, await opportunities.opportunity_for(actor, id))
    return await _one(actor, id)
