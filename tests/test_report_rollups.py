"""The roll-ups report exactly what the raw involvement rows report. Random involvement is built
through the services (attendance recorded, changed and removed; claims approved and rejected), so
the roll-ups are kept by the real code; then every figure, for many periods (ragged, single days,
whole months, years), teams, and the network, is compared with the same report computed from the
raw rows. The migration's data step is checked to build the same roll-ups from the raw rows.

Access arrangements and wellbeing checks are built the same way, through the booking services
(booked, ticked and unticked, cancelled, switched to another way of taking part, moved to
another time or team, checks recorded), and their figures compared with the raw rows too."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import random
from typing import Any

import pytest
from tortoise import connections

from coprod import clock
from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import (
    Period,
    access_changes,
    financial_year,
    rollup_changes,
    whole_months,
    years_of_months,
)
from coprod.domain.scheduling import LONDON
from coprod.errors import Conflict
from coprod.models import (
    AccessArrangement,
    Activity,
    Booking,
    BookingStatus,
    Involvement,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    Team,
)
from coprod.services import (
    activities,
    arrangements,
    attendance,
    auth,
    bookings,
    claims,
    contracts,
    projects,
    representatives,
    rollups,
    wellbeing,
)
from coprod.services.report_figures import RAW_ROWS, ROLLUPS
from coprod.services.reports import Report, build, network_report
from coprod.services.rollups import run
from migrations import rollup_statements
from tests.conftest import postgres_only, sign_in
from tests.involvement import Trust, claimed_and_approved, person, took_part, trust

ROLLUP_TABLES = {
    "rollup_activity_day": "organisation_id, day, activity_id, mode, category, team_id,"
    " project_id, involvements, minutes, fee_pence, expenses_pence",
    "rollup_person_day": "organisation_id, day, team_id, representative_id,"
    " representative_type, involvements",
    "rollup_person_year": "organisation_id, year, team_id, representative_id,"
    " representative_type, april, may, june, july, august, september, october, november,"
    " december, january, february, march",
    "rollup_person_first": "organisation_id, team_id, representative_id, first_day",
    "rollup_training_day": "organisation_id, day, activity_id, involvements",
    "rollup_trainer_day": "organisation_id, day, representative_id, involvements",
    "rollup_trainer_year": "organisation_id, year, representative_id, april, may, june, july,"
    " august, september, october, november, december, january, february, march",
}
ACCESS_TABLE = "rollup_access_day"
ACCESS_COLUMNS = (
    "organisation_id, day, team_id, arranged, on_time, proceed, postpone, adjust_role,"
    " not_this_time"
)


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
        category = rng.choice(["co_design", "co_decision", "co_delivery", "co_evaluation", None])
        row = await took_part(
            t,
            rep,
            day,
            category=category,
            # Some sessions are training delivered to staff.
            kind="training_delivery" if category and rng.random() < 0.3 else None,
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
    for name in ("people", "projects"):
        assert await getattr(ROLLUPS, name)(report) == await getattr(RAW_ROWS, name)(report), (
            name,
            report.period,
            report.team_id,
        )
    for column in ("category", "mode"):
        assert await ROLLUPS.by(report, column) == await RAW_ROWS.by(report, column)
    if not report.team_id:
        assert await ROLLUPS.delivered(report) == await RAW_ROWS.delivered(report), report.period
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
    assert counted.total == len({r["representative_id"] for r in rows}) > 5
    assert counted.by_organisation == {north.organisation_id: counted.total}
    assert sum(t.fees for t in (await ROLLUPS.by(everything, "mode")).values()) > 0
    assert counted.answers
    assert any(r["spend"]["expenses_pence"] for r in reports)
    both = Report(everything.period, [north.organisation_id, south.organisation_id])
    sessions, trainers = await ROLLUPS.delivered(both)
    assert sessions > trainers > 1

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


async def test_correcting_an_activity_after_attendance_moves_its_involvement(client, world):
    """A lead corrects a meeting's team, project and category after it happened, and makes it
    training delivered to staff, through the API: its involvement rows and every roll-up
    follow, and the figures from the roll-ups still equal the raw rows."""
    last = clock.today() - dt.timedelta(days=1)
    t = await trust(world)
    org = t.organisation_id
    team_a, team_b = [(await Team.create(organisation_id=org, name=n)).id for n in "AB"]
    project = (await projects.create_project(t.lead, {"name": "Ward review"})).id
    people = [
        await person(t, f"Person {i}", contract_from=last - dt.timedelta(days=30)) for i in (1, 2)
    ]
    corrected = await took_part(t, people[0], last, category="co_design", team_id=team_a)
    await took_part(t, people[1], last, category="co_design", team_id=team_a)  # left as it was
    period = Period(last - dt.timedelta(days=40), last, "")
    assert await ROLLUPS.delivered(Report(period, [org])) == (0, 0)

    await sign_in(client, "lead@trust.example")
    reply = await client.api(
        "PATCH",
        f"/api/v1/activities/{corrected['activity_id']}",
        {
            "team_id": team_b,
            "project_id": project,
            "category": "co_evaluation",
            "kind": "training_delivery",
        },
    )
    assert reply.status_code == 200, reply.text

    row = await Involvement.get(activity_id=corrected["activity_id"])
    assert (row.team_id, row.project_id, row.category, row.kind) == (
        team_b,
        project,
        "co_evaluation",
        "training_delivery",
    )
    everyone = Report(period, [org])
    by_category = await ROLLUPS.by(everyone, "category")
    assert {key[1]: totals.involvements for key, totals in by_category.items()} == {
        "co_design": 1,
        "co_evaluation": 1,
    }
    assert await ROLLUPS.delivered(everyone) == (1, 1)
    assert (await ROLLUPS.people(Report(period, [org], team_b))).total == 1
    assert (await ROLLUPS.people(Report(period, [org], team_a))).total == 1
    assert await ROLLUPS.projects(everyone) == [(1, 1)]
    for team in (None, team_a, team_b):
        await _same(Report(period, [org], team))
    kept = await _kept()
    assert await _rebuilt() == kept


@postgres_only
async def test_attendance_recorded_while_a_lead_corrects_the_activity_takes_the_correction(world):
    """Six people's attendance is recorded while a lead makes the meeting training delivered to
    staff, all at once: every involvement row ends with the activity's kind and category,
    whichever came first, and the roll-ups with them."""
    last = clock.today() - dt.timedelta(days=1)
    t = await trust(world)
    since = last - dt.timedelta(days=30)
    people = [await person(t, f"Person {i}", contract_from=since) for i in range(6)]
    ahead = dt.datetime.combine(clock.today() + dt.timedelta(days=5), dt.time(10))
    meeting = await activities.create_activity(
        t.lead,
        {
            "title": "Ward review",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": "60",
            "capacity": "20",
            "video": "true",
            "video_link": "https://meet.example/room",
            "starts_at": ahead.isoformat(),
        },
    )
    for rep in people:
        await bookings.book(t.lead, meeting, rep, "video")
    # It has happened: moved into the past, as `took_part` does.
    start = dt.datetime.combine(last, dt.time(10), LONDON).astimezone(dt.UTC)
    await Activity.filter(id=meeting.id).update(starts_at=start)
    await Booking.filter(activity_id=meeting.id).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    booked = await Booking.filter(activity_id=meeting.id).order_by("id")
    correction = {"kind": "training_delivery", "category": "co_delivery"}

    await asyncio.gather(
        *(attendance.record_attendance(t.lead, b, {"attended": "yes"}) for b in booked),
        activities.update_activity(t.lead, await Activity.get(id=meeting.id), correction),
    )

    rows = await Involvement.filter(activity_id=meeting.id).values_list("kind", "category")
    assert rows == [("training_delivery", "co_delivery")] * 6
    report = Report(Period(since, last, ""), [t.organisation_id])
    assert await ROLLUPS.delivered(report) == (1, 6)
    await _same(report)
    kept = await _kept()
    assert await _rebuilt() == kept


async def test_the_migration_builds_the_same_roll_ups_from_the_raw_rows(world, monkeypatch):
    # Each change's roll-up rows split over statements of two, as a change bigger than one
    # statement carries is: the batches must add up to what one statement would.
    monkeypatch.setattr(rollups, "BATCH", 2)
    rng = random.Random(5)
    last = clock.today() - dt.timedelta(days=1)
    t = await trust(world)
    await _random_involvement(t, rng, first=last - dt.timedelta(days=200), last=last)
    kept = await _kept()
    assert all(kept.values())
    assert await _rebuilt() == kept


async def _kept() -> dict[str, list[tuple[str, ...]]]:
    return {table: await _rows(table, columns) for table, columns in ROLLUP_TABLES.items()}


async def _rebuilt() -> dict[str, list[tuple[str, ...]]]:
    """The roll-ups as the migrations' data steps build them from the involvement rows."""
    for table in ROLLUP_TABLES:
        await run(f"DELETE FROM {table}")
    conn = connections.get("default")
    for sql in rollup_statements(conn.capabilities.dialect):
        await conn.execute_script(sql)
    return await _kept()


