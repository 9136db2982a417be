"""Demo data, so a newcomer can click through Coprod straight after `make run`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.domain.scheduling import LONDON
from coprod.models import Activity, Booking, Organisation, Representative, Role, Team, User
from coprod.services import (
    activities,
    activity_feedback,
    attendance,
    auth,
    bookings,
    contracts,
    people,
    representatives,
    wellbeing,
)
from coprod.services.actor import Actor

DEMO_PASSWORD = "demo-password-123"
DEMO_ORG = "Northshire Mental Health NHS Foundation Trust"
LEAD_EMAIL = "lead@northshire.example"
ADMIN_EMAIL = "admin@northshire.example"
FINANCE_EMAIL = "finance@northshire.example"
REPRESENTATIVES = [
    ("alex.patient@example.org", "Alex Morgan"),
    ("sam.carer@example.org", "Sam Okafor"),
]
REPRESENTATIVE_PROFILES: list[dict[str, Any]] = [
    {
        "representative_type": "patient",
        "team": "Crisis Resolution and Home Treatment Team",
        "contact_channels": ["email", "text"],
        "mobile": "07700 900 982",
        "formats": ["easy_read"],
        "preferred_modes": ["video", "phone"],
        "wants_tech_test": True,
        "unavailable": ["mon:morning", "fri:afternoon"],
    },
    {
        "representative_type": "carer",
        "team": "Community Mental Health Team East",
        "contact_channels": ["email"],
        "formats": ["braille", "interpreter"],
        "interpreter_language": "Polish",
        "preferred_modes": ["in_person"],
        "needs_transport": True,
    },
]


async def seed_demo() -> list[str]:
    """Create the demo organisation and people, once. Returns lines to print."""
    actor = Actor.system(via="cli")
    if await Organisation.filter(name=DEMO_ORG).exists():
        return ["Demo data is already loaded."]
    org = await people.create_organisation(actor, DEMO_ORG)
    for team in ("Crisis Resolution and Home Treatment Team", "Community Mental Health Team East"):
        await people.create_team(actor, org, team)
    lead = await people.create_user(
        actor,
        email=LEAD_EMAIL,
        full_name="Priya Shah",
        organisation=org,
        roles=[Role.INVOLVEMENT_LEAD, Role.REPORTER],
        password=DEMO_PASSWORD,
    )
    await people.create_user(
        actor,
        email=ADMIN_EMAIL,
        full_name="Jordan Lee",
        organisation=org,
        roles=[Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD],
        password=DEMO_PASSWORD,
    )
    await people.create_user(
        actor,
        email=FINANCE_EMAIL,
        full_name="Chris Evans",
        organisation=org,
        roles=[Role.FINANCE_OFFICER],
        password=DEMO_PASSWORD,
    )
    lead_actor = await auth.actor_for(lead, org.id)
    teams = {t.name: t.id for t in await Team.filter(organisation=org)}
    demo_reps = []
    for (email, name), profile in zip(REPRESENTATIVES, REPRESENTATIVE_PROFILES, strict=True):
        rep = await representatives.create(
            lead_actor,
            {
                "full_name": name,
                "email": email,
                "lead_id": str(lead.id),
                "team_ids": [teams[profile.pop("team")]],
                **profile,
            },
        )
        demo_reps.append(rep)
        # Without consent to be contacted, nobody would be emailed about anything.
        await wellbeing.give_consent(lead_actor, rep, {"purpose": "contact"})
        await contracts.create(
            lead_actor,
            rep,
            {
                "role_title": rep.representative_type.value.capitalize() + " representative",
                "starts_on": (clock.today() - dt.timedelta(days=200)).isoformat(),
            },
        )
    phone_only = await representatives.create(
        lead_actor,
        {
            "full_name": "Maureen Fisher",
            "representative_type": "carer",
            "phone": "01632 960 001",
            "postal_address": "12 Mill Lane\nNorthtown\nNT4 2PL",
            "contact_channels": ["phone", "post"],
            "formats": ["large_print"],
            "preferred_modes": ["phone"],
            "needs_transport": True,
            "lead_id": str(lead.id),
        },
    )
    await wellbeing.give_consent(lead_actor, phone_only, {"purpose": "contact"})
    await contracts.create(
        lead_actor,
        phone_only,
        {
            "role_title": "Carer representative",
            "starts_on": (clock.today() - dt.timedelta(days=1000)).isoformat(),
        },
    )
    # Someone reached by text alone: the demo's texts are printed like its emails.
    texter = await representatives.create(
        lead_actor,
        {
            "full_name": "Kemi Adeyemi",
            "representative_type": "patient",
            "mobile": "07700 900 123",
            "contact_channels": ["text"],
            "preferred_modes": ["video", "phone"],
            "lead_id": str(lead.id),
        },
    )
    await wellbeing.give_consent(lead_actor, texter, {"purpose": "contact"})
    await contracts.create(
        lead_actor,
        texter,
        {
            "role_title": "Patient representative",
            "starts_on": (clock.today() - dt.timedelta(days=200)).isoformat(),
        },
    )
    await _activity_feedback(lead_actor, teams, [*demo_reps, phone_only])
    return [
        f"Demo organisation: {DEMO_ORG}",
        f"Staff sign in at /sign-in with password {DEMO_PASSWORD!r}:",
        f"  involvement lead  {LEAD_EMAIL}",
        f"  org admin + lead  {ADMIN_EMAIL}",
        f"  finance officer   {FINANCE_EMAIL}",
        "Representatives sign in by emailed link at /sign-in/link (the link is printed below):",
        *(f"  {name:<17} {email}" for email, name in REPRESENTATIVES),
        "  Maureen Fisher has no email: her lead acts for her, and phones or writes to her.",
        "  Kemi Adeyemi has no email: she hears by text, and signs in at /sign-in/code with",
        "  07700 900 123 and the code texted to her (texts are printed below).",
        "Last week's listening event has feedback: see it on its activity page, and Maureen's",
        "  (not listened to) on the lead's home page. Sam can still say how it went.",
    ]


async def _activity_feedback(
    lead: Actor, teams: dict[str, int], reps: list[Representative]
) -> None:
    """A listening event last week that Alex, Sam and Maureen attended: Alex said how it went,
    Priya recorded Maureen's answers after phoning her (she did not feel listened to, so it
    waits on Priya's home page to follow up), and Sam has yet to answer."""
    alex, sam, maureen = reps
    ahead = dt.datetime.combine(clock.today() + dt.timedelta(days=7), dt.time(10))
    event = await activities.create_activity(
        lead,
        {
            "title": "Listening event: leaving hospital",
            "kind": "meeting",
            "category": "co_evaluation",
            "duration_minutes": "120",
            "capacity": "12",
            "team_id": str(teams["Crisis Resolution and Home Treatment Team"]),
            "in_person": "true",
            "venue": "Trust HQ, Room 4",
            "address": "1 Park Row, Northtown NT1 1AA",
            "phone": "true",
            "dial_in": "01632 960 100",
            "starts_at": ahead.isoformat(),
        },
    )
    booked = [
        await bookings.book(lead, event, alex, "in_person"),
        await bookings.book(lead, event, sam, "in_person"),
        await bookings.book(lead, event, maureen, "phone"),
    ]
    # The services book only ahead; the demo moves the event to last week, as it happened.
    start = dt.datetime.combine(
        clock.today() - dt.timedelta(days=6), dt.time(10), LONDON
    ).astimezone(dt.UTC)
    await Activity.filter(id=event.id).update(starts_at=start)
    await Booking.filter(id__in=[b.id for b in booked]).update(
        starts_at=start, ends_at=start + dt.timedelta(minutes=120)
    )
    for booking in booked:
        await attendance.record_attendance(
            lead, await Booking.get(id=booking.id), {"attended": "yes"}
        )
    alex_user = await User.get(id=alex.user_id)
    await activity_feedback.submit(
        await auth.actor_for(alex_user, lead.organisation_id or 0),
        booked[0].id,
        {
            "rating": "5",
            "listened_to": "yes",
            "access_met": "yes",
            "comments": "The room was easy to find and the breaks helped.",
        },
    )
    await activity_feedback.submit(
        lead,
        booked[2].id,
        {
            "rating": "2",
            "listened_to": "no",
            "access_met": "partly",
            "comments": "The phone line dropped twice and nobody came back to me.",
        },
    )
