"""Feedback champions, a team's new feedback and its themes, "You said, we did" actions and the
public board, through the pages people use."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pytest

from coprod.models import AuditEvent, Role, Team, User
from coprod.models.feedback import (
    ActionResponse,
    ActionStatus,
    FeedbackAction,
    FeedbackTheme,
    ResponseTheme,
    SurveyResponse,
)
from coprod.services import actions, projects
from coprod.services.auth import actor_for
from tests import feedback_rows
from tests.conftest import sign_in
from tests.test_bookings import person

ADMIN, LEAD = "admin@trust.example", "lead@trust.example"
CHAMPION, REPORTER = "champion@trust.example", "reporter@trust.example"
ELSEWHERE = "lead@elsewhere.example"


@dataclass
class Place:
    org: Any
    team: Team
    other_team: Team
    far_team: Team  # another organisation's
    lead: Any
    champion: Any
    reporter: Any
    far_lead: Any


@pytest.fixture
async def place(world: Any) -> Place:
    return await make_place(world)


async def make_place(world: Any) -> Place:
    """An organisation with an administrator, a lead, a member of staff to be champion, a
    reporter and two teams; and another organisation with a team and a lead."""
    org = await world.org()
    await world.user(org, ADMIN, Role.ORG_ADMIN)
    lead = await world.user(org, LEAD, Role.INVOLVEMENT_LEAD)
    champion = await world.user(org, CHAMPION, Role.FINANCE_OFFICER)
    reporter = await world.user(org, REPORTER, Role.REPORTER)
    far = await world.org("Elsewhere NHS Trust")
    far_lead = await world.user(far, ELSEWHERE, Role.INVOLVEMENT_LEAD)
    team = await Team.create(organisation=org, name="Crisis team")
    other = await Team.create(organisation=org, name="Memory clinic")
    far_team = await Team.create(organisation=far, name="Far team")
    return Place(
        org,
        team,
        other,
        far_team,
        await actor_for(lead, org.id),
        champion,
        reporter,
        await actor_for(far_lead, far.id),
    )


async def choose_champion(client: Any, team: Team, user_id: Any) -> Any:
    return await client.post_form(
        "/admin/teams", {"champion_team_id": team.id, "champion_id": user_id}
    )


def errors_of(page: str) -> list[str]:
    """The error summary's messages, in order."""
    summary = page.split("There is a problem")[1].split("</ul>")[0]
    return [html.unescape(m.strip()) for m in re.findall(r'<a href="#[^"]+">([^<]+)</a>', summary)]


# --------------------------------------------------------------------------- champions


async def test_an_administrator_chooses_a_champion_who_then_reaches_only_their_team(
    client, make_client, place
):
    await sign_in(client, ADMIN)
    teams_page = await client.get("/admin/teams")
    assert "Crisis team: feedback champion" in teams_page.text
    assert (await choose_champion(client, place.team, place.champion.id)).status_code == 303
    await place.team.refresh_from_db()
    assert place.team.feedback_champion_id == place.champion.id
    event = await AuditEvent.get(action="team.feedback_champion")
    assert event.after == {"feedback_champion_id": place.champion.id}

    champion = make_client()
    await sign_in(champion, CHAMPION)
    home = await champion.get("/")
    assert f'href="/teams/{place.team.id}/feedback/new">0 new feedback' in home.text
    assert (await champion.get(f"/teams/{place.team.id}/feedback/new")).status_code == 200
    assert (await champion.get(f"/teams/{place.team.id}/actions")).status_code == 200
    assert (await champion.get(f"/teams/{place.other_team.id}/feedback/new")).status_code == 403
    assert (await champion.get(f"/teams/{place.other_team.id}/actions")).status_code == 403
    assert (await champion.get(f"/teams/{place.far_team.id}/feedback/new")).status_code == 404
    # A champion is not an administrator: the teams page is not theirs.
    assert (await champion.get("/admin/teams")).status_code == 403

    reporter = make_client()
    await sign_in(reporter, REPORTER)
    assert (await reporter.get(f"/teams/{place.team.id}/feedback/new")).status_code == 403
    assert (await reporter.get(f"/teams/{place.team.id}/actions")).status_code == 403

    # Nobody: the champion loses the team.
    assert (await choose_champion(client, place.team, "")).status_code == 303
    assert (await champion.get(f"/teams/{place.team.id}/feedback/new")).status_code == 403


async def test_a_lead_chooses_champions_but_changes_nothing_else_about_teams(client, place):
    await sign_in(client, LEAD)
    page = await client.get("/admin/teams")
    assert page.status_code == 200
    assert "Add a team or service" not in page.text
    assert "cost centre" not in page.text.lower()
    assert (await choose_champion(client, place.team, place.reporter.id)).status_code == 303
    refused = await client.post_form("/admin/teams", {"name": "New team"})
    assert refused.status_code == 403
    assert not await Team.filter(name="New team").exists()


