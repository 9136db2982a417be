"""The co-production report's closing-the-loop sections, against hand-counted data: survey
answers by audience, stage and source, "You said, we did" actions by status, standards met per
team and section, and how activities went; small counts hidden, and the page, JSON and CSV
agreeing.

Survey answers, actions, standards marks and activity feedback all go through their services
(`loop_rows`, `give`), as people make them; where a test needs a date no user can give, one
column is moved afterwards, with a comment saying why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from coprod import clock
from coprod.domain import standards
from coprod.domain.reporting import Period
from coprod.models import ActionStatus, FeedbackAction, Role, StandardReview, Survey, Team
from coprod.services import actions, activity_feedback, reports, surveys
from coprod.services import standards as standards_service
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from tests.conftest import sign_in
from tests.test_activity_feedback import attended
from tests.test_bookings import LEAD_EMAIL, Scene, as_self, person
from tests.test_reports import hidden_on
from tests.test_reports_api import csv_rows

TODAY = clock.today()
START, END = TODAY - dt.timedelta(days=30), TODAY
QUERY = f"period=custom&start={START}&end={END}"
PERIOD = Period(START, END, "the last month")


@pytest.fixture
async def scene(world: Any) -> Scene:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return Scene(org, await actor_for(user, org.id))


async def _survey(lead: Actor, team: Team, audience: str) -> Survey:
    """The team's survey for `audience`, made and opened by a lead the first time it is asked
    for. It asks people whether they are starting or finishing, so each answer says (or not)."""
    title = f"{audience} survey"
    existing = await Survey.get_or_none(team=team, title=title)
    if existing is not None:
        return existing
    made = await surveys.create_survey(
        lead, {"team_id": str(team.id), "title": title, "audience": audience, "stage": "ask"}
    )
    await surveys.add_question(lead, made, {"kind": "rating", "prompt": "How good was it?"})
    return await surveys.open_survey(lead, made)


async def answers(
    lead: Actor,
    team: Team,
    audience: str,
    count: int,
    *,
    stage: str | None,
    source: str,
    day: dt.date = END,
) -> None:
    """`count` people answering the team's survey: by its link (which is always today), or on
    paper forms dated `day`, typed in by the lead."""
    survey = await _survey(lead, team, audience)
    [rating] = await surveys.questions_of(survey)
    data = {f"q{rating.id}": "4", "stage": stage or ""}
    for _ in range(count):
        if source == "web":
            assert day == TODAY, "a web answer is received the day it is given"
            await surveys.answer(survey.link_token, data)
        else:
            await surveys.add_paper_answer(lead, survey, data | {"received_on": day.isoformat()})


async def action(
    lead: Actor, team: Team, status: ActionStatus, done_on: dt.date | None = None
) -> None:
    made = await actions.create_action(
        lead,
        team.id,
        {
            "you_said": "The waiting room is cold",
            "we_did": "We fixed the heating",
            "owner_id": str(lead.user.id if lead.user else ""),
            "status": status.value,
            "not_possible_reason": "No budget" if status == ActionStatus.NOT_POSSIBLE else "",
        },
    )
    if done_on is not None and done_on != made.done_on:
        # The service records an action as done on the day it is marked done, and nothing
        # lets a user back-date it: move that one day into the past for the period's counts.
        await FeedbackAction.filter(id=made.id).update(done_on=done_on)


async def loop_rows(lead: Actor) -> tuple[Team, Team]:
    """Two teams' survey answers, actions and standards marks, counted by hand below."""
    a = await Team.create(organisation_id=lead.organisation_id, name="Alpha team")
    b = await Team.create(organisation_id=lead.organisation_id, name="Beta team")
    # Alpha: 10 patients (5 at the start, 5 at the end), 5 carers who did not say; 10 on the
    # web and 5 on paper. Two more on paper forms dated before the period (typed in today),
    # which do not count.
    await answers(lead, a, "patients", 5, stage="start", source="web")
    await answers(lead, a, "patients", 5, stage="end", source="web")
    await answers(lead, a, "carers", 5, stage=None, source="paper")
    before = START - dt.timedelta(days=1)
    await answers(lead, a, "patients", 2, stage="start", source="paper", day=before)
    # Beta: 5 representatives at the start, on the web.
    await answers(lead, b, "representatives", 5, stage="start", source="web")

    await action(lead, a, ActionStatus.PLANNED)
    await action(lead, a, ActionStatus.PLANNED)
    await action(lead, a, ActionStatus.IN_PROGRESS)
    await action(lead, a, ActionStatus.DONE, END - dt.timedelta(days=3))
    await action(lead, a, ActionStatus.DONE, START)
    await action(lead, a, ActionStatus.DONE, START - dt.timedelta(days=1))  # before the period
    await action(lead, a, ActionStatus.NOT_POSSIBLE)
    await action(lead, b, ActionStatus.DONE, END)

    # Alpha marks the first section's first three standards met and its fourth not met, and
    # one standard of the second section partly met. Beta marks nothing.
    sections = standards.sections()
    first = [s.number for s in standards.standards() if s.section == sections[0]]
    second = [s.number for s in standards.standards() if s.section == sections[1]]
    marks = {first[0]: "met", first[1]: "met", first[2]: "met", first[3]: "not_met"}
    marks[second[0]] = "partly_met"
    for number, status in marks.items():
        await standards_service.mark(lead, a.id, number, {"status": status})
    # Another edition's marks are not this report's. The service only marks the current
    # edition (there is no older one to choose), so the mark is moved to another afterwards.
    older = await standards_service.mark(lead, b.id, first[0], {"status": "met"})
    assert older is not None
    await StandardReview.filter(id=older.id).update(edition="older")
    return a, b


