"""What the "You said, we did" tests need from other parts of issue 14, made here until those
parts' services exist.

Survey responses will come from the survey service (`coprod/services/surveys.py`, another
helper's) and activity feedback from the activity feedback form: until then these helpers
write the rows with the ORM, as those services will. Switch them to the services at merge.
Attendance is built the way a lead builds it: plan, book, record attendance.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from coprod import clock
from coprod.domain.scheduling import LONDON
from coprod.models import Activity, ActivityFeedback, Booking, Representative, Team
from coprod.models.feedback import (
    ActionActivity,
    ActionResponse,
    ActionStatus,
    Audience,
    FeedbackAction,
    FeedbackTheme,
    QuestionKind,
    ResponseSource,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyStage,
    SurveyStatus,
)
from coprod.services import activities, attendance, bookings
from coprod.services.actor import Actor

_tokens = itertools.count(1)


async def survey(organisation_id: int, team_id: int, title: str = "How was your care?") -> Survey:
    made = await Survey.create(
        organisation_id=organisation_id,
        team_id=team_id,
        title=title,
        audience=Audience.PATIENTS,
        stage=SurveyStage.END,
        status=SurveyStatus.OPEN,
        link_token=f"survey-{organisation_id}-{team_id}-{next(_tokens)}",
    )
    await SurveyQuestion.create(
        survey=made, position=1, kind=QuestionKind.RATING, prompt="How good was your care?"
    )
    await SurveyQuestion.create(
        survey=made, position=2, kind=QuestionKind.TEXT, prompt="What could we do better?"
    )
    return made


async def response(
    of: Survey,
    said: str,
    *,
    rating: int = 3,
    paper: bool = False,
    days_ago: int = 1,
    contact: str | None = None,
) -> SurveyResponse:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    made = await SurveyResponse.create(
        organisation_id=of.organisation_id,
        survey=of,
        team_id=of.team_id,
        audience=of.audience,
        source=ResponseSource.PAPER if paper else ResponseSource.WEB,
        received_at=when,
        received_on=clock.today(when),
        contact_encrypted=contact,
    )
    rating_q, text_q = await SurveyQuestion.filter(survey=of).order_by("position")
    await SurveyAnswer.create(response=made, question=rating_q, rating=rating)
    await SurveyAnswer.create(response=made, question=text_q, text=said)
    return made


async def attended_activity(
    lead: Actor,
    reps: list[Representative],
    *,
    title: str = "Waiting room workshop",
    team_id: int | None = None,
    project_id: int | None = None,
) -> Activity:
    """An activity that happened last week, which each of `reps` attended."""
    ahead = dt.datetime.combine(clock.today() + dt.timedelta(days=5), dt.time(10))
    activity = await activities.create_activity(
        lead,
        {
            "title": title,
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": "120",
            "capacity": "20",
            "in_person": "true",
            "address": "1 High Street, Northshire",
            "team_id": str(team_id or ""),
            "project_id": str(project_id or ""),
            "starts_at": ahead.isoformat(),
        },
    )
    made = [await bookings.book(lead, activity, rep, "in_person") for rep in reps]
    # Attendance is recorded once an activity has happened: move it into the past, as the
    # claims tests do (the services never book into the past).
    day = clock.today() - dt.timedelta(days=7)
    start = dt.datetime.combine(day, dt.time(10), LONDON).astimezone(dt.UTC)
    await Activity.filter(id=activity.id).update(starts_at=start)
    for booking in made:
        await Booking.filter(id=booking.id).update(
            starts_at=start, ends_at=start + dt.timedelta(minutes=120)
        )
        await attendance.record_attendance(
            lead, await Booking.get(id=booking.id), {"attended": "yes", "attended_minutes": "120"}
        )
    return activity


async def activity_feedback(activity: Activity, rep: Representative, **fields: Any) -> Any:
    booking = await Booking.get(activity=activity, representative=rep)
    return await ActivityFeedback.create(
        organisation_id=activity.organisation_id,
        activity=activity,
        representative=rep,
        booking=booking,
        rating=fields.get("rating", 4),
        listened_to=fields.get("listened_to", "yes"),
        comments=fields.get("comments", "The room was too hot"),
        submitted_at=dt.datetime.now(dt.UTC),
    )


async def scene_feedback(
    organisation_id: int, team_id: int, champion_id: int, activity_id: int
) -> dict[str, int]:
    """For tests/scenes.py, once the team has its survey answers: `champion_id` champions the
    team, which has a theme and a done action linked to an activity and to its first answer.
    The ids of one of each ("response" is the newest, still unread)."""
    await Team.filter(id=team_id).update(feedback_champion_id=champion_id)
    first = await SurveyResponse.filter(team_id=team_id).order_by("id").first()
    newest = await SurveyResponse.filter(team_id=team_id).order_by("-id").first()
    assert first is not None and newest is not None
    theme = await FeedbackTheme.create(organisation_id=organisation_id, name="Waiting times")
    action = await FeedbackAction.create(
        organisation_id=organisation_id,
        team_id=team_id,
        you_said="The waiting room is cold",
        we_did="We fixed the heating",
        owner_id=champion_id,
        status=ActionStatus.DONE,
        done_on=clock.today(),
    )
    await ActionActivity.create(action=action, activity_id=activity_id)
    await ActionResponse.create(action=action, response=first)
    return {"response": newest.id, "theme": theme.id, "action": action.id, "champion": champion_id}