async def _rows(table: str, columns: str) -> list[tuple[str, ...]]:
    found = await run(f"SELECT {columns} FROM {table}")
    return sorted(tuple(str(v) for v in r.values()) for r in found)


async def test_training_delivered_is_refused_for_a_team_on_both_sides(world):
    """The training roll-ups have no team: a team's report cannot be answered from them, and
    the raw rows refuse it too rather than give a figure the roll-ups could not match."""
    t = await trust(world)
    today = clock.today()
    team = await Team.create(organisation_id=t.organisation_id, name="Crisis team")
    team_report = Report(Period(today, today, ""), [t.organisation_id], team_id=team.id)
    for figures in (ROLLUPS, RAW_ROWS):
        with pytest.raises(ValueError, match="whole organisations"):
            await figures.delivered(team_report)


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


def test_whole_months_fall_in_financial_years():
    d = dt.date
    assert years_of_months(d(2025, 4, 1), d(2026, 3, 1)) == [
        (2025, ("april", "may", "june", "july", "august", "september", "october", "november",
                "december", "january", "february", "march")),
    ]  # fmt: skip
    assert years_of_months(d(2026, 2, 1), d(2026, 5, 1)) == [
        (2025, ("february", "march")),
        (2026, ("april", "may")),
    ]
    assert years_of_months(d(2026, 12, 1), d(2026, 12, 1)) == [(2026, ("december",))]


