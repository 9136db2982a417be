"""Recruitment at a glance, for the lead's Recruitment page: open opportunities, where people
who said they were interested have got to, this year's outreach, and the courses on offer."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count, Sum

from coprod import clock
from coprod.domain.reporting import Period, financial_year, financial_year_of
from coprod.models import Course, Interest, InterestStatus, Opportunity, Organisation, Outreach
from coprod.services import opportunities
from coprod.services.access import require_lead
from coprod.services.actor import Actor


@dataclass(frozen=True)
class Overview:
    # The organisation's public page of opportunities, /join/{slug}.
    public_path: str
    open_opportunities: int
    drafts: int
    # People at each step (InterestStatus values), not counting what is held as spam.
    interest: dict[str, int]
    held_as_spam: int
    year: Period
    outreach: int
    people_reached: int
    courses: int


async def overview(actor: Actor) -> Overview:
    require_lead(actor)
    org_id = actor.organisation_id
    today = clock.today()
    mine = Opportunity.filter(organisation_id=org_id)
    steps = (
        await Interest.filter(organisation_id=org_id)
        .annotate(n=Count("id"))
        .group_by("status", "held_as_spam")
        .values_list("status", "held_as_spam", "n")
    )
    interest = dict.fromkeys((s.value for s in InterestStatus), 0)
    held = 0
    for status, is_held, n in steps:
        if is_held:
            held += int(n)
        else:
            interest[str(status)] += int(n)
    year = financial_year(financial_year_of(today))
    reached = (
        await Outreach.filter(organisation_id=org_id, held_on__gte=year.start, held_on__lte=today)
        .annotate(events=Count("id"), people=Sum("people_reached"))
        .first()
        .values("events", "people")
    )
    organisation = await Organisation.get(id=org_id)
    return Overview(
        public_path=f"/join/{organisation.slug}",
        open_opportunities=await opportunities.open_on(mine, today).count(),
        drafts=await mine.filter(published_at__isnull=True).count(),
        interest=interest,
        held_as_spam=held,
        year=year,
        outreach=int((reached or {}).get("events") or 0),
        people_reached=int((reached or {}).get("people") or 0),
        courses=await Course.filter(organisation_id=org_id, archived_at__isnull=True).count(),
    )
