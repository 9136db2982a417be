"""Feedback surveys through the JSON API: the same rules and messages as the pages."""

from __future__ import annotations

import html
from typing import Any

from coprod.models import AuditEvent, Role, User
from coprod.models.feedback import Survey, SurveyQuestion, SurveyResponse
from coprod.services.auth import actor_for
from tests import feedback_rows
from tests.conftest import sign_in
from tests.test_representatives_api import errors_of
from tests.test_surveys import LEAD, answer, lead_with_team, open_it, start_survey

A = "/api/v1"


async def create(client: Any, **body: Any) -> Any:
    return await client.api("POST", f"{A}/surveys", body)


async def test_a_lead_builds_a_blank_survey_with_the_pages_rules_and_messages(client, world):
    team = await lead_with_team(world, client)
    for body in ({}, {"title": "x" * 201}):
        refused = await create(client, **body)
        assert refused.status_code == 422
        api_errors = errors_of(refused)
        page = await client.post_form("/surveys/new", body)
        page_text = html.unescape(page.text)
        assert page.status_code == 422
        for message in api_errors.values():
            assert message in page_text
    assert set(errors_of(await create(client))) == {"team_id", "audience", "stage", "title"}
    assert await Survey.all().count() == 0

    made = await create(
        client, team_id=team.id, audience="patients", stage="start", title="First days"
    )
    assert made.status_code == 201, made.text
    survey = made.json()
    assert survey["status"] == "draft" and survey["questions"] == []
    assert survey["url"].endswith(f"/s/{(await Survey.get(id=survey['id'])).link_token}")
    duplicate = await create(
        client, team_id=team.id, audience="patients", stage="start", title="First days"
    )
    assert errors_of(duplicate) == {"title": "This team already has a survey with this title"}

    url = f"{A}/surveys/{survey['id']}/questions"
    bad = await client.api("POST", url, {"kind": "choice", "prompt": "Pick", "choices": ["Yes"]})
    assert bad.status_code == 422
    assert errors_of(bad)["choices"] == "Enter at least 2 choices, one on each line"
    same = await client.api(
        "POST", url, {"kind": "choice", "prompt": "Pick", "choices": ["A", "a"]}
    )
    assert errors_of(same) == {"choices": "Each choice must be different"}
    assert await SurveyQuestion.all().count() == 0
    first = (await client.api("POST", url, {"kind": "rating", "prompt": "How was it?"})).json()
    second = (
        await client.api(
            "POST", url, {"kind": "choice", "prompt": "Again?", "choices": ["Yes", "No"]}
        )
    ).json()
    changed = await client.api(
        "PATCH", f"{url}/{second['id']}", {"prompt": "Would you come again?"}
    )
    assert changed.json()["choices"] == ["Yes", "No"]
    order = f"{A}/surveys/{survey['id']}/question-order"
    wrong = await client.api("PUT", order, {"order": [first["id"]]})
    assert errors_of(wrong) == {"order": "List each of the survey's questions once"}
    moved = await client.api("PUT", order, {"order": [second["id"], first["id"]]})
    assert [q["id"] for q in moved.json()["questions"]] == [second["id"], first["id"]]

    opened = await client.api("POST", f"{A}/surveys/{survey['id']}/open", {})
    assert opened.json()["status"] == "open"
    fixed = await client.api("DELETE", f"{url}/{first['id']}")
    assert fixed.status_code == 409 and "cannot change" in fixed.json()["errors"][0]["message"]
    retitled = await client.api(
        "PATCH", f"{A}/surveys/{survey['id']}", {"title": "Your first days"}
    )
    assert retitled.json()["title"] == "Your first days"
    actions = set(
        await AuditEvent.filter(entity_type__in=["Survey", "SurveyQuestion"]).values_list(
            "action", flat=True
        )
    )
    assert actions >= {
        "survey.create",
        "survey.question.add",
        "survey.question.change",
        "survey.reorder",
        "survey.open",
        "survey.update",
    }