def test_a_changed_row_moves_its_counts_and_an_unchanged_one_changes_nothing():
    row = {
        "organisation_id": 1,
        "activity_id": 7,
        "project_id": None,
        "team_id": 3,
        "representative_id": 9,
        "representative_type": "carer",
        "category": None,
        "kind": "meeting",
        "mode": "video",
        "day": dt.date(2026, 5, 31),
        "minutes": 120,
        "fee_pence": 0,
        "expenses_pence": 0,
    }
    nothing: dict[str, dict] = {
        table: {}
        for table in (
            "rollup_activity_day",
            "rollup_person_day",
            "rollup_person_year",
            "rollup_training_day",
            "rollup_trainer_day",
            "rollup_trainer_year",
        )
    }
    assert rollup_changes([row], [row]) == nothing
    paid = {**row, "fee_pence": 7000, "minutes": 90}
    # The activity's day counts for its way of taking part and for every way ("").
    assert rollup_changes([row], [paid]) == nothing | {
        "rollup_activity_day": {
            (1, dt.date(2026, 5, 31), 7, "video", "", 3, 0): (0, -30, 7000, 0),
            (1, dt.date(2026, 5, 31), 7, "", "", 3, 0): (0, -30, 7000, 0),
        },
    }
    by_phone = {**row, "mode": "phone"}
    assert rollup_changes([row], [by_phone])["rollup_activity_day"] == {
        (1, dt.date(2026, 5, 31), 7, "video", "", 3, 0): (-1, -120, 0, 0),
        (1, dt.date(2026, 5, 31), 7, "phone", "", 3, 0): (1, 120, 0, 0),
    }
    moved = {**row, "day": dt.date(2026, 6, 1)}
    # A person's year counts them in their team and in the whole organisation (team 0), in the
    # month they took part (May is the second of the financial year, June the third).
    may, june = (0, 1) + (0,) * 10, (0, 0, 1) + (0,) * 9
    moved_on = tuple(j - m for m, j in zip(may, june, strict=True))
    assert rollup_changes([row], [moved])["rollup_person_year"] == {
        (1, 2026, 3, 9, "carer"): moved_on,
        (1, 2026, 0, 9, "carer"): moved_on,
    }
    # March 2027 is the last month of the financial year 2026; April 2027 the first of 2027.
    next_year = {**row, "day": dt.date(2027, 4, 1)}
    assert rollup_changes([{**row, "day": dt.date(2027, 3, 31)}], [next_year])[
        "rollup_person_year"
    ] == {
        (1, 2026, 3, 9, "carer"): (0,) * 11 + (-1,),
        (1, 2026, 0, 9, "carer"): (0,) * 11 + (-1,),
        (1, 2027, 3, 9, "carer"): (1,) + (0,) * 11,
        (1, 2027, 0, 9, "carer"): (1,) + (0,) * 11,
    }
    no_team = {**row, "team_id": None}
    assert rollup_changes([], [no_team])["rollup_person_year"] == {
        (1, 2026, 0, 9, "carer"): may,
    }
    assert rollup_changes([row], [])["rollup_person_day"] == {
        (1, dt.date(2026, 5, 31), 3, 9, "carer"): (-1,),
    }
    # Training delivered to staff counts its session and who delivered it as well; a meeting
    # that becomes training (its kind corrected) moves into them.
    training = {**row, "kind": "training_delivery"}
    found = rollup_changes([row], [training])
    assert found["rollup_training_day"] == {(1, dt.date(2026, 5, 31), 7): (1,)}
    assert found["rollup_trainer_day"] == {(1, dt.date(2026, 5, 31), 9): (1,)}
    assert found["rollup_trainer_year"] == {(1, 2026, 9): may}
    assert found["rollup_person_year"] == {}
    taken_back = rollup_changes([training], [])
    assert taken_back["rollup_training_day"] == {(1, dt.date(2026, 5, 31), 7): (-1,)}
    assert taken_back["rollup_trainer_year"] == {(1, 2026, 9): tuple(-n for n in may)}


