"""A team going to peer review, built the way people build it: a lead plans an interview panel
and a training session, books representatives and records who attended; its surveys and "You
said, we did" actions are made by the lead through their services too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from coprod import clock
from coprod.models import (
    Activity,
    Booking,
    FeedbackAction,
    Organisation,
    Representative,
    Survey,
    Team,
)
from coprod.models.feedback import ActionStatus, Audience, SurveyStage
from coprod.services import actions, activities, attendance, bookings, people, surveys
from coprod.services.actor import Actor
from tests.involvement import LONDON, Trust, person, trust


@dataclass
class Teams:
    t: Trust
    org: Organisation
    team: Team
    other_team: Team
    reps: list[Representative]


async def teams(world: Any, name: str = "Northshire NHS Trust", slug: str = "trust") -> Teams:
    t = await trust(world, name, slug)
    org = await Organisation.get(id=t.organisation_id)
    crisis = await people.create_team(t.lead, org, "Crisis team")
    east = await people.create_team(t.lead, org, "Community team east")
    start = clock.today() - dt.timedelta(days=200)
    reps = [
        await person(t, f"Person {slug} {i}", ("patient", "carer")[i % 2], contract_from=start)
        for i in range(3)
    ]
    return Teams(t, org, crisis, east, reps)


async def held(
    lead: Actor,
    reps: list[Representative],
    *,
    title: str,
    kind: str,
    category: str = "co_delivery",
    team: Team | None = None,
    days_ago: int = 20,
    attended: int | None = None,
) -> Activity:
    """An activity that took place `days_ago`, with `reps` booked and the first `attended` of
    them (all, by default) recorded as attended."""
    ahead = dt.datetime.combine(clock.today() + dt.timedelta(days=5), dt.time(10))
    activity = await activities.create_activity(
        lead,
        {
            "title": title,
            "kind": kind,
            "category": category,
            "duration_minutes": "90",
            "capacity": "10",
            "video": "true",
            "video_link": "https://meet.example/room",
            "team_id": str(team.id) if team else "",
            "starts_at": ahead.isoformat(),
        },
    )
    booked = [await bookings.book(lead, activity, rep, "video") for rep in reps]
    # The services never book into the past: move it to the day it took place, as the claims
    # and report tests do.
    day = clock.today() - dt.timedelta(days=days_ago)
    start = dt.datetime.combine(day, dt.time(10), LONDON).astimezone(dt.UTC)
    await Activity.filter(id=activity.id).update(starts_at=start)
    for booking in booked:
        await Booking.filter(id=booking.id).update(
            starts_at=start, ends_at=start + dt.timedelta(minutes=90)
        )
    for booking in booked[: len(booked) if attended is None else attended]:
        await attendance.record_attendance(
            lead, await Booking.get(id=booking.id), {"attended": "yes", "attended_minutes": "90"}
        )
    return await Activity.get(id=activity.id)


async def survey(
    lead: Actor, team: Team, title: str = "How was your first week?", **kw: Any
) -> Survey:
    """A draft survey for the team, as a lead starts one on /surveys/new."""
    audience = kw.get("audience", Audience.PATIENTS)
    return await surveys.create_survey(
        lead,
        {
            "team_id": str(team.id),
            "title": title,
            "audience": audience.value,
            "stage": SurveyStage.START.value,
        },
    )


async def action(
    lead: Actor, team: Team, status: ActionStatus = ActionStatus.DONE
) -> FeedbackAction:
    return await actions.create_action(
        lead,
        team.id,
        {
            "you_said": "Letters were hard to read",
            "we_did": "We wrote them again with two carers",
            "owner_id": str(lead.user.id if lead.user else ""),
            "status": status.value,
        },
    )
