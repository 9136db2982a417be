"""Feedback surveys through the pages: building (blank and from a template), answering by the
public link, paper answers, results with small counts hidden, targets per period, the QR code
and the printed versions, and how plainly the public pages read."""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import segno
import textstat

from coprod import clock
from coprod.config import get_settings
from coprod.domain import surveys as rules
from coprod.models import AuditEvent, Role, Team, User
from coprod.models.feedback import Survey, SurveyQuestion, SurveyResponse
from coprod.services import people
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from tests import feedback_rows
from tests.conftest import sign_in

LEAD = "lead@trust.example"


async def lead_with_team(world: Any, client: Any, org_name: str = "Northshire NHS Trust") -> Any:
    org = await world.org(org_name)
    email = LEAD if org_name == "Northshire NHS Trust" else f"lead@{org.slug}.example"
    await world.user(org, email, Role.INVOLVEMENT_LEAD)
    team = await people.create_team(Actor.system(via="cli"), org, "Crisis team")
    await sign_in(client, email)
    return team


async def start_survey(client: Any, team: Team, **form: str) -> Survey:
    data = {"team_id": str(team.id), **form}
    response = await client.post_form("/surveys/new", data)
    assert response.status_code == 303, response.text
    return await Survey.get(id=int(response.headers["location"].rsplit("/", 1)[-1]))


async def open_it(client: Any, survey: Survey) -> None:
    response = await client.post_form(
        f"/surveys/{survey.id}/open", {}, token_from=f"/surveys/{survey.id}"
    )
    assert response.status_code == 303, response.text


async def answer(client: Any, survey: Survey, data: dict[str, str]) -> Any:
    return await client.post_form(f"/s/{survey.link_token}", data)


def field_name(q: SurveyQuestion) -> str:
    return f"q{q.id}"


def visible_text(page: str) -> str:
    """The words a person reads in the page's main content."""
    main = page.split('id="maincontent"', 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style|svg)[^>]*>.*?</\1>", " ", main, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", main.split(">", 1)[1]))


# ---------------------------------------------------------------------------- building


async def test_a_lead_builds_a_survey_from_a_template_and_opens_it(client, world):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="carers")
    assert survey.title == rules.TEMPLATES["carers"].title
    assert survey.audience.value == "carers" and survey.stage.value == "ask"
    questions = await SurveyQuestion.filter(survey=survey).order_by("position")
    assert [q.prompt for q in questions] == [q.prompt for q in rules.TEMPLATES["carers"].questions]
    builder = await client.get(f"/surveys/{survey.id}")
    assert builder.status_code == 200 and "Open the survey" in builder.text
    assert await AuditEvent.filter(action="survey.create").count() == 1

    # Reorder: the last question up one place.
    last = questions[-1]
    moved = await client.post_form(
        f"/surveys/{survey.id}/questions/{last.id}/move",
        {"direction": "up"},
        token_from=f"/surveys/{survey.id}",
    )
    assert moved.status_code == 303
    order = [q.id for q in await SurveyQuestion.filter(survey=survey).order_by("position")]
    assert order[-2:] == [last.id, questions[-2].id]

    await open_it(client, survey)
    await survey.refresh_from_db()
    assert survey.status.value == "open"
    # Once open, the questions are fixed.
    refused = await client.post_form(
        f"/surveys/{survey.id}/questions",
        {"kind": "text", "prompt": "Anything else?"},
        token_from=f"/surveys/{survey.id}",
    )
    assert refused.status_code == 422
    assert "cannot change once the survey has opened" in html.unescape(refused.text)
    changed = await client.post_form(
        f"/surveys/{survey.id}/questions/{last.id}",
        {"kind": "text", "prompt": "Something else entirely"},
        token_from=f"/surveys/{survey.id}/questions/{last.id}",
    )
    assert changed.status_code == 422
    assert (await SurveyQuestion.get(id=last.id)).prompt == last.prompt