# ----------------------------------------------------------------- access and wellbeing


async def _random_access(t: Trust, rng: random.Random) -> list[int | None]:
    """Bookings of people with access needs (some needing a wellbeing conversation) onto
    activities over the coming months, some at London times either side of midnight and the
    spring clock change; then arrangements ticked and unticked, bookings cancelled or switched
    to another way of taking part, activities moved to another time or team, and checks
    recorded. Returns the teams."""
    org = t.organisation_id
    teams = [None, *[(await Team.create(organisation_id=org, name=n)).id for n in "CD"]]
    today = clock.today()
    people = []
    for i in range(8):
        rep = await representatives.create(
            t.lead,
            {
                "full_name": f"Access {org}-{i}",
                "representative_type": "patient",
                "phone": "01632 960 002",
                "contact_channels": ["phone"],
                "payment_preference": "paid",
                "formats": rng.sample(["braille", "large_print", "easy_read", "bsl"], 2),
                "needs_transport": "true" if i % 2 else "",
                "wants_tech_test": "true" if i % 3 else "",
            },
        )
        await contracts.create(
            t.lead, rep, {"role_title": "Expert by experience", "starts_on": today.isoformat()}
        )
        if i % 3 == 0:  # still unwell: each booking waits for a wellbeing conversation
            await wellbeing.give_consent(t.lead, rep, {"purpose": "health"})
            await wellbeing.record_episode(
                t.lead,
                rep,
                {
                    "started_on": (today - dt.timedelta(days=5)).isoformat(),
                    "ended_on": "",
                    "under_crisis_team": "no",
                    "note": "",
                },
            )
        people.append(rep)
    planned = []
    for _ in range(10):
        planned.append(
            await activities.create_activity(
                t.lead,
                {
                    "title": "Access session",
                    "kind": "meeting",
                    "category": "co_design",
                    "duration_minutes": "60",
                    "capacity": "20",
                    "in_person": "true",
                    "address": "1 High Street, Northshire",
                    "video": "true",
                    "video_link": "https://meet.example/room",
                    "phone": "true",
                    "dial_in": "01632 960 000",
                    "team_id": str(rng.choice(teams) or ""),
                    "starts_at": _moment(rng),
                },
            )
        )
    booked = []
    for activity in planned:
        for rep in rng.sample(people, 4):
            mode = rng.choice(["in_person", "video", "phone"])
            try:
                booked.append(await bookings.book(t.lead, activity, rep, mode))
            except Conflict:
                continue  # a clash with their other booking: refused, as it should be
    assert len(booked) > 15
    for arrangement in await AccessArrangement.filter(booking_id__in=[b.id for b in booked]):
        if rng.random() < 0.6:
            await arrangements.tick(t.lead, arrangement, True)
            if rng.random() < 0.2:
                await arrangements.tick(t.lead, arrangement, False)
    for booking in rng.sample(booked, 10):
        booking = await Booking.get(id=booking.id)
        if booking.status == BookingStatus.NEEDS_WELLBEING_CHECK:
            outcome = rng.choice(["proceed", "postpone", "adjust_role", "not_this_time"])
            try:
                await bookings.record_wellbeing_check(
                    t.lead,
                    booking,
                    {
                        "outcome": outcome,
                        "note": "Talked it through",
                        "representative_wish": "To come",
                    },
                )
            except Conflict:
                continue
        elif rng.random() < 0.5:
            await bookings.cancel(t.lead, booking)
        else:
            await bookings.change_mode(t.lead, booking, rng.choice(["in_person", "video"]))
    for activity in rng.sample(planned, 5):
        activity = await Activity.get(id=activity.id)
        if rng.random() < 0.5:
            choice = rng.choice(teams)
            await activities.update_activity(t.lead, activity, {"team_id": str(choice or "")})
        else:
            try:
                await bookings.reschedule(t.lead, activity, {"starts_at": _moment(rng)})
            except Conflict:
                continue  # someone would be left without a place: the lead must decide
    return teams


