"""A team's self-review against the quality network's standards, through the JSON API: marking,
evidence, who may do what, suggestions, and the shares per section."""

from __future__ import annotations

from coprod.models import AuditEvent, Role, StandardEvidence, StandardReview, Team
from coprod.models.feedback import ActionStatus, Audience
from tests import feedback_rows
from tests.conftest import sign_in
from tests.openapi_doc import assert_described, operations_tagged
from tests.standards_world import action, held, survey, teams
from tests.test_representatives_api import errors_of

A = "/api/v1"


def url(team: Team, number: int | None = None, tail: str = "") -> str:
    base = f"{A}/teams/{team.id}/standards"
    return base + (f"/{number}" if number is not None else "") + tail


async def test_a_lead_marks_a_standard_links_evidence_and_clears_it(client, world):
    w = await teams(world)
    await sign_in(client, "lead@trust.example")
    panel = await held(
        w.t.lead, w.reps[:2], title="Band 6 nurse interviews", kind="interview_panel"
    )

    marked = await client.api("PUT", url(w.team, 54), {"status": "met", "note": "Every panel"})
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "met" and marked.json()["note"] == "Every panel"
    again = await client.api("PUT", url(w.team, 54), {"status": "partly_met"})
    assert again.json()["status"] == "partly_met" and again.json()["note"] is None
    same = await client.api("PUT", url(w.team, 54), {"status": "partly_met"})
    assert same.status_code == 200  # no change: nothing more in the audit log
    assert await StandardReview.filter(team=w.team, number=54).count() == 1

    linked = await client.api(
        "POST", url(w.team, 54, "/evidence"), {"kind": "activity", "activity_id": panel.id}
    )
    assert linked.status_code == 201, linked.text
    evidence = linked.json()
    assert evidence["activity_id"] == panel.id
    assert "Band 6 nurse interviews" in evidence["description"]
    assert "2 representatives took part" in evidence["description"]
    note = await client.api(
        "POST", url(w.team, 54, "/evidence"), {"kind": "note", "note": "Panel guidance agreed"}
    )
    assert note.status_code == 201 and note.json()["description"] == "Note: Panel guidance agreed"
    twice = await client.api(
        "POST", url(w.team, 54, "/evidence"), {"kind": "activity", "activity_id": panel.id}
    )
    assert twice.status_code == 422
    assert errors_of(twice) == {"activity_id": "This is already evidence for this standard"}

    review = (await client.get(url(w.team))).json()
    entry = next(s for s in review["standards"] if s["number"] == 54)
    assert [e["kind"] for e in entry["evidence"]] == ["activity", "note"]
    assert len(review["standards"]) == 44

    # The mark stays while evidence hangs from it.
    clear = await client.api("PUT", url(w.team, 54), {"status": "not_marked"})
    assert clear.status_code == 409
    assert errors_of(clear) == {
        "status": "Remove this standard's evidence before you take away its mark"
    }
    for item in entry["evidence"]:
        gone = await client.api("DELETE", url(w.team, 54, f"/evidence/{item['id']}"))
        assert gone.status_code == 200, gone.text
    assert gone.json()["evidence"] == []
    cleared = await client.api("PUT", url(w.team, 54), {"status": "not_marked"})
    assert cleared.status_code == 200 and cleared.json()["status"] == "not_marked"
    assert await StandardReview.filter(team=w.team).count() == 0
    actions = [e.action for e in await AuditEvent.filter(action__startswith="standard_")]
    assert actions.count("standard_review.mark") == 2
    assert actions.count("standard_evidence.add") == 2
    assert actions.count("standard_evidence.remove") == 2
    assert actions.count("standard_review.clear") == 1


async def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(client, world):
    w = await teams(world)
    await sign_in(client, "lead@trust.example")
    wrong = await client.api("PUT", url(w.team, 54), {"status": "done", "note": "x" * 4001})
    assert wrong.status_code == 422
    assert errors_of(wrong) == {
        "status": "Select whether the standard is met",
        "note": "A note must be 4000 characters or fewer",
    }
    missing = await client.api("PUT", url(w.team, 54), {})
    assert errors_of(missing) == {"status": "Select whether the standard is met"}
    early = await client.api("POST", url(w.team, 54, "/evidence"), {"kind": "note", "note": "Hi"})
    assert early.status_code == 409
    assert errors_of(early) == {
        "kind": "Mark this standard as met, partly met or not met before you add evidence"
    }
    await client.api("PUT", url(w.team, 54), {"status": "met"})
    for body, expected in [
        ({}, {"kind": "Select what kind of evidence this is"}),
        ({"kind": "photo"}, {"kind": "Select what kind of evidence this is"}),
        ({"kind": "activity"}, {"activity_id": "Select an activity"}),
        ({"kind": "survey"}, {"survey_id": "Select a survey"}),
        ({"kind": "action"}, {"action_id": 'Select a "You said, we did" action'}),
        ({"kind": "note", "note": "  "}, {"note": "Enter the note"}),
        (
            {"kind": "note", "note": "x" * 2001},
            {"note": "The note must be 2000 characters or fewer"},
        ),
    ]:
        refused = await client.api("POST", url(w.team, 54, "/evidence"), body)
        assert refused.status_code == 422, body
        assert errors_of(refused) == expected, body
    assert await StandardEvidence.all().count() == 0
    assert (await client.get(url(w.team, 999))).status_code == 404
    assert (await client.api("PUT", url(w.team, 999), {"status": "met"})).status_code == 404