async def test_a_blank_survey_is_checked_field_by_field_and_nothing_is_half_saved(client, world):
    team = await lead_with_team(world, client)
    refused = await client.post_form("/surveys/new", {"team_id": "", "title": "x" * 201})
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    for message in (
        "Select a team in your organisation",
        "Select who the survey is for",
        "Select when people are asked",
        "A title must be 200 characters or fewer",
    ):
        assert message in text
    assert await Survey.all().count() == 0

    survey = await start_survey(
        client, team, audience="patients", stage="start", title="First days"
    )
    builder = f"/surveys/{survey.id}"
    bad = await client.post_form(
        f"{builder}/questions",
        {"kind": "choice", "prompt": "", "choices": "Yes"},
        token_from=builder,
    )
    assert bad.status_code == 422
    assert "Enter the question" in bad.text and "Enter at least 2 choices" in bad.text
    assert await SurveyQuestion.filter(survey=survey).count() == 0
    too_many = await client.post_form(
        f"{builder}/questions",
        {"kind": "choice", "prompt": "Pick", "choices": "\n".join(str(n) for n in range(9))},
        token_from=builder,
    )
    assert "Enter at most 8 choices" in too_many.text
    # An empty survey cannot open.
    opened = await client.post_form(f"{builder}/open", {}, token_from=builder)
    assert opened.status_code == 422 and "Add at least one question" in opened.text

    for n in range(rules.MAX_QUESTIONS):
        added = await client.post_form(
            f"{builder}/questions", {"kind": "rating", "prompt": f"Q{n}"}, token_from=builder
        )
        assert added.status_code == 303
    full = await client.post_form(
        f"{builder}/questions", {"kind": "text", "prompt": "One more"}, token_from=builder
    )
    assert full.status_code == 422 and "at most 12 questions" in full.text
    q = await SurveyQuestion.get(survey=survey, position=3)
    removed = await client.post_form(f"{builder}/questions/{q.id}/remove", {}, token_from=builder)
    assert removed.status_code == 303
    positions = [q.position for q in await SurveyQuestion.filter(survey=survey)]
    assert sorted(positions) == list(range(1, rules.MAX_QUESTIONS))


async def test_a_champion_sees_their_team_but_cannot_build_and_others_see_nothing(
    client, make_client, world
):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="patients_start")
    org = await team.organisation
    champion = await world.user(org, "champ@trust.example", Role.REPORTER)
    other = await world.user(org, "other@trust.example", Role.REPORTER)
    lead = await actor_for(await User.get(email=LEAD), org.id)
    await feedback_rows.make_champion(lead, team.id, champion.id)
    champ_client, other_client = make_client(), make_client()
    await sign_in(champ_client, "champ@trust.example")
    await sign_in(other_client, "other@trust.example")
    assert (await champ_client.get("/feedback")).status_code == 200
    assert (await champ_client.get(f"/surveys/{survey.id}/results")).status_code == 200
    assert (await champ_client.get(f"/teams/{team.id}/feedback")).status_code == 200
    refused = await champ_client.post_form(
        f"/surveys/{survey.id}/open", {}, token_from=f"/surveys/{survey.id}"
    )
    assert refused.status_code == 403
    assert (await other_client.get("/feedback")).status_code == 403
    assert (await other_client.get(f"/surveys/{survey.id}")).status_code == 403
    assert other.id


# ---------------------------------------------------------------------------- answering