def _moment(rng: random.Random) -> str:
    """A London time in the coming months, often just either side of midnight, and
    sometimes either side of the spring clock change."""
    today = clock.today()
    spring = next(
        d
        for d in (
            dt.date(today.year + y, 3, 31) - dt.timedelta(days=k) for y in (0, 1) for k in range(7)
        )
        if d.weekday() == 6 and d > today + dt.timedelta(days=10)
    )
    day = rng.choice(
        [
            today + dt.timedelta(days=rng.randrange(10, 200)),
            spring + dt.timedelta(rng.randrange(-2, 3)),
        ]
    )
    time = rng.choice(["00:30", "10:00", "23:30"])
    return f"{day.isoformat()}T{time}"


def _future_periods(rng: random.Random) -> list[Period]:
    today = clock.today()
    found = [Period(today, today + dt.timedelta(days=400), "everything")]
    for _ in range(10):
        start = today + dt.timedelta(days=rng.randrange(200))
        found.append(Period(start, start + dt.timedelta(days=rng.choice([0, 1, 6, 30, 90])), ""))
    return found


async def test_access_and_wellbeing_from_the_roll_up_equal_the_raw_rows(world):
    rng = random.Random(12)
    north = await trust(world, "Northshire NHS Trust", "north")
    south = await trust(world, "Southshire NHS Trust", "south")
    teams = await _random_access(north, rng)
    await _random_access(south, rng)

    both = [north.organisation_id, south.organisation_id]
    for period in _future_periods(rng):
        for team in teams:
            report = Report(period, [north.organisation_id], team)
            assert await ROLLUPS.access(report) == await RAW_ROWS.access(report), (period, team)
            assert await ROLLUPS.wellbeing(report) == await RAW_ROWS.wellbeing(report)
            await _same(report)
        await _same(Report(period, both, outside=True))
    # The comparison meant something: arrangements made and done, and checks of each kind.
    everything = Report(_future_periods(rng)[0], both)
    arranged, on_time = await ROLLUPS.access(everything)
    assert arranged > on_time > 0
    outcomes = await ROLLUPS.wellbeing(everything)
    assert sum(outcomes.values()) >= 3 and len([n for n in outcomes.values() if n]) >= 2
    # Bookings either side of a London midnight fall on different report days.
    days = {r["day"] for r in await run(f"SELECT day FROM {ACCESS_TABLE}")}
    assert len(days) > 10

    network = await Network.create(name="Access network")
    for t in (north, south):
        await NetworkMembership.create(network=network, organisation_id=t.organisation_id)
    await NetworkMember.create(
        user=north.lead.user, network=network, role=NetworkRole.NETWORK_REPORTER
    )
    actor = await auth.actor_for(north.lead.user, north.organisation_id)  # type: ignore[arg-type]
    for period in _future_periods(rng)[:4]:
        _, from_rollups = await network_report(actor, network.id, period)
        _, from_raw = await network_report(actor, network.id, period, RAW_ROWS)
        assert from_rollups.as_dict() == from_raw.as_dict()

    # The migration's data step builds the same roll-up from the raw rows.
    kept = await _rows(ACCESS_TABLE, ACCESS_COLUMNS)
    await run(f"DELETE FROM {ACCESS_TABLE}")
    migration = importlib.import_module("migrations.0012_access_rollups")
    conn = connections.get("default")
    for sql in migration.fill_statements(conn.capabilities.dialect):
        await conn.execute_script(sql)
    assert await _rows(ACCESS_TABLE, ACCESS_COLUMNS) == kept