async def test_evidence_must_be_the_teams_own_and_other_organisations_are_not_found(client, world):
    w = await teams(world)
    theirs = await teams(world, "Southshire NHS Trust", "south")
    their_panel = await held(theirs.t.lead, theirs.reps[:1], title="Panel", kind="interview_panel")
    east_panel = await held(
        w.t.lead, w.reps[:1], title="East panel", kind="interview_panel", team=w.other_team
    )
    await sign_in(client, "lead@trust.example")
    await client.api("PUT", url(w.team, 54), {"status": "met"})
    for body in (
        {"kind": "activity", "activity_id": their_panel.id},
        {"kind": "survey", "survey_id": (await survey(theirs.t.lead, theirs.team)).id},
        {"kind": "action", "action_id": (await action(theirs.t.lead, theirs.team)).id},
        {"kind": "activity", "activity_id": 2147483647},
    ):
        refused = await client.api("POST", url(w.team, 54, "/evidence"), body)
        assert refused.status_code == 404, body
    for body, field, message in (
        ({"kind": "activity", "activity_id": east_panel.id}, "activity_id", "activity"),
        (
            {"kind": "survey", "survey_id": (await survey(w.t.lead, w.other_team)).id},
            "survey_id",
            "survey",
        ),
        (
            {"kind": "action", "action_id": (await action(w.t.lead, w.other_team)).id},
            "action_id",
            "action",
        ),
    ):
        refused = await client.api("POST", url(w.team, 54, "/evidence"), body)
        assert refused.status_code == 422, body
        assert errors_of(refused) == {field: f"This {message} belongs to another team"}
    # Their team, and evidence on it, are not found.
    await sign_in(client, "lead@south.example")
    await client.api("PUT", url(theirs.team, 54), {"status": "met"})
    theirs_evidence = await client.api(
        "POST", url(theirs.team, 54, "/evidence"), {"kind": "note", "note": "Ours"}
    )
    await sign_in(client, "lead@trust.example")
    assert (await client.get(url(theirs.team))).status_code == 404
    assert (await client.api("PUT", url(theirs.team, 54), {"status": "met"})).status_code == 404
    wrong_team = await client.api(
        "DELETE", url(w.team, 54, f"/evidence/{theirs_evidence.json()['id']}")
    )
    assert wrong_team.status_code == 404
    assert await StandardEvidence.all().count() == 1
    # A survey and a done action of the team itself are linked, described in words.
    mine = await survey(w.t.lead, w.team)
    linked = await client.api(
        "POST", url(w.team, 54, "/evidence"), {"kind": "survey", "survey_id": mine.id}
    )
    assert (
        linked.json()["description"] == "Survey: How was your first week? (for patients): 0 answers"
    )


async def test_reporters_read_and_champions_change_only_their_own_team(make_client, world):
    w = await teams(world)
    await world.user(w.org, "rita@trust.example", Role.REPORTER)
    champion = await world.user(w.org, "chan@trust.example", Role.FINANCE_OFFICER)
    await feedback_rows.make_champion(w.t.lead, w.team.id, champion.id)
    reporter, chan = make_client(), make_client()
    await sign_in(reporter, "rita@trust.example")
    await sign_in(chan, "chan@trust.example")

    assert (await chan.api("PUT", url(w.team, 90), {"status": "met"})).status_code == 200
    added = await chan.api("POST", url(w.team, 90, "/evidence"), {"kind": "note", "note": "Yes"})
    assert added.status_code == 201
    # The champion of one team cannot change another's.
    assert (await chan.api("PUT", url(w.other_team, 90), {"status": "met"})).status_code == 403
    assert (await chan.get(url(w.other_team))).status_code == 403

    read = await reporter.get(url(w.team))
    assert read.status_code == 200
    assert next(s for s in read.json()["standards"] if s["number"] == 90)["status"] == "met"
    detail = await reporter.get(url(w.team, 90))
    assert detail.status_code == 200 and detail.json()["suggestions"] == []
    assert (await reporter.api("PUT", url(w.team, 90), {"status": "not_met"})).status_code == 403
    refused = await reporter.api("DELETE", url(w.team, 90, f"/evidence/{added.json()['id']}"))
    assert refused.status_code == 403
    assert (await StandardReview.get(team=w.team, number=90)).status == "met"
    assert await StandardEvidence.all().count() == 1