async def test_a_champion_must_be_a_member_of_staff_here(client, world, place):
    far_lead = await world.user(await world.org("Third Trust"), "x@third.example", Role.ORG_ADMIN)
    rep = await person(place.lead, "Ada Lovelace")
    await sign_in(client, ADMIN)
    for nobody in (far_lead.id, rep.user_id or 999999, "not a number"):
        refused = await choose_champion(client, place.team, nobody)
        assert refused.status_code == 422
        assert "Select the feedback champion from the list of staff" in refused.text
    await place.team.refresh_from_db()
    assert place.team.feedback_champion_id is None


async def test_other_staff_cannot_choose_a_champion(client, place):
    await sign_in(client, REPORTER)
    assert (await client.get("/admin/teams")).status_code == 403


# --------------------------------------------------------------------------- new feedback


async def champion_client(client: Any, place: Place) -> Any:
    await feedback_rows.make_champion(place.lead, place.team.id, place.champion.id)
    await sign_in(client, CHAMPION)
    return client


async def test_new_feedback_shows_answers_marks_paper_and_hides_contact_details(client, place):
    survey = await feedback_rows.survey(place.lead, place.team.id)
    older = await feedback_rows.response(place.lead, survey, "The waiting room is cold")
    await feedback_rows.response(
        place.lead, survey, "Nobody called me back", paper=True, rating=2, contact="Priya Private"
    )
    other = await feedback_rows.survey(place.lead, place.other_team.id)
    await feedback_rows.response(place.lead, other, "Another team's words")
    await champion_client(client, place)

    home = await client.get("/")
    assert f'href="/teams/{place.team.id}/feedback/new">2 new feedback' in home.text
    page = await client.get(f"/teams/{place.team.id}/feedback/new")
    text = page.text
    assert text.index("Nobody called me back") < text.index("The waiting room is cold")
    assert "2 out of 5" in text and "What could we do better?" in text
    assert text.count(">Paper<") == 1
    assert "Another team&#39;s words" not in text and "Another team's words" not in text
    assert "Priya Private" not in text and "07700 900555" not in text

    token = await client.csrf(f"/teams/{place.team.id}/feedback/new")
    nothing = await client.http.post(
        f"/teams/{place.team.id}/feedback/new", data={"csrf_token": token, "do": "read"}
    )
    assert nothing.status_code == 422
    assert "Select at least one piece of feedback" in nothing.text

    read = await client.http.post(
        f"/teams/{place.team.id}/feedback/new",
        data={"csrf_token": token, "do": "read", "response_ids": [str(older.id)]},
    )
    assert read.status_code == 303
    await older.refresh_from_db()
    assert older.reviewed_at is not None and older.reviewed_by_id == place.champion.id
    after = await client.get(f"/teams/{place.team.id}/feedback/new")
    assert "The waiting room is cold" not in after.text
    assert "Nobody called me back" in after.text
    assert await AuditEvent.filter(action="survey_response.read").count() == 1

    # Another organisation's response, or another team's, cannot be marked from here.
    far_survey = await feedback_rows.survey(place.far_lead, place.far_team.id)
    far = await feedback_rows.response(place.far_lead, far_survey, "Far away")
    refused = await client.http.post(
        f"/teams/{place.team.id}/feedback/new",
        data={"csrf_token": token, "do": "read", "response_ids": [str(far.id)]},
    )
    assert refused.status_code == 404
    await far.refresh_from_db()
    assert far.reviewed_at is None


async def test_tagging_themes_chooses_existing_ones_or_adds_one(client, place):
    survey = await feedback_rows.survey(place.lead, place.team.id)
    said = await feedback_rows.response(place.lead, survey, "It took weeks to hear back")
    waiting = await actions.add_theme(place.lead, {"name": "Waiting times"})
    await champion_client(client, place)
    url = f"/teams/{place.team.id}/feedback/new"
    token = await client.csrf(url)

    tagged = await client.http.post(
        url,
        data={
            "csrf_token": token,
            "do": "tag",
            "response_id": str(said.id),
            "theme_ids": [str(waiting.id)],
            "new_theme": "  Being  kept informed ",
        },
    )
    assert tagged.status_code == 303
    names = await ResponseTheme.filter(response=said).values_list("theme__name", flat=True)
    assert sorted(names) == ["Being kept informed", "Waiting times"]
    # The same name in another case is the same theme.
    again = await client.http.post(
        url,
        data={
            "csrf_token": token,
            "do": "tag",
            "response_id": str(said.id),
            "new_theme": "waiting TIMES",
        },
    )
    assert again.status_code == 303
    assert await FeedbackTheme.filter(organisation_id=place.org.id).count() == 2
    assert await ResponseTheme.filter(response=said).values_list("theme_id", flat=True) == [
        waiting.id
    ]
    page = await client.get(url)
    assert "Waiting times</strong>" in page.text

    too_long = await client.http.post(
        url,
        data={
            "csrf_token": token,
            "do": "tag",
            "response_id": str(said.id),
            "new_theme": "x" * 101,
        },
    )
    assert too_long.status_code == 422
    assert "The theme must be 100 characters or fewer" in too_long.text