async def test_the_public_link_answers_only_while_open_and_keeps_contact_details_encrypted(
    client, make_client, world
):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="carers")
    public = make_client()
    draft = await public.get(f"/s/{survey.link_token}")
    assert draft.status_code == 404 and "not open" in draft.text
    assert survey.title not in draft.text and "Crisis team" not in draft.text
    assert (await public.get("/s/no-such-link")).status_code == 404

    await open_it(client, survey)
    form = await public.get(f"/s/{survey.link_token}")
    assert form.status_code == 200 and survey.title in form.text
    assert "Are you just starting with the team, or finishing?" in form.text
    questions = await SurveyQuestion.filter(survey=survey).order_by("position")
    empty = await answer(public, survey, {})
    assert empty.status_code == 422 and "Answer at least one question" in empty.text
    wrong = await answer(public, survey, {field_name(questions[0]): "7", "stage": "middle"})
    assert wrong.status_code == 422
    assert "Choose a score from 1 to 5" in wrong.text and "Choose just starting" in wrong.text
    assert await SurveyResponse.all().count() == 0

    secret_name = "Bernadette Quistorff"
    sent = await answer(
        public,
        survey,
        {
            field_name(questions[0]): "4",
            field_name(questions[1]): "Yes",
            field_name(questions[-1]): "More evening calls please",
            "stage": "end",
            "contact_name": secret_name,
            "contact_how": "07700 900 111",
        },
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("/thanks")
    thanks = await public.get(sent.headers["location"])
    org = await team.organisation
    assert f"/you-said-we-did/{org.slug}/{team.id}" in thanks.text
    response = await SurveyResponse.get(survey=survey)
    assert response.source.value == "web" and response.stage.value == "end"
    assert response.contact_encrypted and secret_name not in response.contact_encrypted
    # Nowhere in the database in plain text, the audit log included.
    from tortoise import connections

    conn = connections.get("default")
    for table in ("survey_response", "survey_answer", "audit_event"):
        _, rows = await conn.execute_query(f"SELECT * FROM {table}")
        assert secret_name not in repr(rows), table

    # The lead sees them on purpose, and that look is audited; another organisation's lead
    # finds nothing.
    details = await client.get(f"/surveys/{survey.id}/contact-details")
    assert secret_name in details.text
    assert await AuditEvent.filter(action="survey.contact_details.view").count() == 1
    outsider = make_client()
    await lead_with_team(world, outsider, "Southshire NHS Trust")
    for url in (
        f"/surveys/{survey.id}",
        f"/surveys/{survey.id}/contact-details",
        f"/surveys/{survey.id}/results",
        f"/teams/{team.id}/feedback",
    ):
        assert (await outsider.get(url)).status_code == 404, url

    await client.post_form(f"/surveys/{survey.id}/close", {}, token_from=f"/surveys/{survey.id}")
    # A form opened while it was open, sent after it closed.
    closed = await public.post_form(
        f"/s/{survey.link_token}", {field_name(questions[0]): "5"}, token_from="/sign-in"
    )
    assert closed.status_code == 404 and "not open" in closed.text
    assert (await public.get(f"/s/{survey.link_token}")).status_code == 404
    assert await SurveyResponse.all().count() == 1


async def test_a_public_answer_needs_the_forms_csrf_token(client, make_client, world):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="patients_start")
    await open_it(client, survey)
    q = await SurveyQuestion.filter(survey=survey).first()
    assert q is not None
    forged = await make_client().http.post(f"/s/{survey.link_token}", data={f"q{q.id}": "3"})
    assert forged.status_code == 403
    assert await SurveyResponse.all().count() == 0


async def test_paper_answers_are_typed_in_and_shown_as_paper(client, world):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="patients_end")
    questions = await SurveyQuestion.filter(survey=survey).order_by("position")
    url = f"/surveys/{survey.id}/paper-answers/new"
    draft = await client.post_form(
        url, {f"q{questions[0].id}": "3"}, token_from=f"/surveys/{survey.id}"
    )
    assert draft.status_code == 422 and "Open the survey" in draft.text
    await open_it(client, survey)
    tomorrow = clock.today() + dt.timedelta(days=1)
    late = await client.post_form(
        url,
        {
            "received_on[day]": str(tomorrow.day),
            "received_on[month]": str(tomorrow.month),
            "received_on[year]": str(tomorrow.year),
        },
    )
    assert late.status_code == 422
    assert (
        "must be today or in the past" in late.text and "Answer at least one question" in late.text
    )
    on_paper = dt.date(clock.today().year - 1, 6, 2)
    for n in range(5):
        saved = await client.post_form(
            url,
            {
                "received_on[day]": str(on_paper.day),
                "received_on[month]": str(on_paper.month),
                "received_on[year]": str(on_paper.year),
                f"q{questions[0].id}": str(5 - n % 2),
                f"q{questions[4].id}": f"Kind nurses {n}",
            },
        )
        assert saved.status_code == 303, saved.text
    stored = await SurveyResponse.filter(survey=survey)
    assert {r.source.value for r in stored} == {"paper"}
    assert {r.received_on for r in stored} == {on_paper}
    assert all(r.entered_by_id for r in stored)
    results = await client.get(f"/surveys/{survey.id}/results")
    assert "Kind nurses 0" in results.text
    assert results.text.count('nhsuk-tag--grey">Paper') == 5
    assert await AuditEvent.filter(action="survey.paper_answer").count() == 5