def percent(part: int, whole: int) -> int:
    return (200 * part + whole) // (2 * whole)


async def test_each_section_matches_hand_counts(scene):
    a, _ = await loop_rows(scene.lead)
    report = await reports.organisation_report(scene.lead, PERIOD)
    surveys = report.surveys
    assert [t["team"] for t in surveys["teams"]] == ["Alpha team", "Beta team"]
    alpha, beta = surveys["teams"]
    assert alpha["answers"] == 15
    assert alpha["by_audience"] == {"patients": 10, "carers": 5, "representatives": 0}
    assert alpha["by_stage"] == {"start": 5, "end": 5, "not_said": 5}
    assert alpha["by_source"] == {"web": 10, "paper": 5}
    assert beta["answers"] == 5
    assert beta["by_audience"] == {"patients": 0, "carers": 0, "representatives": 5}
    assert surveys["total"] == {
        "answers": 20,
        "by_audience": {"patients": 10, "carers": 5, "representatives": 5},
        "by_stage": {"start": 10, "end": 5, "not_said": 5},
        "by_source": {"web": 15, "paper": 5},
    }

    actions = report.actions
    assert actions["total"] == {
        "planned": 2,
        "in_progress": 1,
        "done": 3,
        "not_possible": 1,
        "all": 7,
    }
    [alpha_actions, beta_actions] = actions["teams"]
    assert alpha_actions["team"] == "Alpha team" and alpha_actions["done"] == 2
    assert alpha_actions["all"] == 6
    assert (beta_actions["done"], beta_actions["all"]) == (1, 1)

    [marked] = report.standards  # Beta marked nothing in this edition
    assert marked["team"] == "Alpha team"
    sections = standards.sections()
    first_size = sum(1 for s in standards.standards() if s.section == sections[0])
    first = marked["sections"][0]
    assert first["section"] == sections[0]
    assert (first["met"], first["not_met"], first["not_marked"]) == (3, 1, first_size - 4)
    assert first["percent_met"] == percent(3, first_size)
    assert marked["sections"][1]["partly_met"] == 1 and marked["sections"][1]["met"] == 0
    overall = marked["overall"]
    assert overall["standards"] == len(standards.standards()) == 44
    assert (overall["met"], overall["partly_met"], overall["not_met"]) == (3, 1, 1)
    assert overall["percent_met"] == percent(3, 44)

    # One team: its own figures, the same as its row.
    alpha_only = await reports.organisation_report(scene.lead, PERIOD, a.id)
    assert alpha_only.surveys["total"]["answers"] == 15
    assert alpha_only.actions["total"]["all"] == 6
    assert [t["team"] for t in alpha_only.standards] == ["Alpha team"]


async def test_small_counts_of_answers_are_hidden_with_what_would_give_them_away(scene):
    _, b = await loop_rows(scene.lead)
    # Two carers answer Beta's survey on paper at the end: 1 to 4 is hidden, and so is what
    # would give it away from the totals beside it.
    await answers(scene.lead, b, "carers", 2, stage="end", source="paper")
    report = await reports.organisation_report(scene.lead, PERIOD)
    alpha, beta = report.surveys["teams"]
    assert beta["answers"] == 7
    assert beta["by_audience"] == {"patients": 0, "carers": None, "representatives": None}
    assert beta["by_stage"] == {"start": None, "end": None, "not_said": 0}
    assert beta["by_source"] == {"web": None, "paper": None}
    # Alpha's carers and start would give Beta's away from the total's; and then its others.
    assert alpha["answers"] == 15
    assert alpha["by_audience"] == {"patients": None, "carers": None, "representatives": 0}
    assert alpha["by_stage"] == {"start": None, "end": None, "not_said": 5}
    assert alpha["by_source"] == {"web": None, "paper": None}
    assert report.surveys["total"] == {
        "answers": 22,
        "by_audience": {"patients": 10, "carers": 7, "representatives": 5},
        "by_stage": {"start": 10, "end": 7, "not_said": 5},
        "by_source": {"web": 15, "paper": 7},
    }
    assert "Survey answers, Beta team: Carers" in report.hidden()


async def give(rep_actor: Any, booking_id: int, rating: int, listened: str, access: str) -> None:
    await activity_feedback.submit(
        rep_actor,
        booking_id,
        {"rating": str(rating), "listened_to": listened, "access_met": access},
    )