# --------------------------------------------------------------------------- actions


async def test_feedback_becomes_an_action_with_the_form_filled_in(client, place):
    survey = await feedback_rows.survey(place.lead, place.team.id)
    cold = await feedback_rows.response(place.lead, survey, "The waiting room is cold")
    dull = await feedback_rows.response(place.lead, survey, "There is nothing to read")
    await champion_client(client, place)
    url = f"/teams/{place.team.id}/feedback/new"
    token = await client.csrf(url)
    chosen = await client.http.post(
        url,
        data={"csrf_token": token, "do": "act", "response_ids": [str(cold.id), str(dull.id)]},
    )
    assert chosen.status_code == 303
    form_url = chosen.headers["location"]
    assert form_url.startswith(f"/teams/{place.team.id}/actions/new?")
    form = await client.get(form_url)
    assert "The waiting room is cold" in form.text and "There is nothing to read" in form.text
    assert form.text.count('name="response_ids"') == 2

    saved = await client.post_form(
        form_url,
        {
            "you_said": "The waiting room is cold and there is nothing to read",
            "we_did": "We fixed the heating and put out books",
            "owner_id": str(place.champion.id),
            "status": "in_progress",
            "on_board": "yes",
            "response_ids": [str(cold.id), str(dull.id)],
        },
    )
    assert saved.status_code == 303, saved.text
    action = await FeedbackAction.get(team=place.team)
    assert action.status is ActionStatus.IN_PROGRESS and action.owner_id == place.champion.id
    linked = await ActionResponse.filter(action=action).values_list("response_id", flat=True)
    assert sorted(linked) == sorted([cold.id, dull.id])
    assert await AuditEvent.filter(action="feedback_action.create").count() == 1
    listed = await client.get(f"/teams/{place.team.id}/actions?status=in_progress")
    assert "We fixed the heating" in listed.text
    assert (
        "We fixed the heating"
        not in (await client.get(f"/teams/{place.team.id}/actions?status=done")).text
    )


async def test_an_action_is_checked_field_by_field_and_nothing_is_half_saved(client, place):
    rep = await person(place.lead, "Grace Hopper")
    await champion_client(client, place)
    url = f"/teams/{place.team.id}/actions/new"
    refused = await client.post_form(url, {"status": "not_possible", "on_board": "yes"})
    assert refused.status_code == 422
    assert errors_of(refused.text) == [
        "Enter what people said",
        "Enter what the team is doing",
        "Select who owns this action",
        "Say why this is not possible: the board shows it",
    ]
    personal = await client.post_form(
        url,
        {
            "you_said": f"{rep.full_name} said the room was cold",
            "we_did": "Ring 07700 900982 or write to help@trust.example",
            "owner_id": str(place.champion.id),
            "status": "planned",
            "on_board": "yes",
        },
    )
    assert personal.status_code == 422
    assert errors_of(personal.text) == [
        "Take out a representative's name. This is shown in public, so it must not say who "
        "anyone is or how to reach them",
        "Take out an email address and a phone number. This is shown in public, so it must not "
        "say who anyone is or how to reach them",
    ]
    assert not await FeedbackAction.exists()


async def test_links_must_be_this_organisations_and_this_teams(client, place):
    elsewhere = await feedback_rows.survey(place.lead, place.other_team.id)
    other_teams = await feedback_rows.response(place.lead, elsewhere, "Not ours")
    far_project = await projects.create_project(
        await actor_for(
            await User.get(email=ELSEWHERE),
            place.far_team.organisation_id,  # type: ignore[attr-defined]
        ),
        {"name": "Far project"},
    )
    await champion_client(client, place)
    url = f"/teams/{place.team.id}/actions/new"
    base = {
        "you_said": "Cold room",
        "we_did": "Heating fixed",
        "owner_id": str(place.champion.id),
        "status": "planned",
        "on_board": "yes",
    }
    wrong_team = await client.post_form(url, {**base, "response_ids": [str(other_teams.id)]})
    assert wrong_team.status_code == 422
    assert "Choose only feedback given to this team" in wrong_team.text
    far = await client.post_form(url, {**base, "project_ids": [str(far_project.id)]})
    assert far.status_code == 404
    assert not await FeedbackAction.exists()


