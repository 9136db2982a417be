"""The roll-ups report exactly what the raw involvement rows report. Random involvement is built
through the services (attendance recorded, changed and removed; claims approved and rejected), so
the roll-ups are kept by the real code; then every figure, for many periods (ragged, single days,
whole months, years), teams, and the network, is compared with the same report computed from the
raw rows. The migration's data step is checked to build the same roll-ups from the raw rows."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from typing import Any

from tortoise import connections

from coprod import clock
from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import Period, financial_year, rollup_changes, whole_months
from coprod.models import Booking, Network, NetworkMember, NetworkMembership, NetworkRole, Team
from coprod.services import attendance, auth, claims, projects
from coprod.services.report_figures import RAW_ROWS, ROLLUPS
from coprod.services.reports import Report, build, network_report
from coprod.services.rollups import run
from tests.involvement import Trust, claimed_and_approved, person, took_part, trust

ROLLUP_TABLES = {
    "rollup_activity_day": "organisation_id, day, activity_id, mode, category, team_id,"
    " project_id, involvements, minutes, fee_pence, expenses_pence",
    "rollup_person_day": "organisation_id, day, team_id, representative_id,"
    " representative_type, involvements",
    "rollup_person_month": "organisation_id, month, team_id, representative_id,"
    " representative_type, involvements",
    "rollup_person_first": "organisation_id, team_id, representative_id, first_day",
}


def _answers(rng: random.Random) -> dict[str, str]:
    return {q.key: rng.choice(["", *sorted(q.values)]) for q in QUESTIONS}


async def _random_involvement(t: Trust, rng: random.Random, *, first: dt.date, last: dt.date):
    """About 40 attendances of 9 people, some changed or taken back, then claims: most approved
    (which spreads fees and expenses over the rows), one rejected."""
    org = t.organisation_id
    teams = [None, *[(await Team.create(organisation_id=org, name=n)).id for n in "AB"]]
    project_ids = [None] + [
        (await projects.create_project(t.lead, {"name": f"Project {i}"})).id for i in range(3)
    ]
    people = [
        await person(
            t,
            f"Person {org}-{i}",
            ("patient", "carer", "both")[i % 3],
            contract_from=first,
            declines_payment=i == 0,
            equality=_answers(rng) if i % 4 else None,
        )
        for i in range(9)
    ]
    rows: list[dict[str, Any]] = []
    taken: set[tuple[int, dt.date]] = set()
    while len(rows) < 40:
        rep = rng.choice(people)
        # Days bunch around month ends, where whole months and ragged ends meet.
        day = first + dt.timedelta(days=rng.randrange((last - first).days + 1))
        if (rep.id, day) in taken:
            continue
        taken.add((rep.id, day))
        row = await took_part(
            t,
            rep,
            day,
            category=rng.choice(["co_design", "co_decision", "co_delivery", "co_evaluation", None]),
            mode=rng.choice(["in_person", "video", "phone"]),
            minutes=rng.choice([60, 120, 300]),
            team_id=rng.choice(teams),
            project_id=rng.choice(project_ids),
        )
        row["rep"] = rep
        rows.append(row)
    # Attendance changed, and taken back (a no-show removes the involvement).
    for row in rng.sample(rows, 12):
        booking = await Booking.get(
            activity_id=row["activity_id"], representative_id=row["representative_id"]
        )
        if rng.random() < 0.5:
            row["minutes"] = rng.choice([30, 200, 420])
            await attendance.record_attendance(
                t.lead, booking, {"attended": "yes", "attended_minutes": str(row["minutes"])}
            )
        else:
            await attendance.record_attendance(t.lead, booking, {"attended": "no"})
            rows.remove(row)
    paid = [p for p in people if any(r["rep"] is p for r in rows)]
    for i, rep in enumerate(paid[:-1]):
        await claimed_and_approved(t, rep, rows, miles=i % 3 * 7)
    rejected = paid[-1]
    days = [r["day"] for r in rows if r["rep"] is rejected]
    claim = await claims.generate_draft(
        t.lead,
        rejected,
        {"period_start": min(days).isoformat(), "period_end": max(days).isoformat()},
    )
    await claims.submit(t.lead, claim)
    await claims.reject(t.approver, claim, {"reason": "Dates are wrong"})
    return teams, rows


def _periods(rng: random.Random, first: dt.date, last: dt.date) -> list[Period]:
    fy = financial_year(first.year if first.month >= 4 else first.year - 1)
    span = (last - first).days
    found = [
        fy,
        financial_year(fy.start.year + 1),
        Period(first, last, "everything"),
        Period(dt.date(first.year, first.month, 1), dt.date(last.year, last.month, 1), "1st"),
    ]
    for _ in range(14):
        start = first + dt.timedelta(days=rng.randrange(span))
        found.append(
            Period(start, start + dt.timedelta(days=rng.choice([0, 1, 20, 45, 100, 300])), "")
        )
    return found


async def _same(report: Report) -> dict[str, Any]:
    """The report from the roll-ups, after checking each raw figure and the whole report
    against the raw rows."""
    for name in ("people", "projects", "answers", "members"):
        assert await getattr(ROLLUPS, name)(report) == await getattr(RAW_ROWS, name)(report), (
            name,
            report.period,
            report.team_id,
        )
    for column in ("category", "mode"):
        assert await ROLLUPS.by(report, column) == await RAW_ROWS.by(report, column)
    fresh = Report(report.period, report.organisations, report.team_id, outside=report.outside)
    from_rollups = (await build(report)).as_dict()
    assert from_rollups == (await build(fresh, RAW_ROWS)).as_dict()
    return from_rollups


async def test_every_figure_from_the_roll_ups_equals_the_raw_rows(world):
    rng = random.Random(11)
    last = clock.today() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=420)
    north = await trust(world, "Northshire NHS Trust", "north")
    south = await trust(world, "Southshire NHS Trust", "south")
    teams, rows = await _random_involvement(north, rng, first=first, last=last)
    await _random_involvement(south, rng, first=first, last=last)

    reports = []
    for period in _periods(rng, first, last):
        for team in teams:
            for outside in (False, True):
                reports.append(
                    await _same(Report(period, [north.organisation_id], team, outside=outside))
                )
        reports.append(
            await _same(
                Report(period, [north.organisation_id, south.organisation_id], outside=True)
            )
        )
    # The comparison meant something: people, money and answers were counted.
    everything = Report(Period(first, last, ""), [north.organisation_id])
    counted = await ROLLUPS.people(everything)
    assert counted["total"] == len({r["representative_id"] for r in rows}) > 5
    assert sum(t.fees for t in (await ROLLUPS.by(everything, "mode")).values()) > 0
    assert await ROLLUPS.answers(everything)
    assert any(r["spend"]["expenses_pence"] for r in reports)

    # The network report, as a network reporter asks for it, from both sources.
    network = await Network.create(name="Shires network")
    for t in (north, south):
        await NetworkMembership.create(network=network, organisation_id=t.organisation_id)
    await NetworkMember.create(
        user=north.lead.user, network=network, role=NetworkRole.NETWORK_REPORTER
    )
    actor = await auth.actor_for(north.lead.user, north.organisation_id)  # type: ignore[arg-type]
    for period in _periods(rng, first, last)[:6]:
        _, from_rollups = await network_report(actor, network.id, period)
        _, from_raw = await network_report(actor, network.id, period, RAW_ROWS)
        assert from_rollups.as_dict() == from_raw.as_dict()


async def test_the_migration_builds_the_same_roll_ups_from_the_raw_rows(world):
    rng = random.Random(5)
    last = clock.today() - dt.timedelta(days=1)
    t = await trust(world)
    await _random_involvement(t, rng, first=last - dt.timedelta(days=200), last=last)
    kept = {table: await _rows(table, columns) for table, columns in ROLLUP_TABLES.items()}
    assert all(kept.values())
    for table in ROLLUP_TABLES:
        await run(f"DELETE FROM {table}")
    migration = importlib.import_module("migrations.0011_rollups")
    conn = connections.get("default")
    for sql in migration.fill_statements(conn.capabilities.dialect):
        await conn.execute_script(sql)
    rebuilt = {table: await _rows(table, columns) for table, columns in ROLLUP_TABLES.items()}
    assert rebuilt == kept


async def _rows(table: str, columns: str) -> list[tuple[str, ...]]:
    found = await run(f"SELECT {columns} FROM {table}")
    return sorted(tuple(str(v) for v in r.values()) for r in found)


def test_whole_months_and_ragged_ends():
    d = dt.date
    cases = [
        # period, whole months, ragged ends
        ((d(2025, 4, 1), d(2026, 3, 31)), (d(2025, 4, 1), d(2026, 3, 1)), []),
        ((d(2025, 4, 2), d(2025, 4, 30)), None, [(d(2025, 4, 2), d(2025, 4, 30))]),
        ((d(2025, 4, 1), d(2025, 4, 1)), None, [(d(2025, 4, 1), d(2025, 4, 1))]),
        ((d(2025, 2, 1), d(2025, 2, 28)), (d(2025, 2, 1), d(2025, 2, 1)), []),
        ((d(2024, 2, 1), d(2024, 2, 28)), None, [(d(2024, 2, 1), d(2024, 2, 28))]),
        (
            (d(2025, 1, 31), d(2025, 3, 1)),
            (d(2025, 2, 1), d(2025, 2, 1)),
            [(d(2025, 1, 31), d(2025, 1, 31)), (d(2025, 3, 1), d(2025, 3, 1))],
        ),
        ((d(2025, 1, 15), d(2025, 2, 14)), None, [(d(2025, 1, 15), d(2025, 2, 14))]),
        ((d(2025, 12, 1), d(2026, 1, 31)), (d(2025, 12, 1), d(2026, 1, 1)), []),
        (
            (d(2025, 12, 5), d(2026, 1, 31)),
            (d(2026, 1, 1), d(2026, 1, 1)),
            [(d(2025, 12, 5), d(2025, 12, 31))],
        ),
    ]
    for (start, end), months, ends in cases:
        got_months, got_ends = whole_months(Period(start, end, ""))
        assert got_months == months, (start, end)
        assert [(p.start, p.end) for p in got_ends] == ends, (start, end)


def test_a_changed_row_moves_its_counts_and_an_unchanged_one_changes_nothing():
    row = {
        "organisation_id": 1,
        "activity_id": 7,
        "project_id": None,
        "team_id": 3,
        "representative_id": 9,
        "representative_type": "carer",
        "category": None,
        "mode": "video",
        "day": dt.date(2026, 5, 31),
        "minutes": 120,
        "fee_pence": 0,
        "expenses_pence": 0,
    }
    assert rollup_changes([row], [row]) == {
        "rollup_activity_day": {},
        "rollup_person_day": {},
        "rollup_person_month": {},
    }
    paid = {**row, "fee_pence": 7000, "minutes": 90}
    assert rollup_changes([row], [paid]) == {
        "rollup_activity_day": {(1, dt.date(2026, 5, 31), 7, "video", "", 3, 0): (0, -30, 7000, 0)},
        "rollup_person_day": {},
        "rollup_person_month": {},
    }
    moved = {**row, "day": dt.date(2026, 6, 1)}
    assert rollup_changes([row], [moved])["rollup_person_month"] == {
        (1, dt.date(2026, 5, 1), 3, 9, "carer"): (-1,),
        (1, dt.date(2026, 6, 1), 3, 9, "carer"): (1,),
    }
    assert rollup_changes([row], [])["rollup_person_day"] == {
        (1, dt.date(2026, 5, 31), 3, 9, "carer"): (-1,),
    }
