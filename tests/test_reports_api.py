"""The reports API: JSON figures equal counts worked out here from the involvement the services
wrote (attendance, claim, approval), the CSV carries the same numbers, periods and teams are
checked field by field, and people see only what their role and networks allow. No test writes
report rows by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random

import pytest

from coprod.domain.reporting import Period, financial_year, financial_year_of, quarter
from coprod.domain.scheduling import LONDON
from coprod.models import (
    AuditEvent,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    Organisation,
    PopulationFigure,
    Representative,
    Role,
    Team,
)
from coprod.validation import ValidationFailed
from coprod.web.api.periods import period_from
from tests.conftest import sign_in
from tests.involvement import last_financial_year, seed, trust
from tests.openapi_doc import resolve

API = "/api/v1/reports"
CATEGORIES = ("co_design", "co_decision", "co_delivery", "co_evaluation")
YEAR = last_financial_year()
FY = financial_year(YEAR)


def within(rows: list[dict], period: Period, team: int | None = None) -> list[dict]:
    return [
        r
        for r in rows
        if period.start <= r["day"] <= period.end and (team is None or r["team_id"] == team)
    ]


def hours(rows: list[dict]) -> float:
    return round(sum(r["minutes"] for r in rows) / 60, 1)


def people(rows: list[dict], kind: str | None = None) -> int:
    return len({r["representative_id"] for r in rows if kind in (None, r["representative_type"])})


def assert_figures(got: dict, rows: list[dict], period: Period, team: int | None) -> None:
    """Every figure of the JSON, against counts made here from the seeded rows."""
    mine = within(rows, period, team)
    assert mine, "the seed should put rows in every period tested"
    assert got["period"] == {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "label": period.label,
    }
    assert got["team_id"] == team
    by_category = {row["key"]: row for row in got["by_category"]}
    assert set(CATEGORIES) <= set(by_category)
    for key, row in by_category.items():
        chosen = [r for r in mine if r["category"] == key]
        assert row["involvements"] == len(chosen), key
        assert row["activities"] == len({r["activity_id"] for r in chosen}), key
        assert row["hours"] == hours(chosen), key
        assert row["fees_pence"] == sum(r["fee_pence"] for r in chosen), key
        assert row["expenses_pence"] == sum(r["expenses_pence"] for r in chosen), key
    assert sum(row["involvements"] for row in got["by_category"]) == len(mine)
    for row in got["by_mode"]:
        chosen = [r for r in mine if r["mode"] == row["key"]]
        assert row["involvements"] == len(chosen), row["key"]
        assert row["hours"] == hours(chosen), row["key"]
    scope = [r for r in rows if team is None or r["team_id"] == team]
    first: dict[int, dt.date] = {}
    for r in sorted(scope, key=lambda r: r["day"]):
        first.setdefault(r["representative_id"], r["day"])
    assert got["people"] == {
        "patients": people(mine, "patient"),
        "carers": people(mine, "carer"),
        "both": people(mine, "both"),
        "total": people(mine),
        "new": sum(1 for d in first.values() if period.start <= d <= period.end),
    }
    assert got["spend"] == {
        "fees_pence": sum(r["fee_pence"] for r in mine),
        "expenses_pence": sum(r["expenses_pence"] for r in mine),
    }
    projects: dict[int, list[dict]] = {}
    for r in mine:
        if r["project_id"] and r["category"]:
            projects.setdefault(r["project_id"], []).append(r)
    end_to_end = sum(1 for p in projects.values() if len({r["category"] for r in p}) == 4)
    single = sum(1 for p in projects.values() if len(p) == 1)
    assert got["projects"] == {
        "end_to_end": end_to_end,
        "single_touchpoint": single,
        "other": len(projects) - end_to_end - single,
    }
    assert got["members"] == []


def csv_rows(response) -> dict[tuple[str, str, str], str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
    assert response.text.startswith("\ufeff")  # so Excel reads it as UTF-8
    reader = csv.reader(io.StringIO(response.text.removeprefix("\ufeff")))
    assert next(reader) == ["section", "key", "measure", "value"]
    found = {}
    for section, key, measure, value in reader:
        assert (section, key, measure) not in found, "each figure once"
        found[section, key, measure] = value
    return found


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


# ---------------------------------------------------------------------------- figures


async def test_json_figures_match_counts_from_the_raw_rows(client, world):
    t = await trust(world)
    org = await Organisation.get(id=t.organisation_id)
    crisis = await Team.create(organisation=org, name="Crisis")
    recovery = await Team.create(organisation=org, name="Recovery")
    rows = await seed(
        t, random.Random(11), first=FY.start, teams=(None, crisis.id, recovery.id), n=90, reps=12
    )
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    await sign_in(client, "reporter@trust.example")

    y = YEAR
    cases = [
        (f"?period=year&year={y}", FY, None),
        (f"?year={y}", FY, None),  # a financial year is the default
        (f"?period=quarter&year={y}&quarter=2", quarter(y, 2), None),
        (f"?period=quarter&year={y}&quarter=4", quarter(y, 4), None),
        (
            f"?period=custom&start={y}-05-01&end={y}-07-31",
            Period(dt.date(y, 5, 1), dt.date(y, 7, 31), f"1 May {y} to 31 July {y}"),
            None,
        ),
        (f"?period=year&year={y}&team={crisis.id}", FY, crisis.id),
        (f"?period=quarter&year={y}&quarter=3&team={recovery.id}", quarter(y, 3), recovery.id),
    ]
    for query, period, team in cases:
        response = await client.get(f"{API}/organisation{query}")
        assert response.status_code == 200, (query, response.text)
        assert_figures(response.json(), rows, period, team)

    # Nothing asked: the current financial year.
    today = dt.datetime.now(LONDON).date()
    current = (await client.get(f"{API}/organisation")).json()["period"]
    assert current["start"] == financial_year(financial_year_of(today)).start.isoformat()


async def test_the_csv_carries_the_json_numbers_and_marks_suppressed_counts(client, world):
    t = await trust(world)
    org = await Organisation.get(id=t.organisation_id)
    rows = await seed(
        t,
        random.Random(5),
        first=FY.start,
        name="Zebedee",
        equality=lambda i: {"sex": "female" if i < 3 else "male"},
    )
    fy = FY
    involved = sorted({r["representative_id"] for r in within(rows, fy)})
    first_three = await Representative.filter(organisation_id=org.id).order_by("id").limit(3)
    women = [rep.id for rep in first_three if rep.id in involved]
    assert len(women) == 3 and len(involved) >= 8, "the seed should involve three women"
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    await sign_in(client, "reporter@trust.example")

    figures = (await client.get(f"{API}/organisation?year={YEAR}")).json()
    found = csv_rows(await client.get(f"{API}/organisation.csv?year={YEAR}"))
    by_category = {row["key"]: row for row in figures["by_category"]}
    for key in CATEGORIES:
        assert float(found["by_category", key, "hours"]) == by_category[key]["hours"]
        assert int(found["by_category", key, "involvements"]) == by_category[key]["involvements"]
        assert int(found["by_category", key, "fees_pence"]) == by_category[key]["fees_pence"]
    assert float(found["by_category", "co_design", "hours"]) == hours(
        [r for r in within(rows, fy) if r["category"] == "co_design"]
    )
    assert int(found["people", "", "total"]) == figures["people"]["total"] == len(involved)
    assert int(found["spend", "", "expenses_pence"]) == figures["spend"]["expenses_pence"]
    assert int(found["spend", "", "fees_pence"]) == sum(r["fee_pence"] for r in within(rows, fy))
    assert found["period", "", "start"] == f"{YEAR}-04-01"
    assert found["period", "", "end"] == f"{YEAR + 1}-03-31"

    # Three women: a count that could point to a person, suppressed after aggregation.
    sex = next(c for c in figures["reach"] if c["characteristic"] == "sex")
    groups = {g["group"]: g["people"] for g in sex["groups"]}
    assert groups["female"] is None
    assert found["reach", "sex.female", "people"] == "suppressed"
    # With the answered total shown, the men's count would give the women's away: it is hidden
    # too (complementary suppression).
    assert groups["male"] is None
    assert found["reach", "sex.male", "people"] == "suppressed"
    assert int(found["reach", "sex", "answered"]) == len(involved)
    # A missing figure that is not a small count is empty, not "suppressed"; zero stays zero.
    assert found["access_arrangements", "", "share_on_time"] == ""
    assert found["wellbeing_checks", "", "proceed"] == "0"
    assert found["reach", "sex.female", "local_population_percent"] == ""
    assert "Zebedee" not in json.dumps(figures) and "Zebedee" not in str(found)


# ---------------------------------------------------------------------------- input


def test_period_from_reads_years_quarters_and_custom_dates():
    feb = dt.date(2027, 2, 1)  # in the financial year 2026, quarter 4
    assert period_from({}, today=feb) == financial_year(2026)
    assert period_from({"period": "year", "year": "2030"}, today=feb) == financial_year(2030)
    assert period_from({"period": "quarter"}, today=feb) == quarter(2026, 4)
    assert period_from({"period": "quarter", "year": "2026", "quarter": "2"}) == Period(
        dt.date(2026, 7, 1), dt.date(2026, 9, 30), "Quarter 2 of 2026 to 2027"
    )
    assert period_from({"period": "quarter", "year": "2026", "quarter": "4"}).start == dt.date(
        2027, 1, 1
    )
    custom = period_from({"period": "custom", "start": "2026-05-01", "end": "2026-07-31"})
    assert (custom.start, custom.end) == (dt.date(2026, 5, 1), dt.date(2026, 7, 31))
    # The NHS date input's boxes work too, for the HTML pages.
    boxes = {"period": "custom", "start[day]": "1", "start[month]": "5", "start[year]": "2026"}
    assert period_from({**boxes, "end": "2026-05-01"}).start == dt.date(2026, 5, 1)
    # Five years at most: 1 April 2026 to 31 March 2031 is, a day more is not.
    five = {"period": "custom", "start": "2026-04-01", "end": "2031-03-31"}
    assert period_from(five).end == dt.date(2031, 3, 31)
    with pytest.raises(ValidationFailed) as too_long:
        period_from({**five, "end": "2031-04-01"})
    assert list(too_long.value.by_field()) == ["end"]
    assert "at most 5 years" in too_long.value.by_field()["end"]


async def test_bad_periods_and_teams_are_422_field_by_field(client, world):
    mine = await world.org("Mine")
    theirs = await world.org("Theirs")
    own_team = await Team.create(organisation=mine, name="Crisis")
    their_team = await Team.create(organisation=theirs, name="Crisis")
    await world.user(mine, "reporter@trust.example", Role.REPORTER)
    await sign_in(client, "reporter@trust.example")

    async def errors(query: str, csv_too: bool = True) -> dict[str, str]:
        response = await client.get(f"{API}/organisation?{query}")
        assert response.status_code == 422, (query, response.text)
        if csv_too:
            assert (await client.get(f"{API}/organisation.csv?{query}")).status_code == 422
        return {e["field"]: e["message"] for e in response.json()["errors"]}

    assert await errors("year=twenty") == {"year": "The year must be a whole number, like 2026"}
    assert await errors("year=1066") == {"year": "The year must be between 2000 and 2100"}
    assert await errors("period=quarter&year=2026&quarter=5") == {
        "quarter": "Select a quarter from 1 to 4"
    }
    assert await errors("period=custom&start=2026-07-31&end=2026-05-01") == {
        "end": "The end date must be the same as or after the start date"
    }
    assert await errors("period=custom&start=2026-02-30", csv_too=False) == {
        "start": "The start date must be a real date",
        "end": "Enter the end date",
    }
    assert await errors("period=custom&start=1999-12-31&end=2000-01-31", csv_too=False) == {
        "start": "The start date must be between 2000 and 2100"
    }
    assert await errors("period=custom&start=2026-04-01&end=2031-04-01", csv_too=False) == {
        "end": "The period can be at most 5 years long: "
        "choose an end date on or before 31 March 2031"
    }
    assert await errors("period=fortnight") == {
        "period": "Select a period: a financial year, a quarter or custom dates"
    }
    # Another organisation's team is unknown here, as is nonsense; with a bad year, both say so.
    assert await errors(f"team={their_team.id}") == {"team": "Select a team in your organisation"}
    assert await errors("team=crisis&year=abc", csv_too=False) == {
        "year": "The year must be a whole number, like 2026",
        "team": "Select a team in your organisation",
    }
    assert await errors("team=99999999999999999999", csv_too=False) == {
        "team": "Select a team in your organisation"
    }
    ok = await client.get(f"{API}/organisation?team={own_team.id}")
    assert ok.status_code == 200 and ok.json()["team_id"] == own_team.id


# ---------------------------------------------------------------------------- who sees what


async def test_a_reporter_sees_only_their_organisation(client, make_client, world):
    my_trust, their_trust = (
        await trust(world, "Mine", "mine"),
        await trust(world, "Theirs", "theirs"),
    )
    mine = await Organisation.get(id=my_trust.organisation_id)
    my_rows = await seed(my_trust, random.Random(1), first=FY.start, n=30, reps=8)
    their_rows = await seed(their_trust, random.Random(2), first=FY.start, n=30, reps=8)
    fy = FY
    await world.user(mine, "reporter@trust.example", Role.REPORTER)
    await sign_in(client, "reporter@trust.example")

    figures = (await client.get(f"{API}/organisation?year={YEAR}")).json()
    assert sum(row["involvements"] for row in figures["by_category"]) == len(within(my_rows, fy))
    assert figures["people"]["total"] == people(within(my_rows, fy))
    assert figures["spend"]["fees_pence"] == sum(r["fee_pence"] for r in within(my_rows, fy))
    assert figures["spend"]["fees_pence"] != sum(
        r["fee_pence"] for r in within(my_rows + their_rows, fy)
    )
    found = csv_rows(await client.get(f"{API}/organisation.csv?year={YEAR}"))
    assert int(found["spend", "", "fees_pence"]) == figures["spend"]["fees_pence"]

    # The other staff roles may read reports; a representative may not; nobody signed out may.
    for i, role in enumerate((Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN, Role.FINANCE_OFFICER)):
        staff = make_client()
        await world.user(mine, f"staff{i}@trust.example", role)
        await sign_in(staff, f"staff{i}@trust.example")
        assert (await staff.get(f"{API}/organisation?year={YEAR}")).json() == figures
    representative = make_client()
    await world.user(mine, "rep@trust.example", Role.REPRESENTATIVE)
    await sign_in(representative, "rep@trust.example")
    for path in ("/organisation", "/organisation.csv"):
        assert (await representative.get(f"{API}{path}")).status_code == 403
        assert (await make_client().get(f"{API}{path}")).status_code == 401


NETWORK_ORGS = ("Mine", "Theirs", "Tiny", "Outside")


async def test_a_network_reporter_sees_members_side_by_side_without_personal_data(
    client, make_client, world
):
    trusts = {name: await trust(world, name, name.lower()) for name in NETWORK_ORGS}
    rows = {
        t.organisation_id: await seed(
            t,
            random.Random(i),
            first=FY.start,
            n=8 if name == "Tiny" else 30,
            # Tiny: three people, a count small enough to point to someone.
            reps=3 if name == "Tiny" else 8,
            name="Zebedee Quill",
            equality=lambda i: {"sex": "male"},
        )
        for i, (name, t) in enumerate(trusts.items())
    }
    mine, theirs, tiny, outside = [
        await Organisation.get(id=trusts[name].organisation_id) for name in NETWORK_ORGS
    ]
    fy = FY
    assert people(within(rows[tiny.id], fy)) == 3

    network = await Network.create(name="Crisis care network")
    for org in (mine, theirs, tiny):
        await NetworkMembership.create(network=network, organisation=org)
    other = await Network.create(name="Not theirs")
    await NetworkMembership.create(network=other, organisation=outside)
    user = await world.user(mine, "nina.network@trust.example", Role.REPORTER)
    await NetworkMember.create(user=user, network=network, role=NetworkRole.NETWORK_REPORTER)
    await sign_in(client, "nina.network@trust.example")

    response = await client.get(f"{API}/networks/{network.id}?year={YEAR}")
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["network"] == {"id": network.id, "name": "Crisis care network"}
    members = [mine.id, theirs.id, tiny.id]
    rolled = [r for org_id in members for r in within(rows[org_id], fy)]
    assert sum(row["involvements"] for row in figures["by_category"]) == len(rolled)
    assert figures["spend"]["fees_pence"] == sum(r["fee_pence"] for r in rolled)
    assert figures["people"]["total"] == people(rolled)
    # Each member side by side, in name order; the outside organisation nowhere.
    assert [m["organisation"] for m in figures["members"]] == ["Mine", "Theirs", "Tiny"]
    for member, org_id in zip(figures["members"], members, strict=True):
        own = within(rows[org_id], fy)
        assert member["involvements"] == len(own)
        assert member["hours"] == hours(own)
        assert member["fees_pence"] == sum(r["fee_pence"] for r in own)
        assert member["expenses_pence"] == sum(r["expenses_pence"] for r in own)
        smallest_other = min(
            (m for m in members if m != tiny.id), key=lambda m: people(within(rows[m], fy))
        )
        hidden = org_id in (
            tiny.id,
            smallest_other,
        )  # Tiny's, and one more so totals cannot give it away
        assert member["people"] == (None if hidden else people(own))
    text = response.text
    assert "Outside" not in text
    # No personal data: no ids or names of people, nothing about a person at all.
    assert "representative_id" not in text
    # "representatives" is a survey audience and a reach column, and the others are counts of
    # people: none is a person.
    assert not {k for k in keys_of(figures) if "representative" in k or "name" in k} - {
        "name",
        "representatives",
        "representatives_answered",
        "became_representatives",
    }
    assert "Zebedee" not in text and "Quill" not in text and "Nina" not in text
    assert "nina.network" not in text

    found = csv_rows(await client.get(f"{API}/networks/{network.id}.csv?year={YEAR}"))
    assert found["network", "", "name"] == "Crisis care network"
    assert found["members", "Tiny", "people"] == "suppressed"
    assert int(found["members", "Mine", "involvements"]) == figures["members"][0]["involvements"]
    assert float(found["members", "Theirs", "hours"]) == figures["members"][1]["hours"]
    assert int(found["people", "", "total"]) == figures["people"]["total"]
    assert not any(key == "Outside" for _, key, _ in found)
    # Survey answers counted for the audience "representatives", the reach column of
    # representatives and how many became representatives are counts, not people.
    csv_text = str(found)
    for count in (
        "audience.representatives",
        "representatives_answered",
        "became_representatives",
        "'representatives'",
    ):
        csv_text = csv_text.replace(count, "")
    assert "Zebedee" not in csv_text and "Nina" not in csv_text and "representative" not in csv_text

    # A network they are not in, or one that does not exist: 404, JSON and CSV alike, even with
    # a bad period. A reporter in no network at all is turned away the same way.
    for network_id in (other.id, other.id + 100):
        for suffix in ("", ".csv"):
            for query in ("", "?year=nonsense"):
                missing = await client.get(f"{API}/networks/{network_id}{suffix}{query}")
                assert missing.status_code == 404, (network_id, suffix, query)
    stranger = make_client()
    await world.user(outside, "olly@trust.example", Role.REPORTER)
    await sign_in(stranger, "olly@trust.example")
    assert (await stranger.get(f"{API}/networks/{network.id}")).status_code == 404
    assert (await stranger.get(f"{API}/networks/{network.id}.csv")).status_code == 404
    bad = await client.get(f"{API}/networks/{network.id}?period=quarter&quarter=5")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quarter"


# ---------------------------------------------------------------------------- OpenAPI


async def test_openapi_describes_the_reports(client):
    doc = (await client.get("/api/v1/openapi.json")).json()
    paths = doc["paths"]
    for path in (
        "/api/v1/reports/organisation",
        "/api/v1/reports/organisation.csv",
        "/api/v1/reports/networks/{id}",
        "/api/v1/reports/networks/{id}.csv",
    ):
        op = paths[path]["get"]
        assert op["tags"] == ["reports"]
        names = {p["name"] for p in op["parameters"]}
        assert {"period", "year", "quarter", "start", "end"} <= names
        assert ("team" in names) == path.startswith("/api/v1/reports/organisation")
        assert ("id" in names) == ("{id}" in path)
        assert "422" in op["responses"]
        content = op["responses"]["200"]["content"]
        if path.endswith(".csv"):
            assert content["text/csv"]["schema"]["type"] == "string"
        else:
            schema = resolve(doc, content["application/json"]["schema"])
            assert {"period", "by_category", "people", "reach", "members"} <= set(
                schema["properties"]
            )
    network = paths["/api/v1/reports/networks/{id}"]["get"]["responses"]["200"]
    schema = resolve(doc, network["content"]["application/json"]["schema"])
    assert "network" in schema["properties"]
    # A count that may be suppressed says it may be null, and why.
    people = resolve(doc, schema["properties"]["people"])["properties"]
    assert {"type": "null"} in people["total"]["anyOf"]
    assert "suppressed" in people["total"]["description"]
    organisation = paths["/api/v1/reports/organisation"]["get"]
    assert organisation["description"] == (
        "Roles: reporter, involvement_lead, org_admin, finance_officer"
    )


# ---------------------------------------------------------------------------- population


async def test_population_figures_are_listed_and_set_as_the_page_sets_them(
    client, make_client, world
):
    mine = await world.org("Mine")
    theirs = await world.org("Theirs")
    await world.user(mine, "reporter@trust.example", Role.REPORTER)
    await sign_in(client, "reporter@trust.example")
    population = f"{API}/population"
    empty = await client.get(population)
    assert empty.status_code == 200 and empty.json() == {"items": [], "next_cursor": None}

    # Field by field, in the service's words (the page's), and nothing saved.
    percent = "Enter a percentage from 0 to 100, like 12.5"
    cases: list[tuple[dict, dict[str, str]]] = [
        ({"characteristic": "sex", "group": "female", "percent": 101}, {"percent": percent}),
        ({"characteristic": "sex", "group": "female", "percent": -1}, {"percent": percent}),
        ({"characteristic": "sex", "group": "white", "percent": 50}, {"group": "Select a group"}),
        (
            {"characteristic": "shoe size", "group": "9", "percent": "50"},
            {
                "characteristic": "Select a characteristic",
                "percent": "The percentage must be a number",
            },
        ),
        (
            {},
            {
                "characteristic": "Select a characteristic",
                "group": "Enter a group",
                "percent": "Enter the percentage",
            },
        ),
    ]
    for body, expected in cases:
        response = await client.api("POST", population, body)
        assert response.status_code == 422, body
        assert {e["field"]: e["message"] for e in response.json()["errors"]} == expected, body
    assert not await PopulationFigure.exists()

    for group, share in (("female", 51.2), ("male", 48.3), ("female", 51.0)):
        saved = await client.api(
            "POST", population, {"characteristic": "sex", "group": group, "percent": share}
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["percent"] == share
    assert await AuditEvent.filter(organisation_id=mine.id, action="population.set").count() == 3
    # Setting a group again replaces its figure; the report compares reach against it.
    first = (await client.get(f"{population}?limit=1")).json()
    assert [(f["group"], f["percent"]) for f in first["items"]] == [("female", 51.0)]
    rest = (await client.get(f"{population}?limit=1&cursor={first['next_cursor']}")).json()
    assert [(f["group"], f["percent"]) for f in rest["items"]] == [("male", 48.3)]
    assert rest["next_cursor"] is None
    report = (await client.get(f"{API}/organisation")).json()
    sex = next(c for c in report["reach"] if c["characteristic"] == "sex")
    assert {g["group"]: g["local_population_percent"] for g in sex["groups"]}["female"] == 51.0

    # Another organisation sees only its own figures; the page's roles are the API's.
    other = make_client()
    await world.user(theirs, "admin@theirs.example", Role.ORG_ADMIN)
    await sign_in(other, "admin@theirs.example")
    assert (await other.get(population)).json()["items"] == []
    lead = make_client()
    await world.user(mine, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    await sign_in(lead, "lead@trust.example")
    assert (await lead.get(population)).status_code == 403
    refused = await lead.api(
        "POST", population, {"characteristic": "sex", "group": "male", "percent": 1}
    )
    assert refused.status_code == 403
    assert await PopulationFigure.filter(organisation_id=mine.id).count() == 2