async def test_changing_an_action_and_the_not_possible_reason(client, place):
    await champion_client(client, place)
    made = await client.post_form(
        f"/teams/{place.team.id}/actions/new",
        {
            "you_said": "Parking is hard",
            "we_did": "We asked the council for more spaces",
            "owner_id": str(place.champion.id),
            "status": "planned",
            "on_board": "yes",
        },
    )
    action_url = made.headers["location"].split("?")[0]
    page = await client.get(action_url)
    assert "Parking is hard" in page.text
    fields = {
        "you_said": "Parking is hard",
        "we_did": "We asked the council for more spaces",
        "owner_id": str(place.champion.id),
        "status": "not_possible",
        "on_board": "yes",
    }
    refused = await client.post_form(action_url, fields)
    assert refused.status_code == 422
    assert "Say why this is not possible: the board shows it" in refused.text
    saved = await client.post_form(
        action_url, {**fields, "not_possible_reason": "The car park belongs to the council"}
    )
    assert saved.status_code == 303
    action = await FeedbackAction.get()
    assert action.status is ActionStatus.NOT_POSSIBLE
    assert action.not_possible_reason == "The car park belongs to the council"

    reporter = await sign_in_as_reporter(client)
    assert (await reporter.get(action_url)).status_code == 403


async def sign_in_as_reporter(client: Any) -> Any:
    await sign_in(client, REPORTER)
    return client


# --------------------------------------------------------------------------- the board


async def test_the_public_board_shows_words_statuses_and_months_only(client, make_client, place):
    rep = await person(place.lead, "Ada Lovelace")
    activity = await feedback_rows.attended_activity(
        place.lead, [rep], title="Ada's private group", team_id=place.team.id
    )
    await champion_client(client, place)
    url = f"/teams/{place.team.id}/actions/new"
    common = {"owner_id": str(place.champion.id), "on_board": "yes"}
    for status, said, did, extra in (
        ("done", "The room is cold", "We fixed the heating", {"activity_ids": [str(activity.id)]}),
        ("in_progress", "Letters are confusing", "We are rewriting them", {}),
        ("planned", "No water", "We will add a water cooler", {}),
        (
            "not_possible",
            "Open at night",
            "We looked at opening late",
            {"not_possible_reason": "We do not have the staff at night"},
        ),
    ):
        made = await client.post_form(
            url, {**common, "status": status, "you_said": said, "we_did": did, **extra}
        )
        assert made.status_code == 303, made.text
    hidden = await client.post_form(
        url,
        {
            **common,
            "status": "planned",
            "you_said": "Secret plan",
            "we_did": "Not yet",
            "on_board": "no",
        },
    )
    assert hidden.status_code == 303

    anyone = make_client()
    board = await anyone.get(f"/you-said-we-did/{place.org.slug}/{place.team.id}")
    assert board.status_code == 200
    text = board.text
    for words in (
        "The room is cold",
        "We fixed the heating",
        "We are rewriting them",
        "We will add a water cooler",
        "We do not have the staff at night",
    ):
        assert words in text
    assert text.index("We fixed the heating") < text.index("We are rewriting them")
    assert "Done in " in text
    assert "Secret plan" not in text
    for private in (
        "Ada Lovelace",
        "Ada&#39;s private group",
        "Ada's private group",
        place.champion.full_name,
        "@",
        "Champion",
    ):
        assert private not in text, private

    poster = await anyone.get(f"/you-said-we-did/{place.org.slug}/{place.team.id}/poster")
    assert poster.status_code == 200
    assert "We fixed the heating" in poster.text and "Secret plan" not in poster.text
    assert "Ada Lovelace" not in poster.text and place.champion.full_name not in poster.text

    assert (await anyone.get(f"/you-said-we-did/no-such-trust/{place.team.id}")).status_code == 404
    assert (await anyone.get(f"/you-said-we-did/{place.org.slug}/999999")).status_code == 404
    assert (
        await anyone.get(f"/you-said-we-did/{place.org.slug}/{place.far_team.id}")
    ).status_code == 404
    assert (
        await anyone.get(f"/you-said-we-did/{place.org.slug}/{place.far_team.id}/poster")
    ).status_code == 404


async def test_responses_outside_the_team_stay_unread(place):
    # A guard on the helper: responses carry their survey's team.
    survey = await feedback_rows.survey(place.lead, place.team.id)
    made = await feedback_rows.response(place.lead, survey, "Words")
    assert (await SurveyResponse.get(id=made.id)).team_id == place.team.id
