"""A team's self-review through its pages: the same rules and messages as the API, who may see
and change it, and the shares per section agreeing on the page, the print, the CSV and the
JSON with a hand count."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from html import unescape
from typing import Any

from coprod.domain.standards import sections, standards
from coprod.models import Role, StandardEvidence, StandardReview, Team
from tests import feedback_rows
from tests.conftest import sign_in
from tests.standards_world import held, teams


def page_url(team: Team, tail: str = "") -> str:
    return f"/teams/{team.id}/standards{tail}"


def summary_errors(html: str) -> list[str]:
    summary = re.search(r"nhsuk-error-summary__list.*?</ul>", html, re.S)
    assert summary, "no error summary"
    return [
        unescape(re.sub(r"<[^>]+>", "", m).strip())
        for m in re.findall(r"<a [^>]*>(.*?)</a>", summary.group(0), re.S)
    ]


def shares_on(html: str) -> dict[str, dict[str, str]]:
    """The shares table, by section: each figure as the page shows it."""
    found: dict[str, dict[str, str]] = {}
    table = re.search(r'<table[^>]*id="shares".*?</table>', html, re.S)
    assert table, "no shares table"
    for section, row in re.findall(r'data-section="([^"]+)">(.*?)</tr>', table.group(0), re.S):
        cells = re.findall(r'data-figure="(\w+)"><span[^>]*>[^<]*</span>([^<]+)</td>', row)
        found[section.replace("&amp;", "&")] = dict(cells)
    return found


async def mark(client: Any, team: Team, number: int, status: str, note: str = "") -> Any:
    return await client.post_form(
        page_url(team, f"/{number}"), {"action": "mark", "status": status, "note": note}
    )


async def test_a_lead_marks_and_links_evidence_on_the_page(client, world):
    w = await teams(world)
    panel = await held(
        w.t.lead, w.reps[:2], title="Ward manager interviews", kind="interview_panel"
    )
    await sign_in(client, "lead@trust.example")
    standard = page_url(w.team, "/54")
    opened = await client.get(standard)
    assert opened.status_code == 200
    assert "Appropriately experienced patient or family/carer" in opened.text
    assert "Mark this standard first" in opened.text

    refused = await client.post_form(standard, {"action": "mark", "status": "", "note": "x" * 4001})
    assert refused.status_code == 422
    assert summary_errors(refused.text) == [
        "Select whether the standard is met",
        "A note must be 4000 characters or fewer",
    ]
    early = await client.post_form(
        standard, {"action": "add", "kind": "note", "evidence_note": "Hi"}
    )
    assert early.status_code == 409
    assert summary_errors(early.text) == [
        "Mark this standard as met, partly met or not met before you add evidence"
    ]
    assert await StandardReview.all().count() == 0

    saved = await mark(client, w.team, 54, "met", "Since April")
    assert saved.status_code == 303
    shown = await client.get(saved.headers["location"])
    assert "The mark is saved." in shown.text and ">Met</strong>" in shown.text
    # The panel is suggested, with a one-click link.
    assert "Ward manager interviews" in shown.text
    assert "Representatives sat on a staff interview panel" in shown.text
    linked = await client.post_form(
        standard, {"action": "add", "kind": "activity", "activity_id": str(panel.id)}
    )
    assert linked.status_code == 303
    blank = await client.post_form(
        standard, {"action": "add", "kind": "note", "evidence_note": " "}
    )
    assert blank.status_code == 422
    assert summary_errors(blank.text) == ["Enter the note"]
    assert 'href="#evidence_note"' in blank.text
    noted = await client.post_form(
        standard, {"action": "add", "kind": "note", "evidence_note": "=Panel guidance agreed"}
    )
    assert noted.status_code == 303
    evidence = await StandardEvidence.all().order_by("id")
    assert [e.kind for e in evidence] == ["activity", "note"]
    page = (await client.get(standard)).text
    assert "Activity: Ward manager interviews (interview panel" in page
    assert "2 representatives took part" in page
    assert page.count('name="action" value="remove"') == 2

    cleared = await mark(client, w.team, 54, "not_marked")
    assert cleared.status_code == 409
    assert summary_errors(cleared.text) == [
        "Remove this standard's evidence before you take away its mark"
    ]
    removed = await client.post_form(
        standard, {"action": "remove", "evidence_id": str(evidence[0].id)}
    )
    assert removed.status_code == 303
    assert await StandardEvidence.all().count() == 1
    overview = (await client.get(page_url(w.team))).text
    row = re.search(r'id="standard-54".*?</tr>', overview, re.S)
    assert row and ">Met</strong>" in row.group(0) and ">1</td>" in row.group(0)


async def test_other_organisations_are_not_found_and_roles_are_kept(make_client, world):
    w = await teams(world)
    theirs = await teams(world, "Southshire NHS Trust", "south")
    await world.user(w.org, "rita@trust.example", Role.REPORTER)
    champion = await world.user(w.org, "chan@trust.example", Role.INVOLVEMENT_LEAD)
    await world.user(w.org, "ola@trust.example", Role.ORG_ADMIN)
    east_champion = await world.user(w.org, "east@trust.example", Role.FINANCE_OFFICER)
    await feedback_rows.make_champion(w.t.lead, w.other_team.id, east_champion.id)
    lead, reporter, east, admin = make_client(), make_client(), make_client(), make_client()
    await sign_in(lead, "lead@trust.example")
    await sign_in(reporter, "rita@trust.example")
    await sign_in(east, "east@trust.example")
    await sign_in(admin, "ola@trust.example")
    assert champion is not None

    for tail in ("", "/54", "/print", ".csv"):
        assert (await lead.get(page_url(theirs.team, tail))).status_code == 404, tail
        assert (await reporter.get(page_url(w.team, tail))).status_code == 200, tail
        assert (await east.get(page_url(w.team, tail))).status_code == 403, tail
        assert (await admin.get(page_url(w.team, tail))).status_code == 403, tail
    assert (await lead.get(page_url(w.team, "/999"))).status_code == 404
    # Another organisation's team, and its activity on ours, are not found.
    refused = await lead.post_form(
        page_url(theirs.team, "/54"), {"action": "mark", "status": "met"}, token_from="/"
    )
    assert refused.status_code == 404
    await mark(lead, w.team, 54, "met")
    their_panel = await held(theirs.t.lead, theirs.reps[:1], title="Theirs", kind="interview_panel")
    crossing = await lead.post_form(
        page_url(w.team, "/54"),
        {"action": "add", "kind": "activity", "activity_id": str(their_panel.id)},
    )
    assert crossing.status_code == 404
    odd = await lead.post_form(
        page_url(w.team, "/54"), {"action": "remove", "evidence_id": "not-an-id"}
    )
    assert odd.status_code == 404

    read = await reporter.get(page_url(w.team, "/54"))
    assert "Only involvement leads and the team's feedback champion can change it" in read.text
    assert 'value="mark"' not in read.text
    changed = await reporter.post_form(
        page_url(w.team, "/54"), {"action": "mark", "status": "not_met"}
    )
    assert changed.status_code == 403
    other_team = await east.post_form(
        page_url(w.team, "/54"), {"action": "mark", "status": "not_met"}, token_from="/"
    )
    assert other_team.status_code == 403
    own_team = await mark(east, w.other_team, 54, "partly_met")
    assert own_team.status_code == 303
    assert (await StandardReview.get(team=w.team, number=54)).status == "met"
    assert (await StandardReview.get(team=w.other_team, number=54)).status == "partly_met"


async def test_shares_agree_on_the_page_the_print_the_csv_and_the_json(client, world):
    w = await teams(world)
    panel = await held(w.t.lead, w.reps[:2], title="Nurse interviews", kind="interview_panel")
    await sign_in(client, "lead@trust.example")
    marks = {
        1: "met",
        4: "partly_met",
        14: "met",
        47: "not_met",
        54: "met",
        63: "met",
        96: "partly_met",
        119: "met",
        121: "not_met",
        153: "met",
        155: "met",
        171: "partly_met",
    }
    for number, status in marks.items():
        assert (await mark(client, w.team, number, status, "Checked in May")).status_code == 303
    await mark(client, w.team, 63, "met", "=1+1")
    await client.post_form(
        page_url(w.team, "/54"), {"action": "add", "kind": "activity", "activity_id": str(panel.id)}
    )
    await client.post_form(
        page_url(w.team, "/54"),
        {"action": "add", "kind": "note", "evidence_note": "=SUM(A1:A9) on the panel list"},
    )

    # By hand: the sections each marked standard belongs to.
    section_of = {s.number: s.section for s in standards()}
    expected: dict[str, Counter[str]] = {name: Counter() for name in sections()}
    for number, status in marks.items():
        expected[section_of[number]][status] += 1
    sizes = Counter(s.section for s in standards())

    def percent(met: int, total: int) -> int:
        return (200 * met + total) // (2 * total)

    hand = {
        name: {
            "met": str(counted["met"]),
            "partly_met": str(counted["partly_met"]),
            "not_met": str(counted["not_met"]),
            "not_marked": str(sizes[name] - sum(counted.values())),
            "percent_met": f"{percent(counted['met'], sizes[name])}%",
        }
        for name, counted in expected.items()
    }
    met = sum(c["met"] for c in expected.values())
    hand["All standards"] = {
        "met": str(met),
        "partly_met": "3",
        "not_met": "2",
        "not_marked": str(44 - len(marks)),
        "percent_met": f"{percent(met, 44)}%",
    }
    assert met == 7 and hand["All standards"]["percent_met"] == "16%"

    overview = await client.get(page_url(w.team))
    assert shares_on(overview.text) == hand
    printed = await client.get(page_url(w.team, "/print"))
    assert printed.status_code == 200
    assert shares_on(printed.text) == hand
    assert (
        'class="coprod-chart"' in printed.text
        and "Share of standards met, by section" in printed.text
    )
    assert "Staffing and training" in printed.text  # the chart's short label
    # Peer reviewers see counts of 1 to 4 people hidden, and no names.
    assert (
        "Nurse interviews" in printed.text
        and "fewer than 5 representatives took part" in printed.text
    )
    assert "Person trust" not in printed.text

    reply = (await client.get(f"/api/v1/teams/{w.team.id}/standards")).json()
    from_json = {
        s["section"]: {
            "met": str(s["met"]),
            "partly_met": str(s["partly_met"]),
            "not_met": str(s["not_met"]),
            "not_marked": str(s["not_marked"]),
            "percent_met": f"{s['percent_met']}%",
        }
        for s in [*reply["sections"], reply["overall"]]
    }
    assert from_json == hand

    download = await client.get(page_url(w.team, ".csv"))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [int(r["number"]) for r in rows] == [s.number for s in standards()]
    labels = {"Met": "met", "Partly met": "partly_met", "Not met": "not_met"}
    from_csv: dict[str, Counter[str]] = {name: Counter() for name in sections()}
    for row in rows:
        if row["status"] in labels:
            from_csv[row["section"]][labels[row["status"]]] += 1
        else:
            assert row["status"] == "Not marked yet" and row["note"] == ""
    assert from_csv == expected
    panel_row = next(r for r in rows if r["number"] == "54")
    assert panel_row["type"] == "2" and panel_row["standard"].startswith("Appropriately")
    assert panel_row["note"] == "Checked in May"
    described = panel_row["evidence"].split("\n")
    assert described[0].startswith("Activity: Nurse interviews (interview panel, ")
    assert described[0].endswith("fewer than 5 representatives took part")
    # A note is written after "Note: ", so nothing in it can start a formula.
    assert described[1] == "Note: =SUM(A1:A9) on the panel list"
    # The team's own page shows the exact count.
    assert "2 representatives took part" in (await client.get(page_url(w.team, "/54"))).text
    # Text a person typed that a spreadsheet would run as a formula is neutralised.
    assert next(r for r in rows if r["number"] == "63")["note"] == "'=1+1"


async def test_the_demo_team_has_a_review_under_way(client):
    from coprod.demo import DEMO_MARKS, LEAD_EMAIL, seed_demo

    await seed_demo()
    team = await Team.get(name="Crisis Resolution and Home Treatment Team")
    reviews = await StandardReview.filter(team=team)
    assert {r.number: r.status.value for r in reviews} == {
        n: status for n, (status, _) in DEMO_MARKS.items()
    }
    assert sorted(e.kind for e in await StandardEvidence.all()) == ["activity", "note"]
    await sign_in(client, LEAD_EMAIL, "demo-password-123")
    panel = (await client.get(page_url(team, "/54"))).text
    assert "Interviews for a team manager" in panel and "2 representatives took part" in panel
    # The panel was a co-decision, so it is suggested where partnership is the standard.
    assert "Interviews for a team manager" in (await client.get(page_url(team, "/14"))).text