async def test_suggestions_find_what_evidences_each_standard(client, world):
    w = await teams(world)
    lead = w.t.lead
    panel = await held(lead, w.reps[:2], title="Consultant interviews", kind="interview_panel")
    await held(lead, w.reps[:1], title="Nobody came", kind="interview_panel", attended=0)
    east = await held(lead, w.reps[:1], title="East", kind="interview_panel", team=w.other_team)
    ours = await held(
        lead, w.reps[:1], title="Our panel", kind="interview_panel", team=w.team, days_ago=3
    )
    training = await held(
        lead, w.reps, title="Carer awareness", kind="training_delivery", category="co_delivery"
    )
    design = await held(
        lead, w.reps[:1], title="Redesign day", kind="meeting", category="co_design"
    )
    patients = await survey(lead, w.team)
    carers = await survey(lead, w.team, "Carers' week", audience=Audience.CARERS)
    done = await action(lead, w.team)
    await action(lead, w.team, ActionStatus.PLANNED)
    await sign_in(client, "lead@trust.example")

    async def suggested(number: int) -> list[tuple[str, int]]:
        reply = (await client.get(url(w.team, number))).json()
        return [(s["kind"], s["id"]) for s in reply["suggestions"]]

    assert await suggested(54) == [("activity", ours.id), ("activity", panel.id)]
    assert east.id not in {i for _, i in await suggested(54)}
    assert await suggested(90) == [("activity", training.id)]
    assert await suggested(14) == [("activity", design.id)]
    assert set(await suggested(47)) == {
        ("survey", patients.id),
        ("survey", carers.id),
        ("action", done.id),
    }
    assert await suggested(155) == [("survey", patients.id)]
    assert await suggested(4) == []
    # Once linked, a record is no longer suggested.
    await client.api("PUT", url(w.team, 54), {"status": "met"})
    await client.api(
        "POST", url(w.team, 54, "/evidence"), {"kind": "activity", "activity_id": panel.id}
    )
    assert await suggested(54) == [("activity", ours.id)]


async def test_shares_in_the_json_match_a_hand_count(client, world):
    w = await teams(world)
    await sign_in(client, "lead@trust.example")
    marks = {1: "met", 4: "met", 14: "partly_met", 54: "met", 90: "not_met", 155: "met"}
    for number, status in marks.items():
        await client.api("PUT", url(w.team, number), {"status": status})
    review = (await client.get(url(w.team))).json()
    by_section = {s["section"]: s for s in review["sections"]}
    service = by_section["Service Provision and Structure"]
    # 1, 4 and 14 are in the first section, of its 7 standards: 2 met is 29%.
    assert (service["standards"], service["met"], service["partly_met"]) == (7, 2, 1)
    assert service["not_marked"] == 4 and service["percent_met"] == 29
    staffing = by_section["Staffing and Training"]
    assert (staffing["met"], staffing["not_met"], staffing["percent_met"]) == (1, 1, 25)
    assert review["overall"]["met"] == 4 and review["overall"]["percent_met"] == 9


async def test_the_operations_are_declared_and_tagged(client, world):
    await teams(world)
    await sign_in(client, "lead@trust.example")
    doc = (await client.get(f"{A}/openapi.json")).json()
    tagged = operations_tagged(doc, "standards")
    assert tagged == {
        ("get", f"{A}/standards"),
        ("get", f"{A}/teams/{{id}}/standards"),
        ("get", f"{A}/teams/{{id}}/standards/{{number}}"),
        ("put", f"{A}/teams/{{id}}/standards/{{number}}"),
        ("post", f"{A}/teams/{{id}}/standards/{{number}}/evidence"),
        ("delete", f"{A}/teams/{{id}}/standards/{{number}}/evidence/{{evidence_id}}"),
    }
    assert_described(doc, tagged)
    data = (await client.get(f"{A}/standards")).json()
    assert len(data["standards"]) == 44 and data["sections"][1] == "Staffing and Training"
    assert next(s for s in data["standards"] if s["number"] == 54)["type"] == 2
