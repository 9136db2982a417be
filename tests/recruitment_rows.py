"""Rows from the other parts of issue 15 that the outreach and report tests need: interest
(someone who said they would like to get involved) and its equality answers, and course
completions. They are written with the ORM because the interest and course services are
being built alongside; swap these for those services' calls once they are merged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod.domain.scheduling import LONDON
from coprod.models import Course, CourseCompletion, Interest, InterestEquality, Representative


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
