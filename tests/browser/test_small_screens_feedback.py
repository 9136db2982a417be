"""Every page of issue 14 ("Closing the loop") each kind of person can reach, opened at 320 px
wide (WCAG 2.2 reflow), as `test_small_screens.py` does for the rest: nothing scrolls sideways,
nothing says "None", and axe-core finds nothing. The data is made through the real services,
with the long words, links and names that overflow a narrow screen."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod import clock
from coprod.models import Booking, Role, Team
from coprod.services import actions, contracts, representatives, standards, surveys
from coprod.services import activity_feedback as activity_feedback_service
from coprod.services.auth import actor_for
from tests import feedback_rows
from tests.browser.test_small_screens import NARROW, check_narrow, narrow_as

pytestmark = pytest.mark.browser

LONG_LINK = "https://www.northshire-and-southshire.nhs.uk/services/crisis-resolution-and-home-treatment/feedback-about-our-care"
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-Supercalifragilisticexpialidocious"


async def test_every_feedback_page_fits_a_small_screen(browser, live_server, world):
    org = await world.org("Northshire and Southshire Partnership NHS Foundation Trust")
    lead_user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN)
    champion = await world.user(
        org, "bartholomew.featherstonehaugh-worthington@trust.example", Role.REPORTER
    )
    team = await Team.create(
        organisation=org, name="Crisis Resolution and Home Treatment Team (Northshire-Southshire)"
    )
    lead = await actor_for(lead_user, org.id)
    await feedback_rows.make_champion(lead, team.id, champion.id)
    champion_actor = await actor_for(champion, org.id)

    reps = [
        await representatives.create(
            lead,
            {
                "full_name": name,
                "representative_type": "carer",
                "email": email,
                "contact_channels": ["email"],
            },
        )
        for name, email in (
            (
                "Alexandria Montgomery-Fairweather",
                "alexandria.montgomery-fairweather@people.example",
            ),
            ("Maximilian Oyelaran-Abernethy", "maximilian.oyelaran-abernethy@people.example"),
        )
    ]
    rep, quiet = reps
    for person in reps:
        await contracts.create(
            lead,
            person,
            {
                "role_title": "Carer representative",
                "starts_on": (clock.today() - dt.timedelta(days=200)).isoformat(),
            },
        )

    # A survey with a choice, a rating and own words, and enough answers to show results.
    survey = await surveys.create_survey(
        lead,
        {
            "team_id": str(team.id),
            "title": f"How was your care? {LONG_WORD}",
            "introduction": f"Tell us how we did. Read more at {LONG_LINK}",
            "audience": "patients",
            "stage": "ask",
        },
    )
    choice_q = await surveys.add_question(
        lead,
        survey,
        {
            "kind": "choice",
            "prompt": "Did you know who to ring when you needed help, day or night?",
            "choices": f"Yes\nNo\nNot sure\n{LONG_WORD}",
        },
    )
    rating_q = await surveys.add_question(
        lead, survey, {"kind": "rating", "prompt": "How good was your care?"}
    )
    text_q = await surveys.add_question(
        lead, survey, {"kind": "text", "prompt": f"What could we do better? {LONG_LINK}"}
    )
    survey = await surveys.open_survey(lead, survey)
    said = [
        f"The leaflet at {LONG_LINK} did not work on my phone.",
        f"{LONG_WORD} {LONG_WORD}",
        "Nobody told me when the nurse would come. I waited in all day.",
        "",
        "Kind and calm.",
    ]
    answered = []
    # A dozen, so that results show counts rather than "fewer than 5".
    for n, words in enumerate(said * 2 + said[:2]):
        data = {
            f"q{choice_q.id}": ("Yes", "No", "Not sure", LONG_WORD)[n % 4],
            f"q{rating_q.id}": str(n % 5 + 1),
            f"q{text_q.id}": words,
            "stage": ("start", "end")[n % 2],
        }
        if n == 0:
            data |= {
                "contact_name": "Alexandria Montgomery-Fairweather",
                "contact_how": "alexandria.montgomery-fairweather@people.example",
            }
        if n % 2:
            answered.append(
                await surveys.add_paper_answer(
                    lead, survey, data | {"received_on": clock.today().isoformat()}
                )
            )
        else:
            answered.append(await surveys.answer(survey.link_token, data))
    draft = await surveys.create_survey(
        lead, {"team_id": str(team.id), "template": "carers", "title": f"Carers {LONG_WORD}"}
    )
    draft_question = (await surveys.questions_of(draft))[0]

    # Themes on an answer, and an action in each status.
    await actions.tag(champion_actor, answered[0], {"new_theme": f"Informed {LONG_WORD}"})
    activity = await feedback_rows.attended_activity(
        lead, reps, title=f"Waiting room workshop {LONG_WORD}", team_id=team.id
    )
    made = {}
    for status, extra in (
        ("planned", {}),
        ("in_progress", {"response_ids": [str(answered[0].id)]}),
        ("done", {"activity_ids": [str(activity.id)]}),
        ("not_possible", {"not_possible_reason": f"The building is shared. {LONG_LINK}"}),
    ):
        made[status] = await actions.create_action(
            champion_actor,
            team.id,
            {
                "you_said": f"The waiting room is cold. {LONG_WORD}",
                "we_did": f"We fixed the heating. See {LONG_LINK}",
                "owner_id": str(champion.id),
                "status": status,
                **extra,
            },
        )

    # Someone who attended said how it went; the other has yet to.
    await feedback_rows.activity_feedback(
        activity, rep, rating=2, listened_to="no", comments=f"The link {LONG_LINK} was broken."
    )
    given = await Booking.get(activity=activity, representative=rep)
    waiting = await Booking.get(activity=activity, representative=quiet)
    assert (await activity_feedback_service.booking_to_answer(lead, given.id))[1] is not None

    # Standards marked, with evidence of each kind.
    for number, status in ((14, "met"), (54, "partly_met"), (119, "not_met")):
        await standards.mark(lead, team.id, number, {"status": status, "note": LONG_LINK})
    for data in (
        {"kind": "activity", "activity_id": str(activity.id)},
        {"kind": "action", "action_id": str(made["done"].id)},
        {"kind": "survey", "survey_id": str(survey.id)},
        {"kind": "note", "note": f"Two carers chose the new form. {LONG_WORD} {LONG_LINK}"},
    ):
        await standards.add_evidence(lead, team.id, 54, data)

    board = f"/you-said-we-did/{org.slug}/{team.id}"
    problems: list[str] = []
    feedback_pages = (
        "/",
        "/feedback",
        f"/teams/{team.id}/feedback",
        f"/teams/{team.id}/feedback/new",
        f"/teams/{team.id}/actions",
        f"/teams/{team.id}/actions/new",
        *(f"/actions/{action.id}" for action in made.values()),
        f"/teams/{team.id}/standards",
        f"/teams/{team.id}/standards/54",
        f"/teams/{team.id}/standards/14",
        f"/teams/{team.id}/standards/1",
        f"/teams/{team.id}/standards/print",
    )

    context, page = await narrow_as(browser, live_server, "lead@trust.example")
    for path in (
        *feedback_pages,
        "/surveys",
        "/surveys/new",
        f"/surveys/{survey.id}",
        f"/surveys/{draft.id}",
        f"/surveys/{draft.id}/questions/{draft_question.id}",
        f"/surveys/{survey.id}/results",
        f"/surveys/{survey.id}/contact-details",
        f"/surveys/{survey.id}/paper-answers/new",
        f"/surveys/{survey.id}/poster",
        f"/surveys/{survey.id}/paper?print=standard",
        f"/surveys/{survey.id}/paper?print=large-print",
        f"/surveys/{survey.id}/paper?print=easy-read",
        f"/activities/{activity.id}",
        "/reports",
        "/admin/teams",
    ):
        await check_narrow(page, path, problems)
    await context.close()

    # The champion is not a lead: only their team's feedback, actions and standards.
    context, page = await narrow_as(
        browser, live_server, "bartholomew.featherstonehaugh-worthington@trust.example"
    )
    for path in feedback_pages:
        await check_narrow(page, path, problems)
    await context.close()

    for person, booking in ((rep, given), (quiet, waiting)):
        context, page = await narrow_as(browser, live_server, person.email, password=False)
        for path in ("/", "/my/bookings", f"/my/bookings/{booking.id}/feedback"):
            await check_narrow(page, path, problems)
        await context.close()

    context = await browser.new_context(base_url=live_server.url, locale="en-GB", viewport=NARROW)
    page = await context.new_page()
    for path in (
        f"/s/{survey.link_token}",
        f"/s/{survey.link_token}/thanks",
        board,
        f"{board}/poster",
    ):
        await check_narrow(page, path, problems)
    await context.close()
    assert not problems, "\n".join(problems)
