"""Reports: figures match counts worked out independently from the involvement the services
wrote (attendance, then claim, then approval); suppression of small counts, and the page saying
exactly what it hides; authorisation. No test writes report rows by hand."""

from __future__ import annotations

import datetime as dt
import html
import random
import re

from coprod.domain.reporting import financial_year, quarter, suppress
from coprod.models import (
    Organisation,
    Role,
    Team,
)
from coprod.services import projects, reports
from coprod.services.actor import Actor
from tests.conftest import sign_in
from tests.involvement import (
    claimed_and_approved,
    last_financial_year,
    person,
    seed,
    took_part,
    trust,
)

YEAR = last_financial_year()
FY = financial_year(YEAR)


def in_period(rows, period, team=None):
    return [
        r
        for r in rows
        if period.start <= r["day"] <= period.end and (team is None or r["team_id"] == team)
    ]


def hidden_on(page_text: str) -> list[str]:
    """The figures a report page lists as hidden."""
    block = page_text.split('id="hidden-figures"', 1)[1].split("<h2>", 1)[0]
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", block)]


async def test_the_figures_match_counts_from_what_the_services_wrote(world):
    t = await trust(world)
    org_id = t.organisation_id
    crisis = await Team.create(organisation_id=org_id, name="Crisis")
    project_ids = [
        (await projects.create_project(t.lead, {"name": name})).id
        for name in ("Crisis line", "Discharge leaflets")
    ]
    rows = await seed(
        t,
        random.Random(7),
        first=FY.start,
        n=50,
        teams=(None, crisis.id),
        projects=(None, *project_ids),
    )
    actor = Actor(user=None, organisation_id=org_id, roles=frozenset({Role.REPORTER}))
    for period, team in ((FY, None), (quarter(YEAR, 2), None), (FY, crisis.id)):
        report = await reports.organisation_report(actor, period, team)
        mine = in_period(rows, period, team)
        for row in report.by_category:
            chosen = [r for r in mine if r["category"] == row["key"]]
            assert row["involvements"] == len(chosen)
            assert row["activities"] == len({r["activity_id"] for r in chosen})
            assert row["hours"] == round(sum(r["minutes"] for r in chosen) / 60, 1)
            assert row["fees_pence"] == sum(r["fee_pence"] for r in chosen)
            assert row["expenses_pence"] == sum(r["expenses_pence"] for r in chosen)
        for row in report.by_mode:
            assert row["involvements"] == len([r for r in mine if r["mode"] == row["key"]])
        assert report.people["total"] == len({r["representative_id"] for r in mine})
        assert report.people["carers"] == len(
            {r["representative_id"] for r in mine if r["representative_type"] == "carer"}
        )
        scope = [r for r in rows if team is None or r["team_id"] == team]
        first = {}
        for r in sorted(scope, key=lambda r: r["day"]):
            first.setdefault(r["representative_id"], r["day"])
        assert report.people["new"] == len(
            {p for p, d in first.items() if period.start <= d <= period.end}
        )
        assert report.spend["expenses_pence"] == sum(r["expenses_pence"] for r in mine)
        assert report.spend["fees_pence"] == sum(r["fee_pence"] for r in mine)
        by_project = {}
        for r in mine:
            if r["project_id"] and r["category"]:
                by_project.setdefault(r["project_id"], []).append(r["category"])
        assert report.projects["end_to_end"] == sum(
            1 for c in by_project.values() if len(set(c)) == 4
        )


async def test_a_person_who_declined_payment_counts_in_hours_and_people(client, world):
    t = await trust(world)
    day = FY.start + dt.timedelta(days=40)
    rows = []
    for i in range(5):
        rep = await person(t, f"Person {i}", contract_from=FY.start, declines_payment=i == 0)
        rows.append(await took_part(t, rep, day, minutes=300, mode="phone"))
        before = (await reports.organisation_report(t.lead, FY)).people["total"]
        assert before == i + 1  # counted from attendance, before any claim
        await claimed_and_approved(t, rep, rows, miles=10)

    await world.user(
        await Organisation.get(id=t.organisation_id), "rita@trust.example", Role.REPORTER
    )
    await sign_in(client, "rita@trust.example")
    figures = (await client.get(f"/api/v1/reports/organisation?year={YEAR}")).json()
    assert figures["people"]["total"] == figures["people"]["patients"] == 5
    design = next(r for r in figures["by_category"] if r["key"] == "co_design")
    assert design["involvements"] == 5 and design["hours"] == 25.0
    assert figures["spend"] == {"fees_pence": 4 * 14000, "expenses_pence": 5 * 450}
    phone = next(r for r in figures["by_mode"] if r["key"] == "phone")
    assert phone["hours"] == 25.0 and phone["fees_pence"] == 4 * 14000


