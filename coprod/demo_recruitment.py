"""The demo's recruitment and training: opportunities, outreach, people who said they were
interested at each step, and courses with sessions and a training record."""

from __future__ import annotations

import datetime as dt

from coprod import clock
from coprod.domain.recruitment import HONEYPOT_FIELD, STAMP_FIELD
from coprod.domain.scheduling import LONDON
from coprod.models import (
    Activity,
    Booking,
    Course,
    Opportunity,
    Organisation,
    Outreach,
    Representative,
)
from coprod.services import (
    activities,
    attendance,
    bookings,
    courses,
    interest_steps,
    interests,
    opportunities,
    outreach,
)
from coprod.services.actor import Actor

PANEL_EASY_READ = (
    "You help us choose new staff. You meet the people who want the job. You ask them "
    "questions. You tell us what you think. We pay you for your time."
)


async def seed(lead: Actor, teams: dict[str, int], reps: list[Representative]) -> list[str]:
    """Returns lines for the demo's welcome text."""
    panel, young = await _opportunities(lead)
    reached = await _outreach(lead, teams)
    await _interest(lead, panel, young, reached)
    await _training(lead, teams, reps)
    slug = (await Organisation.get(id=lead.organisation_id)).slug
    return [
        f"Recruitment: the public page is /join/{slug}; leads find opportunities, people",
        "  interested (one at each step, and one held as possible spam), outreach and courses",
        "  under Recruitment. Tom Bright has no email: the lead acts for him by phone.",
    ]


async def _opportunities(lead: Actor) -> tuple[Opportunity, Opportunity]:
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
    return panel, young


_ACCESSIBILITY = (
    "Papers come a week before, in large print, easy read or Braille if you ask. Venues are "
    "step free, we pay for a taxi if you need one, and you can take a break at any time."
)


async def _outreach(lead: Actor, teams: dict[str, int]) -> Outreach:
    """Five kinds of outreach this year; returns the community centre's coffee morning."""
    crisis = str(teams["Crisis Resolution and Home Treatment Team"])
    today = clock.today()
    made = []
    for days_ago, kind, place, reached in (
        (40, "school_college", "Northtown College freshers' fair", 120),
        (30, "faith_group", "Al-Noor mosque open day", 60),
        (21, "community_centre", "Westgate community centre coffee morning", 25),
        (14, "youth_group", "Northtown young carers' group", 18),
        (7, "online", "Trust Facebook page post", 900),
    ):
        made.append(
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
        )
    return made[2]


async def _interest(lead: Actor, panel: Opportunity, young: Opportunity, reached: Outreach) -> None:
    """Someone at each step: Aisha (a young carer, by the public form) is new; Tom (phone
    only, who rang after the coffee morning) has chatted; Grace has a welcome session booked;
    Lena is a representative with a panel contract; Mo's interest was closed kindly. And one
    form a robot filled in is held as possible spam."""
    org = await Organisation.get(id=lead.organisation_id)
    minute_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    aisha = await interests.express(
        org,
        {
            "full_name": "Aisha Rahman",
            "mobile": "07700 900 456",
            "contact_channels": ["text"],
            "representative_type": "carer",
            "message": "I look after my mum and I'm at college in the day.",
            "opportunity_id": str(young.id),
            STAMP_FIELD: interests.form_stamp(minute_ago),
        },
        address="demo",
    )
    await interests.answer_equality(
        org,
        aisha.equality_token,
        {"age_band": "16_24", "carer_status": "yes", "sex": "female", "religion": "muslim"},
    )
    await interests.express(
        org,
        {
            "full_name": "Cheap watches",
            "email": "offers@example.com",
            "contact_channels": ["email"],
            HONEYPOT_FIELD: "https://example.com/watches",
            STAMP_FIELD: interests.form_stamp(minute_ago),
        },
        address="demo-robot",
    )
    recorded = {}
    for name, source, details in (
        ("Tom Bright", "phone", {"phone": "01632 960 321", "contact_channels": ["phone"]}),
        ("Grace Obi", "email", {"email": "grace.obi@example.org", "contact_channels": ["email"]}),
        (
            "Lena Kowalski",
            "in_person",
            {"email": "lena.k@example.org", "contact_channels": ["email"]},
        ),
        ("Mo Harris", "letter", {"postal_address": _MO_ADDRESS, "contact_channels": ["post"]}),
    ):
        recorded[name] = await interests.record(
            lead,
            {"full_name": name, "source": source, "opportunity_id": str(panel.id), **details},
        )
    chat = {"consent_contact": "true", "representative_type": "patient"}
    await interest_steps.chat(
        lead,
        recorded["Tom Bright"],
        {
            **chat,
            "formats": ["large_print"],
            "needs_transport": "true",
            "outreach_id": str(reached.id),
            "best_time": "Mornings",
        },
    )
    for name in ("Grace Obi", "Lena Kowalski"):
        await interest_steps.chat(lead, recorded[name], chat)
        await interest_steps.welcome(
            lead,
            recorded[name],
            {
                "welcome_at": dt.datetime.combine(
                    clock.today() + dt.timedelta(days=5), dt.time(10, 30)
                ).isoformat(),
                "welcome_mode": "video",
            },
        )
    await interest_steps.ready(lead, recorded["Lena Kowalski"], {})
    await interest_steps.close(
        lead,
        recorded["Mo Harris"],
        {
            "close_reason": "not_right_time",
            "close_note": "Moving house; will get in touch in spring.",
        },
    )


_MO_ADDRESS = "4 Station Road\nNorthtown\nNT2 3RS"


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
