"""Reports: figures match counts computed independently from the raw rows; suppression;
authorisation. Rows are inserted directly so the test controls every value."""

from __future__ import annotations

import datetime as dt
import random

from coprod.domain.reporting import financial_year, quarter, suppress
from coprod.models import (
    EqualityResponse,
    Involvement,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    Representative,
    Role,
)
from coprod.services import auth, reports
from coprod.services.actor import Actor
from tests.conftest import sign_in

FY = financial_year(2026)


async def seed(org_id: int, rng: random.Random, n: int = 200, reps: int = 30) -> list[dict]:
    rows = []
    for i in range(n):
        rep = rng.randrange(reps) + org_id * 1000
        rows.append(
            dict(
                organisation_id=org_id,
                booking_id=None,
                activity_id=rng.randrange(40),
                project_id=rng.choice([None, 1, 2, 3]),
                team_id=rng.choice([None, 7, 8]),
                representative_id=rep,
                representative_type=("patient", "carer", "both")[rep % 3],
                category=rng.choice(
                    ["co_design", "co_decision", "co_delivery", "co_evaluation", None]
                ),
                kind="meeting",
                mode=rng.choice(["in_person", "video", "phone"]),
                day=dt.date(2026, 4, 1) + dt.timedelta(days=rng.randrange(-60, 420)),
                minutes=rng.choice([60, 120, 240, 300]),
                fee_pence=rng.choice([0, 7000, 14000]),
                expenses_pence=rng.randrange(0, 3000),
            )
        )
    await Involvement.bulk_create([Involvement(**r) for r in rows])
    return rows


def in_period(rows, period, team=None):
    return [
        r
        for r in rows
        if period.start <= r["day"] <= period.end and (team is None or r["team_id"] == team)
    ]


async def test_the_figures_match_counts_from_the_raw_rows(world):
    org = await world.org()
    rows = await seed(org.id, random.Random(7))
    actor = Actor(user=None, organisation_id=org.id, roles=frozenset({Role.REPORTER}))
    for period, team in ((FY, None), (quarter(2026, 2), None), (FY, 7)):
        report = await reports.organisation_report(actor, period, team)
        mine = in_period(rows, period, team)
        for row in report.by_category:
            chosen = [r for r in mine if r["category"] == row["key"]]
            assert row["involvements"] == len(chosen)
            assert row["activities"] == len({r["activity_id"] for r in chosen})
            assert row["hours"] == round(sum(r["minutes"] for r in chosen) / 60, 1)
            assert row["fees_pence"] == sum(r["fee_pence"] for r in chosen)
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
        projects = {}
        for r in mine:
            if r["project_id"] and r["category"]:
                projects.setdefault(r["project_id"], []).append(r["category"])
        assert report.projects["end_to_end"] == sum(
            1 for c in projects.values() if len(set(c)) == 4
        )


async def test_small_counts_are_suppressed_after_aggregation(world):
    org = await world.org()
    rows = await seed(org.id, random.Random(3), n=60, reps=12)
    reps = sorted({r["representative_id"] for r in in_period(rows, FY)})
    for i, rep in enumerate(reps):
        await Representative.create(
            id=rep, organisation_id=org.id, full_name=f"Person {i}", representative_type="patient"
        )
        await EqualityResponse.create(
            representative_id=rep, sex="female" if i < 3 else "male", ethnicity="prefer_not_to_say"
        )
    assert [suppress(c) for c in (0, 1, 4, 5, 9)] == [0, None, None, 5, 9]
    actor = Actor(user=None, organisation_id=org.id, roles=frozenset({Role.REPORTER}))
    report = await reports.organisation_report(actor, FY)
    sex = next(c for c in report.reach if c["characteristic"] == "sex")
    groups = {g["group"]: g["people"] for g in sex["groups"]}
    assert groups["female"] is None  # 3 people: suppressed
    # ...and, since the total answering is shown, the only other count is hidden with it.
    assert groups["male"] is None
    assert sex["answered"] == len(reps)
    ethnicity = next(c for c in report.reach if c["characteristic"] == "ethnicity")
    assert {g["group"]: g["people"] for g in ethnicity["groups"]}["prefer_not_to_say"] == len(reps)


async def test_reporters_see_only_their_organisation_and_networks_only_members(client, world):
    mine = await world.org("Mine")
    theirs = await world.org("Theirs")
    outside = await world.org("Outside")
    await seed(mine.id, random.Random(1))
    await seed(theirs.id, random.Random(2))
    await seed(outside.id, random.Random(3))
    network = await Network.create(name="Crisis care network")
    for org in (mine, theirs):
        await NetworkMembership.create(network=network, organisation=org)
    user = await world.user(mine, "reporter@trust.example", Role.REPORTER)
    await NetworkMember.create(user=user, network=network, role=NetworkRole.NETWORK_REPORTER)
    actor = await auth.actor_for(user, mine.id)
    report = await reports.organisation_report(actor, FY)
    assert report.organisations == [mine.id]
    _, rolled = await reports.network_report(actor, network.id, FY)
    assert sorted(rolled.organisations) == sorted([mine.id, theirs.id])
    assert [m["organisation"] for m in rolled.members] == ["Mine", "Theirs"]
    expected = await Involvement.filter(
        organisation_id__in=[mine.id, theirs.id], day__gte=FY.start, day__lte=FY.end
    ).count()
    assert sum(row["involvements"] for row in rolled.by_category) == expected
    other = await Network.create(name="Not theirs")
    import pytest

    from coprod.errors import NotFound

    with pytest.raises(NotFound):
        await reports.network_report(actor, other.id, FY)
    await sign_in(client, "reporter@trust.example")
    assert (await client.get(f"/reports/networks/{other.id}")).status_code == 404


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
