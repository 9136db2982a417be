"""Rows from the other parts of issue 15 that the outreach and report tests need: interest
(someone who said they would like to get involved) and its equality answers, representatives
with equality answers, course completions, and training delivered to staff (an attended
booking). They are written with the ORM because the interest and course services are being
built alongside; swap these for those services' calls once they are merged.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from coprod.domain.scheduling import LONDON
from coprod.models import (
    Activity,
    Booking,
    Course,
    CourseCompletion,
    EqualityResponse,
    Interest,
    InterestEquality,
    Outreach,
    Representative,
    Role,
)
from coprod.services import attendance
from coprod.services.actor import Actor


async def interest(
    organisation_id: int,
    name: str = "Sam Jones",
    *,
    on: dt.date | None = None,
    equality: dict[str, str] | None = None,
    **fields: Any,
) -> Interest:
    """Interest expressed on the day `on` (today if not given), at noon London time, with
    equality answers if any. `fields` sets the rest: source (online by default), status,
    close_reason, held_as_spam, outreach_id, representative_type, representative_id."""
    made = await Interest.create(
        organisation_id=organisation_id,
        full_name=name,
        source=fields.pop("source", "online"),
        contact_channels=["phone"],
        phone="01632 960 001",
        **fields,
    )
    if on is not None:
        noon = dt.datetime.combine(on, dt.time(12), LONDON).astimezone(dt.UTC)
        await Interest.filter(id=made.id).update(created_at=noon)
    if equality:
        await InterestEquality.create(interest=made, **equality)
    return made


async def course(organisation_id: int, name: str) -> Course:
    return await Course.create(organisation_id=organisation_id, name=name, formats=["braille"])


async def completion(
    rep: Representative, of: Course, on: dt.date, fmt: str = "standard"
) -> CourseCompletion:
    return await CourseCompletion.create(
        organisation_id=rep.organisation_id,
        representative=rep,
        course=of,
        completed_on=on,
        format=fmt,
    )


async def representative(
    organisation_id: int,
    name: str,
    *,
    equality: dict[str, str] | None = None,
    archived: bool = False,
) -> Representative:
    rep = await Representative.create(
        organisation_id=organisation_id,
        full_name=name,
        representative_type="patient",
        archived_at=dt.datetime.now(dt.UTC) if archived else None,
    )
    if equality:
        await EqualityResponse.create(representative=rep, **equality)
    return rep


async def delivered(
    rep: Representative,
    on: dt.date,
    *,
    team_id: int | None = None,
    audience: str | None = None,
    activity: Activity | None = None,
    status: str = "attended",
) -> Activity:
    """`rep` delivered training to staff at 10:00 London time on `on` (a session of
    `activity` when given, else a new one), with their attendance recorded by a lead
    (`status` attended or no_show), which keeps the involvement rows and roll-ups in step."""
    start = dt.datetime.combine(on, dt.time(10), LONDON).astimezone(dt.UTC)
    if activity is None:
        activity = await Activity.create(
            organisation_id=rep.organisation_id,
            team_id=team_id,
            title="Training for staff",
            kind="training_delivery",
            audience=audience,
            starts_at=start,
            duration_minutes=60,
            capacity=10,
            in_person=True,
        )
    booking = await Booking.create(
        activity=activity,
        representative=rep,
        status="confirmed",
        mode="in_person",
        uid=f"{uuid.uuid4()}@test",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    lead = Actor(
        user=None,
        organisation_id=rep.organisation_id,
        roles=frozenset({Role.INVOLVEMENT_LEAD}),
    )
    attended = {"attended": "yes" if status == "attended" else "no"}
    await attendance.record_attendance(lead, booking, attended)
    return activity


async def scene_recruitment(
    organisation_id: int, team_id: int, rep_ids: list[int], today: dt.date
) -> dict[str, int]:
    """For tests/scenes.py: outreach, interest (with equality answers, some from it), a course
    with completions and training delivered to staff, in proportion to the representatives.
    Returns the id of one outreach.

    Written with bulk_create on purpose, as the rest of the scene: it measures what pages cost
    at a size, and is not a test of behaviour."""
    n = len(rep_ids)
    kinds = ["community_group", "faith_group", "youth_group", "online"]
    await Outreach.bulk_create(
        [
            Outreach(
                organisation_id=organisation_id,
                team_id=team_id if i % 2 else None,
                kind=kinds[i % len(kinds)],
                held_on=today - dt.timedelta(days=1 + i % 200),
                place=f"Place {i}",
                people_reached=10 + i,
            )
            for i in range(n // 3 + 2)
        ]
    )
    outreach = await Outreach.filter(organisation_id=organisation_id).order_by("id")
    statuses = ["new", "chatted", "welcome_booked", "ready", "closed"]
    await Interest.bulk_create(
        [
            Interest(
                organisation_id=organisation_id,
                outreach_id=outreach[i % len(outreach)].id if i % 3 else None,
                source="online" if i % 2 else "phone",
                full_name=f"Outreach interest {i}",
                phone="01632 960 001",
                contact_channels=["phone"],
                status=statuses[i % len(statuses)],
                close_reason="not_right_time" if i % len(statuses) == 4 else None,
                held_as_spam=i % 17 == 16,
                representative_type="carer" if i % 4 == 0 else "patient",
            )
            for i in range(n)
        ]
    )
    # Only these: the scene has other interest, some with answers of its own.
    interests = await Interest.filter(
        organisation_id=organisation_id, full_name__startswith="Outreach interest "
    ).order_by("id")
    await InterestEquality.bulk_create(
        [
            InterestEquality(
                interest=interest,
                age_band="16_24" if i % 2 else "45_54",
                carer_status="yes" if i % 3 == 0 else "no",
                sex="female" if i % 2 else "male",
            )
            for i, interest in enumerate(interests)
        ]
    )
    course = await Course.create(
        organisation_id=organisation_id,
        name="Confidence and assertiveness",
        formats=["braille", "audio"],
    )
    await CourseCompletion.bulk_create(
        [
            CourseCompletion(
                organisation_id=organisation_id,
                representative_id=rep_id,
                course=course,
                completed_on=today - dt.timedelta(days=1 + i % 100),
                format="braille" if i % 5 == 0 else "standard",
            )
            for i, rep_id in enumerate(rep_ids)
        ]
    )
    start = dt.datetime.combine(today - dt.timedelta(days=7), dt.time(10), LONDON)
    session = await Activity.create(
        organisation_id=organisation_id,
        team_id=team_id,
        title="Training for ward staff",
        kind="training_delivery",
        audience="Ward nurses",
        starts_at=start.astimezone(dt.UTC),
        duration_minutes=60,
        capacity=n,
        in_person=True,
    )
    await Booking.bulk_create(
        [
            Booking(
                activity=session,
                representative_id=rep_id,
                status="attended",
                mode="in_person",
                uid=f"delivered-{session.id}-{rep_id}@test",
                starts_at=start.astimezone(dt.UTC),
                ends_at=(start + dt.timedelta(hours=1)).astimezone(dt.UTC),
            )
            for rep_id in rep_ids[: max(1, n // 4)]
        ]
    )
    return {"outreach": outreach[0].id}