async def test_activity_feedback_is_counted_and_hidden_when_few_gave_it(scene):
    answers_given = [
        (5, "yes", "yes"),
        (4, "yes", "no"),
        (4, "yes", "not_needed"),
        (3, "partly", "yes"),
        (2, "no", "not_needed"),
        (1, "yes", "not_needed"),
    ]
    people = []
    for i, given in enumerate(answers_given):
        rep = await person(scene.lead, f"Person {i}")
        booking = await attended(scene.lead, rep)
        people.append((rep, booking, given))
    # Three answer: too few to show anything.
    for rep, booking, given in people[:3]:
        await give(await as_self(rep), booking.id, *given)
    report = await reports.organisation_report(scene.lead, PERIOD)
    assert set(report.activity_feedback.values()) == {None}
    assert "How activities went: all figures" in report.hidden()
    for rep, booking, given in people[3:]:
        await give(await as_self(rep), booking.id, *given)
    report = await reports.organisation_report(scene.lead, PERIOD)
    # 6 gave it, ratings 19 in all; 4 felt listened to; 3 needed help (too few to show).
    assert report.activity_feedback == {
        "given": 6,
        "average_rating": 3.2,
        "listened_percent": 67,
        "needed_access": None,
        "access_met_percent": None,
    }
    assert "How activities went: Access needs met" in report.hidden()
    # Activities before the period are not this period's.
    earlier = Period(START - dt.timedelta(days=400), START - dt.timedelta(days=300), "before")
    before = await reports.organisation_report(scene.lead, earlier)
    assert before.activity_feedback["given"] == 0


async def test_the_page_json_and_csv_agree(scene, client, world):
    await loop_rows(scene.lead)
    await world.user(scene.org, "rita@trust.example", Role.REPORTER)
    await sign_in(client, "rita@trust.example")
    page = await client.get(f"/reports?{QUERY}")
    assert page.status_code == 200
    text = page.text
    assert "None" not in text
    for heading in ("Survey answers", '"You said, we did" actions', "Standards met"):
        assert heading in text
    assert f"Alpha team: {percent(3, 44)}% of standards met" in text
    assert "Fewer than 5 people said how it went" not in text
    assert "Nobody has said how an activity in this period went yet." in text

    figures = (await client.get(f"/api/v1/reports/organisation?{QUERY}")).json()
    rows = csv_rows(await client.get(f"/api/v1/reports/organisation.csv?{QUERY}"))
    total = figures["survey_answers"]["total"]
    assert total["answers"] == 20
    assert rows["survey_answers", "all", "answers"] == "20"
    assert rows["survey_answers", "Alpha team", "audience.carers"] == "5"
    assert rows["survey_answers", "Beta team", "source.web"] == "5"
    assert rows["actions", "all", "done"] == str(figures["actions"]["total"]["done"]) == "3"
    assert rows["actions", "Alpha team", "planned"] == "2"
    first = figures["standards"][0]["sections"][0]
    key = f"Alpha team: {first['section']}"
    assert rows["standards", key, "met"] == "3"
    assert rows["standards", "Alpha team: All standards", "percent_met"] == str(percent(3, 44))
    assert rows["activity_feedback", "", "given"] == "0"
    # The page shows each team's row with the same counts.
    assert 'aria-hidden="true">Done </span>2</td>' in text
    assert hidden_on(text) == []


async def test_small_counts_are_listed_as_hidden_on_the_page_and_suppressed_in_the_csv(
    scene, client, world
):
    _, b = await loop_rows(scene.lead)
    await answers(scene.lead, b, "carers", 2, stage="end", source="paper")
    await world.user(scene.org, "rita@trust.example", Role.REPORTER)
    await sign_in(client, "rita@trust.example")
    page = await client.get(f"/reports?{QUERY}")
    report = await reports.organisation_report(scene.lead, PERIOD)
    listed = hidden_on(page.text)
    assert listed == report.hidden()
    assert "Survey answers, Beta team: Carers" in listed
    rows = csv_rows(await client.get(f"/api/v1/reports/organisation.csv?{QUERY}"))
    assert rows["survey_answers", "Beta team", "audience.carers"] == "suppressed"
    assert rows["survey_answers", "Beta team", "answers"] == "7"
    figures = (await client.get(f"/api/v1/reports/organisation?{QUERY}")).json()
    beta = figures["survey_answers"]["teams"][1]
    assert beta["by_audience"]["carers"] is None


async def test_a_network_roll_up_gives_totals_only(scene, world):
    from coprod.services import networks

    await loop_rows(scene.lead)
    network_admin = await world.user(scene.org, "net@trust.example", Role.ORG_ADMIN)
    actor = await actor_for(network_admin, scene.org.id)
    network = await networks.create_network(actor, {"name": "Yorkshire"})
    actor = await actor_for(network_admin, scene.org.id)
    _, report = await reports.network_report(actor, network.id, PERIOD)
    assert report.surveys["teams"] == [] and report.surveys["total"]["answers"] == 20
    assert report.actions["teams"] == [] and report.actions["total"]["all"] == 7
    assert report.standards == []
