"""Demo data, so a newcomer can click through Coprod straight after `make run`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock, demo_recruitment
from coprod.domain.scheduling import LONDON
from coprod.models import Activity, Booking, Organisation, Representative, Role, Team, User
from coprod.services import (
    actions,
    activities,
    activity_feedback,
    attendance,
    auth,
    bookings,
    contracts,
    people,
    representatives,
    standards,
    surveys,
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
    finance = await people.create_user(
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
                "team_ids": [teams[profile["team"]]],
                **{key: value for key, value in profile.items() if key != "team"},
            },
        )
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
        demo_reps.append(rep)
    await _standards_review(
        lead_actor, teams["Crisis Resolution and Home Treatment Team"], demo_reps
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
    await seed_feedback(lead_actor, teams["Crisis Resolution and Home Treatment Team"])
    await _activity_feedback(lead_actor, teams, [*demo_reps, phone_only])
    board = await _seed_you_said_we_did(org, lead_actor, finance)
    recruitment = await demo_recruitment.seed(lead_actor, teams, demo_reps)
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
        "The crisis team's standards self-review for peer review is at",
        f"  /teams/{teams['Crisis Resolution and Home Treatment Team']}/standards",
        "Feedback: /feedback shows the crisis team's answers towards its targets; its patient",
        "  and carer surveys are open (see /surveys for their posters and paper forms).",
        "Last week's listening event has feedback: see it on its activity page, and Maureen's",
        "  (not listened to) on the lead's home page. Sam can still say how it went.",
        "Chris Evans is the crisis team's feedback champion: their home page links to its new",
        f'  feedback and "You said, we did" actions. The public board: {board}',
        *recruitment,
    ]


# The crisis team's marks against the quality network's standards, as a team part-way through
# its self-review might have them.
DEMO_MARKS = {
    1: ("met", "Our leaflet was rewritten with two carers in the spring."),
    4: ("met", None),
    14: ("partly_met", "Representatives join the service planning group from next quarter."),
    20: ("not_met", "Waiting times are not yet on the website."),
    46: ("met", None),
    47: ("partly_met", "Surveys start this month."),
    54: ("met", "Every band 6 and above interview has a representative on the panel."),
    63: ("not_met", None),
    90: ("partly_met", None),
    119: ("met", None),
    153: ("met", None),
    155: ("partly_met", None),
}


async def _standards_review(lead: Actor, team_id: int, reps: list[Representative]) -> None:
    """A dozen standards marked for the crisis team, with an interview panel representatives
    sat on last month as evidence for standard 54, and a note for standard 14."""
    # A Wednesday morning: a time both demo representatives are free.
    wednesday = clock.today() + dt.timedelta(days=7 + (2 - clock.today().weekday()) % 7)
    ahead = dt.datetime.combine(wednesday, dt.time(10))
    panel = await activities.create_activity(
        lead,
        {
            "title": "Interviews for a team manager",
            "kind": "interview_panel",
            "category": "co_decision",
            "duration_minutes": "180",
            "capacity": "2",
            "in_person": "true",
            "address": "Crisis team base, 1 High Street, Northtown",
            "team_id": str(team_id),
            "starts_at": ahead.isoformat(),
        },
    )
    booked = [await bookings.book(lead, panel, rep, "in_person") for rep in reps]
    # The services only book ahead: the demo moves the panel to last month, once booked, so
    # that its attendance can be recorded as though it had happened.
    held = dt.datetime.combine(clock.today() - dt.timedelta(days=30), dt.time(10), LONDON)
    await Activity.filter(id=panel.id).update(starts_at=held)
    for booking in booked:
        await Booking.filter(id=booking.id).update(
            starts_at=held, ends_at=held + dt.timedelta(minutes=180)
        )
        await attendance.record_attendance(
            lead, await Booking.get(id=booking.id), {"attended": "yes"}
        )
    for number, (status, note) in DEMO_MARKS.items():
        await standards.mark(lead, team_id, number, {"status": status, "note": note or ""})
    await standards.add_evidence(
        lead, team_id, 54, {"kind": "activity", "activity_id": str(panel.id)}
    )
    await standards.add_evidence(
        lead,
        team_id,
        14,
        {"kind": "note", "note": "Two carers sat on the group that chose the new referral form."},
    )


# A dozen answers, as a team might have a month into its review period: (survey, stage,
# first score, a choice, own words, on paper).
DEMO_ANSWERS: list[tuple[str, str, str, str, str, bool]] = [
    ("patients_start", "", "5", "Yes", "The nurse rang back when she said she would.", False),
    ("patients_start", "", "4", "Yes", "", False),
    ("patients_start", "", "2", "Not sure", "Nobody told me when the next visit was.", True),
    ("patients_start", "", "4", "Yes", "", False),
    ("patients_start", "", "3", "No", "Evening visits are hard with work.", True),
    ("patients_start", "", "5", "Yes", "Kind and calm.", False),
    ("patients_start", "", "4", "Yes", "", True),
    ("carers", "start", "4", "Yes", "Please tell me who to ring at night.", False),
    ("carers", "end", "3", "Not sure", "", True),
    ("carers", "end", "5", "Yes", "You asked how I was. That helped.", False),
    ("carers", "", "2", "No", "I did not know what the medication was for.", False),
    ("carers", "start", "4", "Yes", "", True),
]


async def seed_feedback(lead: Actor, team_id: int) -> None:
    """An open patient survey and an open carer survey for one team, with a dozen answers
    (some typed in from paper), so the feedback pages show progress towards the targets."""
    made = {}
    for key in ("patients_start", "carers"):
        survey = await surveys.create_survey(lead, {"team_id": str(team_id), "template": key})
        made[key] = await surveys.open_survey(lead, survey)
    for key, stage, score, choice, words, on_paper in DEMO_ANSWERS:
        survey = made[key]
        questions = await surveys.questions_of(survey)
        by_kind = {q.kind.value: q for q in reversed(questions)}
        data = {
            f"q{questions[0].id}": score,
            f"q{questions[1].id}": choice,
            "stage": stage,
        }
        if words:
            data[f"q{by_kind['text'].id}"] = words
        if on_paper:
            paper_day = clock.today() - dt.timedelta(days=3)
            await surveys.add_paper_answer(lead, survey, data | {"received_on": paper_day})
        else:
            await surveys.answer(survey.link_token, data)


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


async def _seed_you_said_we_did(org: Organisation, lead: Actor, champion: User) -> str:
    """The crisis team's feedback champion, a few themes, and an action in each status: the
    done one linked to a workshop Alex Morgan attended, so Alex is emailed about it. Returns
    the public board's address."""
    team = await Team.get(organisation=org, name="Crisis Resolution and Home Treatment Team")
    await actions.set_champion(lead, team.id, {"champion_id": str(champion.id)})
    for name in ("Waiting times", "Being kept informed", "The building"):
        await actions.add_theme(lead, {"name": name})
    alex = await Representative.get(organisation=org, full_name="Alex Morgan")
    workshop = await activities.create_activity(
        lead,
        {
            "title": "Waiting room redesign workshop",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": "120",
            "capacity": "12",
            "video": "true",
            "video_link": "https://meet.example/waiting-room",
            "team_id": str(team.id),
            "starts_at": (clock.today() + dt.timedelta(days=3)).isoformat() + "T10:00",
        },
    )
    booking = await bookings.book(lead, workshop, alex, "video")
    # It happened last month: the services never book into the past, so move it there.
    start = dt.datetime.combine(
        clock.today() - dt.timedelta(days=33), dt.time(10), LONDON
    ).astimezone(dt.UTC)
    await Activity.filter(id=workshop.id).update(starts_at=start)
    await Booking.filter(id=booking.id).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    await attendance.record_attendance(lead, await Booking.get(id=booking.id), {"attended": "yes"})
    champion_actor = await auth.actor_for(champion, org.id)
    owner = str(champion.id)
    for said, did, status, extra in (
        (
            "The waiting room is cold and there is nothing to do while you wait.",
            "We fixed the heating and put out books, puzzles and a water cooler.",
            "in_progress",
            {"activity_ids": [str(workshop.id)]},
        ),
        (
            "Letters about appointments are hard to understand.",
            "We are rewriting our letters in plain English with people who use the service.",
            "in_progress",
            {},
        ),
        (
            "It is hard to get through on the phone in the evening.",
            "We will add a second person to answer the phone from 6pm to 10pm.",
            "planned",
            {},
        ),
        (
            "Please open the team's office at weekends.",
            "We looked at opening the office on Saturdays.",
            "not_possible",
            {
                "not_possible_reason": "The building is shared and closed at weekends. You "
                "can still phone the team at any time, day or night."
            },
        ),
    ):
        made = await actions.create_action(
            champion_actor,
            team.id,
            {"you_said": said, "we_did": did, "owner_id": owner, "status": status, **extra},
        )
        if extra.get("activity_ids"):
            # Marked done after it was made, as a champion would: Alex is told.
            await actions.update_action(champion_actor, made, {"status": "done"})
    return f"/you-said-we-did/{org.slug}/{team.id}"