async def test_the_migration_places_a_booking_on_its_london_day(world):
    """Either side of both clock changes and of midnight, in SQL as in Python."""
    migration = importlib.import_module("migrations.0012_access_rollups")
    dialect = connections.get("default").capabilities.dialect
    for local in [
        "2027-03-27T23:30",
        "2027-03-28T00:30",
        "2027-03-28T23:30",
        "2027-10-30T23:30",
        "2027-10-31T00:30",
        "2027-10-31T23:30",
        "2027-07-01T00:30",
        "2027-12-31T23:59",
    ]:
        moment = dt.datetime.fromisoformat(local).replace(tzinfo=LONDON).astimezone(dt.UTC)
        # As the booking table holds it.
        stored = Booking._meta.fields_map["starts_at"].to_db_value(moment, Booking)
        value = "CAST(? AS timestamptz)" if dialect == "postgres" else "?"
        found = await run(
            f"SELECT {migration.london_day('m.starts_at', dialect)} AS d"
            f" FROM (SELECT {value} AS starts_at) m",
            [stored],
        )
        assert str(found[0]["d"]) == local[:10], local


def test_access_changes_move_counts_between_days_and_leave_unchanged_rows_out():
    d = dt.date
    before = {(1, d(2027, 3, 27), 0): (2, 1, 0, 0, 0, 0)}
    assert access_changes(before, before) == {}
    moved = {(1, d(2027, 3, 28), 0): (2, 1, 0, 0, 0, 0)}
    assert access_changes(before, moved) == {
        (1, d(2027, 3, 27), 0): (-2, -1, 0, 0, 0, 0),
        (1, d(2027, 3, 28), 0): (2, 1, 0, 0, 0, 0),
    }
    ticked = {(1, d(2027, 3, 27), 0): (2, 2, 1, 0, 0, 0)}
    assert access_changes(before, ticked) == {(1, d(2027, 3, 27), 0): (0, 1, 1, 0, 0, 0)}