# ---------------------------------------------------------------------------- suppression


def counts_in(page: str, table_id: str) -> dict[str, str]:
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<td class="nhsuk-table__cell[^"]*">([^<]*)</td>', table)
    return dict(zip(cells[::2], cells[1::2], strict=True))


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # Fewer than 5 answers: nothing per question.
        (["Yes"] * 4, None),
        # 5 of one choice: shown; the zeros are safe.
        (["Yes"] * 5, {"Yes": "5", "No": "0", "Not sure": "0"}),
        # 6 yes, 2 no: 2 is hidden, and the 6 with it, as the total would give 2 away.
        (
            ["Yes"] * 6 + ["No"] * 2,
            {"Yes": "fewer than 5", "No": "fewer than 5", "Not sure": "0"},
        ),
        # Two small counts hide each other; the large one stays.
        (
            ["Yes"] * 7 + ["No"] * 2 + ["Not sure"] * 3,
            {"Yes": "7", "No": "fewer than 5", "Not sure": "fewer than 5"},
        ),
        (
            ["Yes"] * 5 + ["No"] * 6,
            {"Yes": "5", "No": "6", "Not sure": "0"},
        ),
    ],
)
async def test_results_hide_small_counts_and_what_the_total_would_give_away(
    client, make_client, world, answers, expected
):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="patients_start")
    await open_it(client, survey)
    choice_q = await SurveyQuestion.get(survey=survey, position=2)
    public = make_client()
    for value in answers:
        assert (await answer(public, survey, {f"q{choice_q.id}": value})).status_code == 303
    page = await client.get(f"/surveys/{survey.id}/results")
    assert f"{len(answers)} answers" in page.text
    api = (await client.get(f"/api/v1/surveys/{survey.id}/results")).json()
    if expected is None:
        assert 'id="too-few"' in page.text and 'id="rows-2"' not in page.text
        assert api["shown"] is False and all(q["rows"] == [] for q in api["questions"])
        return
    assert counts_in(page.text, "rows-2") == expected
    # A question nobody answered shows its zeros: no one can be picked out of none.
    assert counts_in(page.text, "rows-3") == {"Yes": "0", "No": "0", "Not sure": "0"}
    by_api = {r["label"]: r["count"] for r in api["questions"][1]["rows"]}
    assert by_api == {k: (None if v.startswith("fewer") else int(v)) for k, v in expected.items()}


async def test_an_average_score_is_not_shown_beside_hidden_score_counts(client, make_client, world):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="patients_start")
    await open_it(client, survey)
    rating = await SurveyQuestion.get(survey=survey, position=1)
    public = make_client()
    for score in ["4"] * 8 + ["1", "2"]:
        await answer(public, survey, {f"q{rating.id}": score})
    api = (await client.get(f"/api/v1/surveys/{survey.id}/results")).json()
    first = api["questions"][0]
    assert first["average"] is None  # with 1 and 2 hidden, an average would give them away
    assert first["answered"] == 10
    for score in ["5"] * 5:
        await answer(public, survey, {f"q{rating.id}": score})
    for score in ["1"] * 4 + ["2"] * 4:
        await answer(public, survey, {f"q{rating.id}": score})
    shown = (await client.get(f"/api/v1/surveys/{survey.id}/results")).json()["questions"][0]
    assert shown["average"] is not None
    page = await client.get(f"/surveys/{survey.id}/results")
    assert "Average score: " in page.text