async def test_small_counts_are_hidden_and_the_page_says_exactly_which(client, world):
    t = await trust(world)
    day = FY.start + dt.timedelta(days=10)
    people = []
    for i in range(7):
        rep = await person(
            t,
            f"Person {i}",
            "carer" if i == 0 else "patient",
            contract_from=FY.start - dt.timedelta(days=30),
            equality={"sex": "female" if i < 3 else "male", "ethnicity": "prefer_not_to_say"},
        )
        if i == 1:  # one person took part the year before too: not new this year
            await took_part(t, rep, FY.start - dt.timedelta(days=10))
        people.append(await took_part(t, rep, day + dt.timedelta(days=i)))
    assert [suppress(c) for c in (0, 1, 4, 5, 9)] == [0, None, None, 5, 9]
    actor = Actor(user=None, organisation_id=t.organisation_id, roles=frozenset({Role.REPORTER}))
    report = await reports.organisation_report(actor, FY)
    sex = next(c for c in report.reach if c["characteristic"] == "sex")
    groups = {g["group"]: g["people"] for g in sex["groups"]}
    assert groups["female"] is None  # 3 people: suppressed
    # ...and, since the total answering is shown, the only other count is hidden with it.
    assert groups["male"] is None
    assert sex["answered"] == 7
    ethnicity = next(c for c in report.reach if c["characteristic"] == "ethnicity")
    assert {g["group"]: g["people"] for g in ethnicity["groups"]}["prefer_not_to_say"] == 7
    # Inside the organisation, counts of people who took part are exact, even one carer.
    assert report.people["carers"] == 1 and report.people["patients"] == 6
    assert report.people["new"] == 6

    org = await Organisation.get(id=t.organisation_id)
    await world.user(org, "rita@trust.example", Role.REPORTER)
    await sign_in(client, "rita@trust.example")
    page = await client.get(f"/reports?year={YEAR}")
    assert page.status_code == 200
    listed = hidden_on(page.text)
    assert listed == report.hidden()
    # Those who took part are the representatives too: their column hides the same counts.
    assert listed == [
        "What is your sex?: Female",
        "What is your sex?: Female (representatives)",
        "What is your sex?: Male",
        "What is your sex?: Male (representatives)",
    ]
    assert "4 figures are hidden on this page" in page.text
    assert (
        "this report hides counts of people in each equality monitoring group, "
        "wellbeing conversations, survey answers and people who said how an activity went "
        "that are from 1 to 4" in page.text
    )
    assert "also hides counts of people who took part" in page.text

    # The download can leave the organisation: there the lone carer is hidden, and the
    # patients with them, since the total would give the carer away.
    csv_text = (await client.get(f"/api/v1/reports/organisation.csv?year={YEAR}")).text
    assert "people,,carers,suppressed\r\n" in csv_text
    assert "people,,patients,suppressed\r\n" in csv_text
    assert "people,,total,7\r\n" in csv_text
    # Six new people of seven would give away the one who came back: hidden too.
    assert "people,,new,suppressed\r\n" in csv_text

    # In a year nobody took part, only the representatives (counted as they stand, whatever
    # the period) have small counts to hide.
    empty = await client.get(f"/reports?year={YEAR - 3}")
    assert hidden_on(empty.text) == [
        "What is your sex?: Female (representatives)",
        "What is your sex?: Male (representatives)",
    ]


def test_a_lone_hidden_count_takes_another_with_it():
    from coprod.domain.reporting import suppress_with_total

    assert suppress_with_total({"a": None, "b": 7, "c": 12}) == {"a": None, "b": None, "c": 12}
    assert suppress_with_total({"a": None, "b": None, "c": 12}) == {"a": None, "b": None, "c": 12}
    assert suppress_with_total({"a": 5, "b": 7}) == {"a": 5, "b": 7}
    assert suppress_with_total({"a": None, "b": 0, "c": 9}) == {"a": None, "b": 0, "c": None}


async def test_local_population_figures_are_entered_checked_and_shown(client, world):
    org = await world.org()
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    await sign_in(client, "reporter@trust.example")
    for bad in ("inf", "nan", "101", "lots"):
        refused = await client.post_form(
            "/reports/population", {"characteristic": "sex", "group": "female", "percent": bad}
        )
        assert refused.status_code == 422, bad
        assert "Enter a percentage from 0 to 100" in refused.text
    wrong_group = await client.post_form(
        "/reports/population", {"characteristic": "sex", "group": "white", "percent": "50"}
    )
    assert wrong_group.status_code == 422 and "Select a group" in wrong_group.text
    saved = await client.post_form(
        "/reports/population", {"characteristic": "sex", "group": "female", "percent": "51.2"}
    )
    assert saved.status_code == 303
    report = await client.get("/api/v1/reports/organisation")
    sex = next(c for c in report.json()["reach"] if c["characteristic"] == "sex")
    assert {g["group"]: g["local_population_percent"] for g in sex["groups"]}["female"] == 51.2


async def test_the_report_page_explains_a_bad_team_or_period(client, world):
    org = await world.org()
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    await sign_in(client, "reporter@trust.example")
    for query in ("team=%C2%B2", "team=999999", "period=quarter&quarter=9", "year=1066"):
        response = await client.get(f"/reports?{query}")
        assert response.status_code == 422, query
        assert "There is a problem" in response.text
    assert (await client.get("/reports")).status_code == 200
