"""The demo's recruitment and training: opportunities, outreach, people who said they were
interested at each step, and courses with sessions and a training record."""

from __future__ import annotations

import datetime as dt

from coprod import clock
from coprod.domain.scheduling import LONDON
from coprod.models import Activity, Booking, Course, Organisation, Representative
from coprod.services import activities, attendance, bookings, courses, opportunities, outreach
from coprod.services.actor import Actor

PANEL_EASY_READ = (
    "You help us choose new staff. You meet the people who want the job. You ask them "
    "questions. You tell us what you think. We pay you for your time."
)


async def seed(lead: Actor, teams: dict[str, int], reps: list[Representative]) -> list[str]:
    """Returns lines for the demo's welcome text."""
    slug = await _opportunities(lead)
    await _outreach(lead, teams)
    await _training(lead, teams, reps)
    return [
        f"Recruitment: the public page is /join/{slug}; leads find opportunities, people",
        "  interested, outreach and courses under Recruitment.",
    ]


async def _opportunities(lead: Actor) -> str:
    """An interview-panel role and a young people's group, open; a governor role in draft."""
    pay = await opportunities.standard_pay(lead.organisation_id or 0)
    common = {"pay": pay, "accessibility": _ACCESSIBILITY}
    panel = await opportunities.create(
        lead,
        {
            **common,
            "title": "Member of our staff interview panels",
            "activity_kind": "interview_panel",
            "involves": (
                "Sitting on interview panels for nurses, doctors and support workers, asking "
                "questions from lived experience and agreeing the scores with the panel."
            ),
            "easy_read": PANEL_EASY_READ,
            "time_commitment": "About half a day a month, on weekdays.",
            "modes": ["in_person", "video"],
            "closes_on": (clock.today() + dt.timedelta(days=21)).isoformat(),
        },
    )
    young = await opportunities.create(
        lead,
        {
            **common,
            "title": "Young people's advisory group member",
            "activity_kind": "meeting",
            "involves": (
                "Meeting other people aged 16 to 25 to tell the crisis team what would have "
                "helped you, and to plan how it reaches young people and young carers."
            ),
            "time_commitment": "Two hours, one evening a month.",
            "modes": ["video", "phone"],
        },
    )
    for opportunity in (panel, young):
        await opportunities.publish(lead, opportunity)
    await opportunities.create(
        lead,
        {
            **common,
            "title": "Public governor (lived experience)",
            "involves": "Holding the board to account for the trust's members.",
            "time_commitment": "Four meetings a year.",
            "modes": ["in_person"],
        },
    )
    return (await Organisation.get(id=lead.organisation_id)).slug


_ACCESSIBILITY = (
    "Papers come a week before, in large print, easy read or Braille if you ask. Venues are "
    "step free, we pay for a taxi if you need one, and you can take a break at any time."
)


async def _outreach(lead: Actor, teams: dict[str, int]) -> None:
    crisis = str(teams["Crisis Resolution and Home Treatment Team"])
    today = clock.today()
    for days_ago, kind, place, reached in (
        (40, "school_college", "Northtown College freshers' fair", 120),
        (30, "faith_group", "Al-Noor mosque open day", 60),
        (21, "community_centre", "Westgate community centre coffee morning", 25),
        (14, "youth_group", "Northtown young carers' group", 18),
        (7, "online", "Trust Facebook page post", 900),
    ):
        await outreach.create(
            lead,
            {
                "kind": kind,
                "held_on": (today - dt.timedelta(days=days_ago)).isoformat(),
                "place": place,
                "people_reached": str(reached),
                "team_id": crisis,
            },
        )


async def _training(lead: Actor, teams: dict[str, int], reps: list[Representative]) -> None:
    """The usual courses; an induction next week that Alex (easy read) and Sam (Braille) are
    booked on; panel training Sam did before; and a session
    Alex delivered to ward nurses last month, so both training records have something."""
    alex, sam = reps[:2]
    usual = {c.name: c for c in await courses.add_usual(lead)}
    induction = next(c for name, c in usual.items() if name.startswith("Induction"))
    panel_training = next(c for c in usual.values() if "interview_panel" in c.required_for)
    await courses.record_completion(
        lead,
        panel_training,
        {
            "representative_id": str(sam.id),
            "completed_on": (clock.today() - dt.timedelta(days=90)).isoformat(),
            "format": "interpreter",
            "language": "Polish",
        },
    )
    session = await _fixed_activity(
        lead,
        teams,
        {"title": f"{induction.name}: welcome to involvement", "kind": "training_received"},
        clock.today() + dt.timedelta(days=8),
        course=induction,
    )
    for rep in (alex, sam):
        await bookings.book(lead, session, rep, "in_person")
    delivered = await _fixed_activity(
        lead,
        teams,
        {
            "title": "Recovery stories for ward staff",
            "kind": "training_delivery",
            "category": "co_delivery",
            "audience": "Ward nurses",
        },
        clock.today() + dt.timedelta(days=1),
    )
    booked = await bookings.book(lead, delivered, alex, "in_person")
    # The services book only ahead; the demo moves the session to last month, as it happened.
    start = dt.datetime.combine(
        clock.today() - dt.timedelta(days=30), dt.time(14), LONDON
    ).astimezone(dt.UTC)
    await Activity.filter(id=delivered.id).update(starts_at=start)
    await Booking.filter(id=booked.id).update(
        starts_at=start, ends_at=start + dt.timedelta(minutes=90)
    )
    await attendance.record_attendance(lead, await Booking.get(id=booked.id), {"attended": "yes"})


async def _fixed_activity(
    lead: Actor,
    teams: dict[str, int],
    values: dict[str, str],
    day: dt.date,
    course: Course | None = None,
) -> Activity:
    return await activities.create_activity(
        lead,
        {
            **values,
            "duration_minutes": "90",
            "capacity": "10",
            "team_id": str(teams["Crisis Resolution and Home Treatment Team"]),
            "in_person": "true",
            "venue": "Trust HQ, Room 2",
            "address": "1 Park Row, Northtown NT1 1AA",
            "starts_at": dt.datetime.combine(day, dt.time(14)).isoformat(),
            **({"course_id": str(course.id)} if course else {}),
        },
    )
