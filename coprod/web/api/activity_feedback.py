"""API operations for representatives' feedback on activities they attended.

A representative gives their own, once per attended booking; a lead may record it for them
(after a phone call, say), which is marked and audited on their behalf. Leads read it, by
activity or by when it was given, and mark answers to follow up as followed up.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from starlette.requests import Request

from coprod.domain import activity_feedback as rules
from coprod.models import ActivityFeedback, Role
from coprod.services import activity_feedback
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, NoBody, Page, Paging, Reply, text

TAG = "activity feedback"
LEADS = (Role.INVOLVEMENT_LEAD,)
LEADS_AND_REPRESENTATIVES = (Role.INVOLVEMENT_LEAD, Role.REPRESENTATIVE)
Answer = Literal["yes", "partly", "no"]


class NewFeedback(Body):
    booking_id: Id = Field(title="the booking", description="An attended booking")
    rating: int = Field(ge=1, le=5, title="how it went", description="1 (badly) to 5 (very well)")
    listened_to: Answer = Field(
        title="whether you felt listened to", description="The project's respect agreement"
    )
    access_met: Literal["yes", "partly", "no", "not_needed"] = Field(
        title="whether your access needs were met",
        description="`not_needed` when they did not need anything",
    )
    comments: str | None = text(
        5000, required=False, default=None, title="anything else", description="Their own words"
    )


class FeedbackReply(Reply):
    id: int
    booking_id: int
    activity_id: int
    activity_title: str
    representative_id: int
    representative_name: str
    rating: int = Field(description="1 (badly) to 5 (very well)")
    rating_label: str
    listened_to: Answer
    access_met: Literal["yes", "partly", "no"] | None = Field(
        description="Null when they did not need anything"
    )
    comments: str | None
    entered_by: str | None = Field(
        description="The lead who recorded it for them; null when they gave it themselves"
    )
    follow_up: list[str] = Field(
        description="Why a lead should get in touch: not listened to, access needs not met"
    )
    followed_up_at: DateTime | None
    submitted_at: DateTime


def _reply(f: ActivityFeedback) -> FeedbackReply:
    """`f` with its representative, activity and entered_by fetched."""
    listened = f.listened_to.value
    access = f.access_met.value if f.access_met else None
    return FeedbackReply(
        id=f.id,
        booking_id=f.booking_id,
        activity_id=f.activity_id,
        activity_title=f.activity.title,
        representative_id=f.representative_id,
        representative_name=f.representative.full_name,
        rating=f.rating,
        rating_label=rules.RATINGS[f.rating],
        listened_to=listened,  # type: ignore[arg-type]
        access_met=access,  # type: ignore[arg-type]
        comments=f.comments,
        entered_by=f.entered_by.full_name if f.entered_by else None,
        follow_up=rules.follow_up(listened, access),
        followed_up_at=f.reviewed_at,
        submitted_at=f.submitted_at,
    )


class FeedbackQuery(Paging):
    activity_id: Id | None = Field(None, description="Only this activity's feedback")
    start: dt.date | None = Field(None, description="Given on or after this day (London)")
    end: dt.date | None = Field(None, description="Given on or before this day (London)")


@api.operation(
    "GET",
    "/activity-feedback",
    summary="How activities went for the people who attended, newest first",
    tag=TAG,
    roles=LEADS,
    query=FeedbackQuery,
    reply=Page[FeedbackReply],
)
async def list_feedback(
    request: Request, actor: Actor, query: FeedbackQuery
) -> Page[FeedbackReply]:
    if query.start and query.end and query.end < query.start:
        raise ValidationFailed.one("end", "The end date must be the same as or after the start")
    found, cursor = await keyset_page(
        activity_feedback.listing(
            actor, activity_id=query.activity_id, start=query.start, end=query.end
        ),
        query,
        ("-submitted_at", "-id"),
    )
    return Page(items=[_reply(f) for f in found], next_cursor=cursor)


@api.operation(
    "GET",
    "/activity-feedback/{id:int}",
    summary="One person's feedback on an activity",
    tag=TAG,
    roles=LEADS,
    reply=FeedbackReply,
)
async def get_feedback(request: Request, actor: Actor, id: int) -> FeedbackReply:
    return _reply(await activity_feedback.feedback_for(actor, id))


@api.operation(
    "POST",
    "/activity-feedback",
    summary="Say how an attended activity went (once per booking), or record it for someone",
    tag=TAG,
    roles=LEADS_AND_REPRESENTATIVES,
    body=NewFeedback,
    reply=FeedbackReply,
    status=201,
)
async def give_feedback(request: Request, actor: Actor, body: NewFeedback) -> FeedbackReply:
    data = body.data()
    given = await activity_feedback.submit(actor, data.pop("booking_id"), data)
    await given.fetch_related("representative", "activity", "entered_by")
    return _reply(given)


@api.operation(
    "POST",
    "/activity-feedback/{id:int}/followed-up",
    summary="Mark feedback to follow up as followed up: it leaves the lead's list",
    tag=TAG,
    roles=LEADS,
    body=NoBody,
    reply=FeedbackReply,
)
async def followed_up(request: Request, actor: Actor, id: int, body: NoBody) -> FeedbackReply:
    await activity_feedback.mark_followed_up(actor, id)
    return _reply(await activity_feedback.feedback_for(actor, id))
