"""The report's recruitment figures: the funnel, outreach by kind, the reach comparison with
those who expressed interest and the representatives (and its suppression), interest from
young people and young carers, and training received and delivered. Each is checked against
hand-counted rows, and the page, the JSON and the CSV against each other."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from typing import Any

import pytest

from coprod.domain.reporting import Period, settle_sums
from coprod.models import Interest, Outreach, Role, Team
from coprod.services import networks, reports
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from tests import recruitment_rows as rows
from tests.conftest import sign_in
from tests.test_reports import hidden_on

START = dt.date(2025, 4, 1)
PERIOD = Period(START, dt.date(2026, 3, 31), "April 2025 to March 2026")
QUERY = "period=custom&start=2025-04-01&end=2026-03-31"
IN = dt.date(2025, 6, 10)
BEFORE = dt.date(2025, 3, 31)
REPORTER = "reporter@trust.example"


async def setting(world: Any, client: Any | None = None) -> tuple[Any, Actor]:
    org = await world.org()
    user = await world.user(org, REPORTER, Role.REPORTER, Role.INVOLVEMENT_LEAD)
    if client is not None:
        await sign_in(client, REPORTER)
    return org, await actor_for(user, org.id)


def summary_value(page: str, key: str) -> str:
    found = re.search(
        rf'nhsuk-summary-list__key">\s*{re.escape(key)}\s*</dt>\s*'
        r'<dd class="nhsuk-summary-list__value">\s*(.*?)\s*</dd>',
        html.unescape(page),
        re.S,
    )
    assert found, key
    return found.group(1)


def table_rows(page: str, caption: str) -> dict[str, list[str]]:
    """A table's rows by their header, each as the text of its cells."""
    text = html.unescape(page)
    body = text.split(f'<caption class="nhsuk-table__caption">{caption}</caption>', 1)[1]
    body = body.split("</table>", 1)[0].split("<tbody", 1)[1]
    found = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [
            re.sub(r"<[^>]+>", "", re.sub(r'<span[^>]*aria-hidden="true">.*?</span>', "", c))
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        found[cells[0].strip()] = [c.strip() for c in cells[1:]]
    return found


def csv_rows(text: str) -> dict[tuple[str, str, str], str]:
    return {(r[0], r[1], r[2]): r[3] for r in list(csv.reader(io.StringIO(text)))[1:]}


# ---------------------------------------------------------------------------- the funnel


async def test_the_funnel_counts_interest_in_the_period_by_status_reason_and_source(client, world):
    org, actor = await setting(world, client)
    rep = await rows.representative(org.id, "Became a rep")
    made = [
        *[await rows.interest(org.id, f"New {i}", on=IN) for i in range(3)],
        await rows.interest(org.id, "Chatted", on=IN, status="chatted", source="phone"),
        await rows.interest(org.id, "Welcome", on=IN, status="welcome_booked", source="letter"),
        await rows.interest(org.id, "Ready", on=IN, status="ready", representative_id=rep.id),
        *[
            await rows.interest(
                org.id, f"Closed {i}", on=IN, status="closed", close_reason="not_right_time"
            )
            for i in range(2)
        ],
        await rows.interest(
            org.id, "Unreached", on=IN, status="closed", close_reason="could_not_contact"
        ),
    ]
    assert len(made) == 9
    # Not counted: spam held aside, interest before the period, another organisation's.
    await rows.interest(org.id, "Spam", on=IN, held_as_spam=True)
    await rows.interest(org.id, "Last year", on=BEFORE)
    elsewhere = await world.org("Southshire NHS Trust")
    await rows.interest(elsewhere.id, "Theirs", on=IN)

    report = await reports.organisation_report(actor, PERIOD)
    assert report.recruitment == {
        "expressed": 9,
        "by_status": {"new": 3, "chatted": 1, "welcome_booked": 1, "ready": 1, "closed": 3},
        "closed_by_reason": {
            "not_right_time": 2,
            "no_suitable_role": 0,
            "support_elsewhere": 0,
            "chose_not_to": 0,
            "could_not_contact": 1,
            "other": 0,
        },
        "by_source": {"online": 7, "through_a_lead": 2},
        "became_representatives": 1,
    }
    page = (await client.get(f"/reports?{QUERY}")).text
    assert summary_value(page, "Expressed interest") == "9"
    assert summary_value(page, "Became representatives") == "1"
    assert table_rows(page, "Where they are now")["Welcome session booked"] == ["1"]
    assert table_rows(page, "Why it was closed")["Not the right time for them"] == ["2"]
    assert table_rows(page, "How they came to us")["Online form"] == ["7"]
    # Inside the organisation these counts are exact, and nothing here is small and equality.
    assert "No figures are hidden on this page." in page
    figures = (await client.get(f"/api/v1/reports/organisation?{QUERY}")).json()
    assert figures["recruitment"] == report.recruitment

    # The download can leave the organisation: small counts of people are hidden, and the
    # figures that would give them away with them.
    outside = await reports.organisation_report(actor, PERIOD, outside=True)
    assert outside.recruitment["expressed"] == 9
    assert outside.recruitment["by_status"] == {
        "new": None,
        "chatted": None,
        "welcome_booked": None,
        "ready": None,
        "closed": None,
    }
    # 2 through a lead are hidden, so 7 online are too, or 9 - 7 would give the 2 away.
    assert outside.recruitment["by_source"] == {"online": None, "through_a_lead": None}
    assert set(outside.recruitment["closed_by_reason"].values()) == {0, None}
    downloaded = csv_rows((await client.get(f"/api/v1/reports/organisation.csv?{QUERY}")).text)
    assert downloaded["recruitment", "", "expressed"] == "9"
    assert downloaded["recruitment", "by_source", "through_a_lead"] == "suppressed"
    assert downloaded["recruitment", "by_source", "online"] == "suppressed"
    assert "Recruitment: Online form" in outside.hidden()
    assert "Recruitment: Through a lead (phone, email, letter)" in outside.hidden()


def test_a_lone_hidden_figure_in_a_sum_takes_another_with_it():
    true = {"all": 12, "a": 2, "b": 4, "c": 6, "closed": 6, "x": 6, "y": 0}
    cells = {"all": 12, "a": None, "b": None, "c": 6, "closed": 6, "x": 6, "y": 0}
    assert settle_sums(cells, true, [("all", ["a", "b", "c"])]) == cells  # two hidden: safe
    one = {**cells, "b": 9}
    true_one = {**true, "b": 9, "all": 17}
    settled = settle_sums(one, true_one, [("all", ["a", "b", "c"])])
    assert settled["a"] is None and settled["c"] is None and settled["b"] == 9  # the smallest
    # A total hidden by the first sum gives its parts away in the second, unless one hides.
    chained = {**cells, "closed": 6, "x": 6}
    true_chain = {**true, "a": 3, "b": 3, "c": 6, "closed": 6, "x": 6}
    found = settle_sums(
        {**chained, "c": None, "a": 3, "b": None},
        true_chain,
        [("all", ["a", "b", "c"]), ("c", ["x", "y"])],
    )
    assert found["x"] is None  # c is hidden, so x (= c) must be too
    assert found["a"] is None or found["b"] is None


# ---------------------------------------------------------------------------- outreach


async def test_outreach_by_kind_with_the_interest_each_brought_in(client, world):
    org, actor = await setting(world, client)
    youth = await Team.create(organisation_id=org.id, name="Youth service")
    college = await Outreach.create(
        organisation_id=org.id,
        team=youth,
        kind="school_college",
        held_on=IN,
        place="Northshire College",
        people_reached=120,
    )
    mosque = await Outreach.create(
        organisation_id=org.id, kind="faith_group", held_on=IN, place="Mosque", people_reached=60
    )
    await Outreach.create(
        organisation_id=org.id, kind="faith_group", held_on=IN, place="Temple", people_reached=15
    )
    await Outreach.create(  # before the period
        organisation_id=org.id, kind="online", held_on=BEFORE, place="Facebook", people_reached=900
    )
    for i in range(6):
        await rows.interest(org.id, f"Student {i}", on=IN, outreach_id=college.id)
    for i in range(2):
        await rows.interest(org.id, f"Worshipper {i}", on=IN, outreach_id=mosque.id)
    await rows.interest(org.id, "Spam", on=IN, outreach_id=mosque.id, held_as_spam=True)

    report = await reports.organisation_report(actor, PERIOD)
    kinds = {k["kind"]: k for k in report.outreach["kinds"]}
    assert kinds["school_college"] == {
        "kind": "school_college",
        "label": "School or college",
        "events": 1,
        "people_reached": 120,
        "interests": 6,
    }
    assert (kinds["faith_group"]["events"], kinds["faith_group"]["people_reached"]) == (2, 75)
    assert kinds["faith_group"]["interests"] == 2
    assert kinds["online"]["events"] == 0
    assert report.outreach["total"] == {"events": 3, "people_reached": 195, "interests": 8}
    page = (await client.get(f"/reports?{QUERY}")).text
    table = table_rows(page, "Outreach by kind")
    assert table["Faith group"] == ["2", "75", "2"] and table["All kinds"] == ["3", "195", "8"]

    team = await reports.organisation_report(actor, PERIOD, youth.id)
    assert team.outreach["total"] == {"events": 1, "people_reached": 120, "interests": 6}

    outside = await reports.organisation_report(actor, PERIOD, outside=True)
    out_kinds = {k["kind"]: k["interests"] for k in outside.outreach["kinds"]}
    # 2 is hidden; 6 with it, or the total of 8 would give the 2 away.
    assert out_kinds["faith_group"] is None and out_kinds["school_college"] is None
    assert outside.outreach["total"]["interests"] == 8
    assert "Outreach, Faith group: interest linked" in outside.hidden()


# ---------------------------------------------------------------------------- reach


AGES = ("16_24", "25_34", "35_44")
# Counts of each answer to "How old are you?" in one column, and what the report shows.
SUPPRESSION = [
    pytest.param((6, 5, 0), (6, 5, 0), 11, id="all-shown"),
    pytest.param((2, 0, 0), (None, 0, 0), None, id="one-small-group-and-a-small-total"),
    pytest.param((3, 6, 7), (None, None, 7), 16, id="a-lone-hidden-count-takes-the-next"),
    pytest.param((2, 4, 9), (None, None, 9), 15, id="two-hidden-need-no-more"),
]


@pytest.mark.parametrize(("counts", "shown", "answered"), SUPPRESSION)
async def test_the_reach_comparison_hides_small_counts_in_each_column(
    client, world, counts, shown, answered
):
    org, actor = await setting(world, client)
    for age, n in zip(AGES, counts, strict=True):
        for i in range(n):
            await rows.interest(org.id, f"{age} {i}", on=IN, equality={"age_band": age})
            await rows.representative(org.id, f"{age} {i}", equality={"age_band": age})
    # Not counted: spam, interest outside the period, archived representatives.
    await rows.interest(org.id, "Spam", on=IN, held_as_spam=True, equality={"age_band": "16_24"})
    await rows.interest(org.id, "Earlier", on=BEFORE, equality={"age_band": "16_24"})
    await rows.representative(org.id, "Left", archived=True, equality={"age_band": "16_24"})

    report = await reports.organisation_report(actor, PERIOD)
    ages = next(r for r in report.reach if r["characteristic"] == "age_band")
    groups = {g["group"]: g for g in ages["groups"]}
    for column in ("interested", "representatives"):
        assert tuple(groups[a][column] for a in AGES) == shown, column
    assert ages["interested_answered"] == ages["representatives_answered"] == answered
    assert all(g["people"] in (0, None) for g in ages["groups"])  # nobody took part

    page = (await client.get(f"/reports?{QUERY}")).text
    table = table_rows(page, "How old are you?")
    expected = ["Hidden" if v is None else str(v) for v in shown]
    assert [table[label][1] for label in ("16 to 24", "25 to 34", "35 to 44")] == expected
    assert [table[label][2] for label in ("16 to 24", "25 to 34", "35 to 44")] == expected
    assert (
        table["Everyone who answered"][1:3] == ["Hidden" if answered is None else str(answered)] * 2
    )
    for column in ("expressed interest", "representatives"):
        for age, label in zip(AGES, ("16 to 24", "25 to 34", "35 to 44"), strict=True):
            named = f"How old are you?: {label} ({column})"
            assert (named in report.hidden()) == (groups[age]["interested"] is None)
            assert (named in hidden_on(page)) == (groups[age]["interested"] is None)
    figures = (await client.get(f"/api/v1/reports/organisation?{QUERY}")).json()
    api_ages = next(r for r in figures["reach"] if r["characteristic"] == "age_band")
    assert api_ages == ages
    downloaded = csv_rows((await client.get(f"/api/v1/reports/organisation.csv?{QUERY}")).text)
    for age, value in zip(AGES, shown, strict=True):
        cell = "suppressed" if value is None else str(value)
        assert downloaded["reach", f"age_band.{age}", "interested"] == cell
        assert downloaded["reach", f"age_band.{age}", "representatives"] == cell


# ---------------------------------------------------------------------------- young people


async def test_interest_from_young_people_and_young_carers_is_its_own_figure(client, world):
    org, actor = await setting(world, client)
    young = {"age_band": "16_24"}
    for i in range(3):  # young carers by their equality answer
        await rows.interest(org.id, f"Carer {i}", on=IN, equality={**young, "carer_status": "yes"})
    await rows.interest(org.id, "Carer rep", on=IN, representative_type="carer", equality=young)
    await rows.interest(org.id, "Both", on=IN, representative_type="both", equality=young)
    await rows.interest(org.id, "Young", on=IN, equality={**young, "carer_status": "no"})
    # Not young carers: an older carer, and young people whose interest is not counted.
    for i in range(5):  # enough that their own age group is shown
        await rows.interest(
            org.id, f"Older {i}", on=IN, equality={"age_band": "45_54", "carer_status": "yes"}
        )
    await rows.interest(
        org.id, "Spam", on=IN, held_as_spam=True, equality={**young, "carer_status": "yes"}
    )
    await rows.interest(org.id, "Early", on=BEFORE, equality={**young, "carer_status": "yes"})

    report = await reports.organisation_report(actor, PERIOD)
    assert report.young_people == {"under_25": 6, "young_carers": 5}
    page = (await client.get(f"/reports?{QUERY}")).text
    assert summary_value(page, "Interest from people aged 16 to 24") == "6"
    assert summary_value(page, "Interest from young carers (16 to 24)") == "5"
    figures = (await client.get(f"/api/v1/reports/organisation?{QUERY}")).json()
    assert figures["young_people"] == {"under_25": 6, "young_carers": 5}
    downloaded = csv_rows((await client.get(f"/api/v1/reports/organisation.csv?{QUERY}")).text)
    assert downloaded["young_people", "", "young_carers"] == "5"

    # One fewer young carer is a count of 4: hidden, on the page and in the list of hidden.
    await Interest.filter(full_name="Both").update(held_as_spam=True)
    report = await reports.organisation_report(actor, PERIOD)
    assert report.young_people == {"under_25": 5, "young_carers": None}
    assert "Interest from young carers (16 to 24)" in report.hidden()
    page = (await client.get(f"/reports?{QUERY}")).text
    assert summary_value(page, "Interest from young carers (16 to 24)") == "Hidden"
    assert "Interest from young carers (16 to 24)" in hidden_on(page)


# ---------------------------------------------------------------------------- training


async def test_training_received_and_delivered(client, world):
    org, actor = await setting(world, client)
    wards = await Team.create(organisation_id=org.id, name="Wards")
    reps = [await rows.representative(org.id, f"Rep {i}") for i in range(7)]
    induction = await rows.course(org.id, "Induction")
    panel = await rows.course(org.id, "Recruitment panel training")
    for rep in reps[:6]:
        await rows.completion(rep, induction, IN)
    await rows.completion(reps[0], panel, IN, "braille")
    await rows.completion(reps[1], panel, BEFORE)  # before the period

    session = await rows.delivered(reps[0], IN, team_id=wards.id, audience="Ward nurses")
    for rep in reps[1:5]:
        await rows.delivered(rep, IN, activity=session)
    await rows.delivered(reps[5], IN, audience="Junior doctors")
    await rows.delivered(reps[6], IN, audience="Junior doctors", status="no_show")
    await rows.delivered(reps[6], BEFORE, audience="Junior doctors")

    report = await reports.organisation_report(actor, PERIOD)
    received = report.training["received"]
    assert received["completions"] == 7
    assert [(c["course"], c["completions"]) for c in received["by_course"]] == [
        ("Induction", 6),
        ("Recruitment panel training", 1),
    ]
    assert received["by_format"] == {"braille": 1, "standard": 6}
    delivered = report.training["delivered"]
    assert (delivered["sessions"], delivered["people"]) == (2, 6)
    assert delivered["by_team"] == [
        {"team_id": wards.id, "team": "Wards", "sessions": 1, "people": 5},
        {"team_id": None, "team": "No team", "sessions": 1, "people": 1},
    ]
    assert delivered["by_audience"] == [
        {"audience": "Junior doctors", "sessions": 1, "people": 1},
        {"audience": "Ward nurses", "sessions": 1, "people": 5},
    ]
    page = (await client.get(f"/reports?{QUERY}")).text
    assert summary_value(page, "Courses completed") == "7"
    assert table_rows(page, "Courses completed by course")["Induction"] == ["6"]
    assert table_rows(page, "Courses completed by format")["Braille"] == ["1"]
    assert table_rows(page, "Training delivered by team")["Wards"] == ["1", "5"]
    assert table_rows(page, "Training delivered by audience")["Junior doctors"] == ["1", "1"]
    figures = (await client.get(f"/api/v1/reports/organisation?{QUERY}")).json()
    assert figures["training"] == report.training

    team = await reports.organisation_report(actor, PERIOD, wards.id)
    assert (team.training["delivered"]["sessions"], team.training["delivered"]["people"]) == (1, 5)

    outside = await reports.organisation_report(actor, PERIOD, outside=True)
    o_received, o_delivered = outside.training["received"], outside.training["delivered"]
    assert o_received["completions"] == 7
    assert [c["completions"] for c in o_received["by_course"]] == [None, None]
    assert o_received["by_format"] == {"braille": None, "standard": None}
    assert o_delivered["people"] == 6 and o_delivered["sessions"] == 2
    assert [t["people"] for t in o_delivered["by_team"]] == [None, None]
    assert "Training delivered, No team: people" in outside.hidden()
    assert "Training received: Induction" in outside.hidden()
    downloaded = csv_rows((await client.get(f"/api/v1/reports/organisation.csv?{QUERY}")).text)
    assert downloaded["training_received", "all", "completions"] == "7"
    assert downloaded["training_received", "Induction", "completions"] == "suppressed"
    assert downloaded["training_delivered", "team.Wards", "sessions"] == "1"
    assert downloaded["training_delivered", "team.Wards", "people"] == "suppressed"


# ---------------------------------------------------------------------------- networks


async def test_the_network_roll_up_gains_the_totals_with_people_hidden(make_client, world):
    org, _ = await setting(world)
    other = await world.org("Southshire NHS Trust")
    other_admin = await world.user(other, "admin@south.example", Role.ORG_ADMIN)
    admin = await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    network = await networks.create_network(await actor_for(admin, org.id), {"name": "North"})
    await networks.invite(await actor_for(admin, org.id), network.id, {"organisation": other.slug})
    await networks.respond(await actor_for(other_admin, other.id), network.id, True)
    for i in range(4):
        await rows.interest(org.id, f"North {i}", on=IN)
    for i in range(3):
        await rows.interest(other.id, f"South {i}", on=IN, status="closed", close_reason="other")
    await Outreach.create(
        organisation_id=org.id, kind="online", held_on=IN, place="Forum", people_reached=50
    )
    await Outreach.create(
        organisation_id=other.id, kind="online", held_on=IN, place="Radio", people_reached=70
    )
    south_rep = await rows.representative(other.id, "South rep")
    await rows.completion(south_rep, await rows.course(other.id, "Induction"), IN)
    # Training delivered across the members, in total: each session once, and each person
    # once however many sessions they delivered.
    north = [await rows.representative(org.id, f"North rep {i}") for i in range(5)]
    wards = await rows.delivered(north[0], IN, audience="Ward nurses")
    for rep in north[1:]:
        await rows.delivered(rep, IN, activity=wards)
    await rows.delivered(north[0], IN, audience="Junior doctors")
    await rows.delivered(south_rep, IN)
    await rows.delivered(south_rep, BEFORE)  # before the period
    await rows.delivered(north[1], IN, status="no_show")

    _, report = await reports.network_report(await actor_for(admin, org.id), network.id, PERIOD)
    assert report.recruitment["expressed"] == 7
    assert report.recruitment["by_status"]["new"] is None  # 4 people
    assert report.outreach["total"] == {"events": 2, "people_reached": 120, "interests": 0}
    assert report.training["received"]["completions"] is None  # 1 person
    assert report.training["received"]["by_course"] == []
    assert report.training["delivered"]["by_team"] == []
    assert report.training["delivered"]["by_audience"] == []
    assert (report.training["delivered"]["sessions"], report.training["delivered"]["people"]) == (
        3,
        6,
    )
    client = make_client()
    await sign_in(client, "admin@trust.example")  # who made the network has a role on it
    page = await client.get(f"/reports/networks/{network.id}?{QUERY}")
    assert page.status_code == 200
    assert summary_value(page.text, "Expressed interest") == "7"
    figures = (await client.get(f"/api/v1/reports/networks/{network.id}?{QUERY}")).json()
    assert figures["recruitment"] == report.recruitment
    assert figures["outreach"]["total"] == report.outreach["total"]
    assert figures["training"]["delivered"] == report.training["delivered"]