# ---------------------------------------------------------------------------- targets


async def test_targets_count_patients_and_carers_by_period_and_stage(client, make_client, world):
    team = await lead_with_team(world, client)
    patients = await start_survey(client, team, template="patients_start")
    carers = await start_survey(client, team, template="carers")
    for s in (patients, carers):
        await open_it(client, s)
    public = make_client()
    p_q = await SurveyQuestion.get(survey=patients, position=1)
    c_q = await SurveyQuestion.get(survey=carers, position=1)
    for _ in range(3):
        await answer(public, patients, {f"q{p_q.id}": "4"})
    await answer(public, carers, {f"q{c_q.id}": "4", "stage": "start"})
    await answer(public, carers, {f"q{c_q.id}": "4", "stage": "end"})
    await answer(public, carers, {f"q{c_q.id}": "4"})
    # A paper form dated in last financial year counts there, not now.
    last_year = rules_year_before()
    await client.post_form(
        f"/surveys/{patients.id}/paper-answers/new",
        {
            "received_on[day]": str(last_year.day),
            "received_on[month]": str(last_year.month),
            "received_on[year]": str(last_year.year),
            f"q{p_q.id}": "2",
        },
    )
    page = await client.get(f"/teams/{team.id}/feedback")
    assert 'id="patients">3 of 10' in page.text and 'id="carers">3 of 10' in page.text
    assert "1 at the start, 1 at the end, 1 did not say" in page.text
    overview = await client.get("/feedback")
    assert f'id="patients-{team.id}">3 of 10' in overview.text
    year = last_year.year if last_year.month >= 4 else last_year.year - 1
    before = await client.get(f"/teams/{team.id}/feedback?period=year&year={year}")
    assert 'id="patients">1 of 10' in before.text and 'id="carers">0 of 10' in before.text
    api = await client.get(f"/api/v1/teams/{team.id}/feedback-targets")
    assert api.status_code == 200
    body = api.json()
    assert body["patients"] == {
        "total": 3,
        "target": 10,
        "met": False,
        "start": 3,
        "end": 0,
        "not_said": 0,
    }
    assert body["carers"]["start"] == 1 and body["carers"]["not_said"] == 1
    wrong = await client.get(f"/teams/{team.id}/feedback?period=quarter&quarter=5")
    assert wrong.status_code == 422 and "Select a quarter from 1 to 4" in wrong.text
    wrong_api = await client.get(
        f"/api/v1/teams/{team.id}/feedback-targets?period=quarter&quarter=5"
    )
    assert wrong_api.status_code == 422


def rules_year_before() -> dt.date:
    today = clock.today()
    return today.replace(year=today.year - 1, day=min(today.day, 28))


@pytest.mark.parametrize(
    ("rows", "patients", "carers"),
    [
        ([], (0, 0, 0, 0), (0, 0, 0, 0)),
        ([("patients", "start", 4), ("patients", "end", 7)], (11, 4, 7, 0), (0, 0, 0, 0)),
        ([("carers", None, 2), ("carers", "start", 1)], (0, 0, 0, 0), (3, 1, 0, 2)),
        ([("representatives", "end", 9)], (0, 0, 0, 0), (0, 0, 0, 0)),
    ],
)
def test_the_targets_rule(rows, patients, carers):
    found = rules.targets(rows)
    for progress, (total, start, end, not_said) in (
        (found.patients, patients),
        (found.carers, carers),
    ):
        assert (progress.total, progress.start, progress.end, progress.not_said) == (
            total,
            start,
            end,
            not_said,
        )
        assert progress.met == (total >= 10)


# ---------------------------------------------------------------------------- printing


