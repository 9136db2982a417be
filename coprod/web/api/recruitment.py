"""API operation for recruitment at a glance, as the lead's Recruitment page shows it."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request

from coprod.models import InterestStatus, Role
from coprod.services import recruitment
from coprod.services.actor import Actor
from coprod.web.api.registry import api
from coprod.web.api.schema import Count, Reply


class InterestSteps(Reply):
    new: Count
    chatted: Count
    welcome_booked: Count
    ready: Count
    closed: Count


class RecruitmentReply(Reply):
    public_path: str = Field(description="The organisation's public page of opportunities")
    open_opportunities: Count
    draft_opportunities: Count
    interest: InterestSteps = Field(description="People at each step, not counting spam")
    held_as_spam: Count = Field(description="Interest held as possible spam, for a lead to look at")
    outreach_this_year: Count = Field(description="Outreach this financial year, up to today")
    people_reached_this_year: Count
    courses: Count


@api.operation(
    "GET",
    "/recruitment",
    summary="Recruitment at a glance: opportunities, interest by step, outreach and courses",
    tag="recruitment",
    roles=(Role.INVOLVEMENT_LEAD,),
    reply=RecruitmentReply,
)
async def get_recruitment(request: Request, actor: Actor) -> RecruitmentReply:
    found = await recruitment.overview(actor)
    return RecruitmentReply(
        public_path=found.public_path,
        open_opportunities=found.open_opportunities,
        draft_opportunities=found.drafts,
        interest=InterestSteps(**{s.value: found.interest[s.value] for s in InterestStatus}),
        held_as_spam=found.held_as_spam,
        outreach_this_year=found.outreach,
        people_reached_this_year=found.people_reached,
        courses=found.courses,
    )