async def test_a_template_fills_in_the_survey(client, world):
    team = await lead_with_team(world, client)
    made = await create(client, team_id=team.id, template="patients_end")
    assert made.status_code == 201
    body = made.json()
    assert body["audience"] == "patients" and body["stage"] == "end"
    assert len(body["questions"]) == 6 and body["template"] == "patients_end"
    unknown = await create(client, team_id=team.id, template="nope")
    assert unknown.status_code == 422 and "template" in errors_of(unknown)


async def test_responses_paper_answers_and_contact_details(client, make_client, world):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="carers")
    await open_it(client, survey)
    questions = await SurveyQuestion.filter(survey=survey).order_by("position")
    await answer(
        make_client(),
        survey,
        {f"q{questions[0].id}": "5", "contact_name": "Dana Example", "contact_how": "dana@x.org"},
    )
    paper = await client.api(
        "POST",
        f"{A}/surveys/{survey.id}/paper-responses",
        {
            "received_on": "2026-05-01",
            "stage": "start",
            "answers": [
                {"question_id": questions[0].id, "answer": 3},
                {"question_id": questions[1].id, "answer": "Maybe"},
            ],
        },
    )
    assert paper.status_code == 422
    assert errors_of(paper) == {f"q{questions[1].id}": "Choose one of the answers"}
    paper = await client.api(
        "POST",
        f"{A}/surveys/{survey.id}/paper-responses",
        {
            "received_on": "2026-05-01",
            "stage": "start",
            "answers": [{"question_id": questions[0].id, "answer": 3}],
        },
    )
    assert paper.status_code == 201, paper.text
    assert paper.json()["source"] == "paper" and paper.json()["entered_by_id"]

    listed = (await client.get(f"{A}/surveys/{survey.id}/responses")).json()["items"]
    assert {r["source"] for r in listed} == {"web", "paper"}
    assert all(r["contact"] is None for r in listed)
    assert [r["left_contact_details"] for r in listed].count(True) == 1
    assert await AuditEvent.filter(action="survey.contact_details.view").count() == 0
    asked = (await client.get(f"{A}/surveys/{survey.id}/responses?contact=true")).json()
    assert {"name": "Dana Example", "how": "dana@x.org"} in [r["contact"] for r in asked["items"]]
    assert await AuditEvent.filter(action="survey.contact_details.view").count() == 1

    outsider = make_client()
    await lead_with_team(world, outsider, "Southshire NHS Trust")
    for url in (
        f"{A}/surveys/{survey.id}",
        f"{A}/surveys/{survey.id}/responses?contact=true",
        f"{A}/surveys/{survey.id}/results",
        f"{A}/teams/{team.id}/feedback-targets",
    ):
        assert (await outsider.get(url)).status_code == 404, url
    assert (await outsider.api("POST", f"{A}/surveys/{survey.id}/close", {})).status_code == 404


async def test_a_champion_reads_and_types_in_paper_but_does_not_build(client, make_client, world):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="patients_start")
    await open_it(client, survey)
    org = await team.organisation
    champion = await world.user(org, "champ@trust.example", Role.REPORTER)
    lead = await actor_for(await User.get(email=LEAD), org.id)
    await feedback_rows.make_champion(lead, team.id, champion.id)
    champ = make_client()
    await sign_in(champ, "champ@trust.example")
    assert (await champ.get(f"{A}/surveys")).json()["items"][0]["id"] == survey.id
    q = await SurveyQuestion.get(survey=survey, position=1)
    typed = await champ.api(
        "POST",
        f"{A}/surveys/{survey.id}/paper-responses",
        {"received_on": "2026-05-01", "answers": [{"question_id": q.id, "answer": 2}]},
    )
    assert typed.status_code == 201
    assert (await champ.api("POST", f"{A}/surveys/{survey.id}/close", {})).status_code == 403
    made = await champ.api("POST", f"{A}/surveys", {"team_id": team.id, "template": "carers"})
    assert made.status_code == 403
    assert (await champ.get(f"{A}/teams/{team.id}/feedback-targets")).status_code == 200
    assert await SurveyResponse.filter(source="paper").count() == 1