def matrix_from_svg(svg: str) -> list[list[int]]:
    """Redraw the QR code from the SVG's path: segno draws each row's dark runs as `h` moves."""
    root = ET.fromstring(svg)
    path = next(e for e in root.iter() if e.tag.endswith("path"))
    moves = re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.attrib["d"])
    cells: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, a, b in moves:
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for dx in range(int(float(a))):
                cells.add((int(y - 0.5), int(x) + dx))
            x += float(a)
    size = max(max(r, c) for r, c in cells) + 1
    return [[1 if (r, c) in cells else 0 for c in range(size)] for r in range(size)]


async def test_the_qr_code_is_an_svg_of_the_surveys_public_link(client, world):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="patients_start")
    response = await client.get(f"/surveys/{survey.id}/qr.svg")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "image/svg+xml"
    )
    url = f"{get_settings().base_url}/s/{survey.link_token}"
    drawn = matrix_from_svg(response.text)
    expected = segno.make(url, error="m", micro=False)
    border = 4  # segno's quiet zone
    want = [[int(bool(v)) for v in row] for row in expected.matrix]
    got = [row[border : border + len(want)] for row in drawn[border : border + len(want)]]
    assert got == want
    poster = await client.get(f"/surveys/{survey.id}/poster")
    assert url in poster.text and "<svg" in poster.text
    assert f"<title>QR code. Scan it with your phone's camera to open the survey at {url}" in (
        html.unescape(poster.text)
    )


@pytest.mark.parametrize("kind", ["standard", "large-print", "easy-read"])
async def test_paper_prints_have_boxes_and_lines(client, world, kind):
    team = await lead_with_team(world, client)
    survey = await start_survey(client, team, template="carers")
    page = await client.get(f"/surveys/{survey.id}/paper?print={kind}")
    assert page.status_code == 200
    assert f"coprod-paper--{kind}" in page.text
    assert page.text.count("coprod-paper__box") >= 10 and "coprod-paper__lines" in page.text
    for q in rules.TEMPLATES["carers"].questions:
        assert html.escape(q.prompt, quote=True) in page.text or q.prompt in page.text


async def test_large_print_is_at_least_16_point(client):
    css = (await client.get("/static/coprod.css")).text
    sizes = re.findall(r"coprod-paper--large-print[^{]*\{[^}]*font-size:\s*(\d+)pt", css)
    assert sizes and all(int(s) >= 16 for s in sizes)


async def test_the_public_form_and_the_easy_read_print_read_at_about_age_nine(
    client, make_client, world
):
    team = await lead_with_team(world, client)
    for key in rules.TEMPLATES:
        survey = await start_survey(client, team, template=key)
        await open_it(client, survey)
        form = await make_client().get(f"/s/{survey.link_token}")
        grade = textstat.flesch_kincaid_grade(visible_text(form.text))
        assert grade <= 5, (key, grade)
        easy = await client.get(f"/surveys/{survey.id}/paper?print=easy-read")
        grade = textstat.flesch_kincaid_grade(visible_text(easy.text).split("Print:")[-1])
        assert grade <= 5, (key, grade)
    thanks = await make_client().get(f"/s/{survey.link_token}/thanks")
    assert textstat.flesch_kincaid_grade(visible_text(thanks.text)) <= 5


# ---------------------------------------------------------------------------- demo


async def test_the_demo_shows_progress_towards_the_targets(client):
    from coprod.demo import DEMO_ANSWERS, LEAD_EMAIL, seed_demo

    await seed_demo()
    await sign_in(client, LEAD_EMAIL, "demo-password-123")
    overview = await client.get("/feedback")
    assert overview.status_code == 200
    team = await Team.get(name="Crisis Resolution and Home Treatment Team")
    patients = sum(1 for a in DEMO_ANSWERS if a[0] == "patients_start")
    assert f'id="patients-{team.id}">{patients} of 10' in overview.text
    assert await SurveyResponse.filter(source="paper").count() == sum(a[5] for a in DEMO_ANSWERS)
    assert (await client.get("/surveys")).text.count('href="/surveys/') >= 2
