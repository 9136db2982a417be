"""What the "You said, we did" tests need from other parts of issue 14, built through their
services: surveys and their answers (`coprod/services/surveys.py`), attendance (plan, book,
record attendance) and the feedback people give on an activity they attended
(`coprod/services/activity_feedback.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.domain.scheduling import LONDON
from coprod.models import Activity, ActivityFeedback, Booking, Representative, Team, User
from coprod.models.feedback import (
    ActionActivity,
    ActionResponse,
    ActionStatus,
    FeedbackAction,
    FeedbackTheme,
    Survey,
    SurveyResponse,
)
from coprod.services import actions, activities, attendance, bookings, surveys
from coprod.services import activity_feedback as activity_feedback_service
from coprod.services.actor import Actor
from coprod.services.auth import actor_for


async def make_champion(lead: Actor, team_id: int, champion_id: int) -> None:
    """A lead (or administrator) chooses the team's feedback champion, as on /admin/teams."""
    await actions.set_champion(lead, team_id, {"champion_id": str(champion_id)})


async def survey(lead: Actor, team_id: int, title: str = "How was your care?") -> Survey:
    """An open survey for the team, made by a lead as on the survey pages: a rating and a
    question for their own words."""
    made = await surveys.create_survey(
        lead, {"team_id": str(team_id), "title": title, "audience": "patients", "stage": "end"}
    )
    await surveys.add_question(lead, made, {"kind": "rating", "prompt": "How good was your care?"})
    await surveys.add_question(lead, made, {"kind": "text", "prompt": "What could we do better?"})
    return await surveys.open_survey(lead, made)


async def response(
    lead: Actor,
    of: Survey,
    said: str,
    *,
    rating: int = 3,
    paper: bool = False,
    contact: str | None = None,
) -> SurveyResponse:
    """Someone's answers by the public link, or (with `paper`) typed in by the lead from a
    paper form; `contact` is the name they left, if any. Later answers are newer."""
    rating_q, text_q = await surveys.questions_of(of)
    data: dict[str, Any] = {f"q{rating_q.id}": str(rating), f"q{text_q.id}": said}
    if contact:
        data |= {"contact_name": contact, "contact_how": "07700 900555"}
    if paper:
        return await surveys.add_paper_answer(
            lead, of, data | {"received_on": clock.today().isoformat()}
        )
    return await surveys.answer(of.link_token, data)


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


async def activity_feedback(
    activity: Activity, rep: Representative, **fields: Any
) -> ActivityFeedback:
    """What `rep` said about an activity they attended, given by them as on
    /my/bookings/{id}/feedback (so it is their own answer, not one a lead typed in)."""
    booking = await Booking.get(activity=activity, representative=rep)
    # Not tests.test_bookings.as_self: importing a test module would load conftest, which
    # points the settings at the test database, and the benchmarks build scenes with this.
    user = await User.get(id=rep.user_id)
    return await activity_feedback_service.submit(
        await actor_for(user, rep.organisation_id),
        booking.id,
        {
            "rating": str(fields.get("rating", 4)),
            "listened_to": fields.get("listened_to", "yes"),
            "access_met": fields.get("access_met", "not_needed"),
            "comments": fields.get("comments", "The room was too hot"),
        },
    )


async def scene_feedback(
    organisation_id: int, team_id: int, champion_id: int, activity_id: int
) -> dict[str, int]:
    """For tests/scenes.py, once the team has its survey answers: `champion_id` champions the
    team, which has a theme and a done action linked to an activity and to its first answer.
    The ids of one of each ("response" is the newest, still unread).

    Written with the ORM on purpose: this is part of the scene tests/scenes.py builds for
    measuring what pages cost at a size (see its docstring), not a test of behaviour, and it
    stays as that scene was measured."""
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
