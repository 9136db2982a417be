"""Time the organisation and network reports against hand-written SQL, on SQLite and PostgreSQL.

    .venv/bin/python bench/report.py [--rows 1000000] [--orgs 50] [--backend both] [--repeat 5]

For each backend it makes a fresh database, applies the migrations, seeds `--rows` involvement
records across `--orgs` organisations and three financial years (deterministically, from
`--seed`), runs ANALYZE (VACUUM ANALYZE on PostgreSQL, as autovacuum would), and times:

- the organisation report: `reports.build(Report(financial_year(Y), [one organisation]))`;
- the network report: `reports.network_report(...)` for a network of every organisation, which
  builds the same report over all members and then groups by member.

Each is timed through the ORM and as equivalent hand-written SQL sent through the same driver
(`connections.get("default").execute_query`), which computes the same figures; the script
checks that both give the same numbers. Times are medians of `--repeat` runs after untimed
warm-up runs: one on SQLite, five on PostgreSQL, where asyncpg prepares each statement and the
server may switch to a generic plan from a statement's sixth execution on a connection (what a
long-running server uses). With the breakdown on, it then times each part of the reports the
same way. The PostgreSQL database is dropped and the SQLite file deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}?minsize=1&maxsize=5"
FIRST_YEAR = 2022
YEARS = 3  # financial years 2022, 2023 and 2024; reports are for the last
REPRESENTATIVES = 200  # per organisation
TEAMS = 5  # per organisation
PROJECTS = 20  # per organisation
SLOTS = 4  # activities per organisation per day
BATCH = 50_000

KINDS = (
    "meeting",
    "interview_panel",
    "training_delivery",
    "peer_review",
    "catch_up",
    "training_received",
    "other",
)
UNCATEGORISED = ("catch_up", "training_received")
CATEGORIES = ("co_design", "co_decision", "co_delivery", "co_evaluation")
MODES = ("in_person", "in_person", "in_person", "video", "video", "phone")
MINUTES = (60, 90, 120, 150, 180, 240, 300, 420)
REP_TYPES = ("patient",) * 6 + ("carer",) * 3 + ("both",)
COLUMNS = (
    "created_at",
    "organisation_id",
    "booking_id",
    "activity_id",
    "project_id",
    "team_id",
    "representative_id",
    "representative_type",
    "category",
    "kind",
    "mode",
    "day",
    "minutes",
    "fee_pence",
    "expenses_pence",
)


def say(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------- seeding


@dataclass
class Calendar:
    first: dt.date
    days: int
    dates: list[Any]  # what the driver takes for a DATE: date objects, or ISO text for SQLite
    stamps: list[Any]  # created_at for rows of that day


def calendar(as_text: bool) -> Calendar:
    from coprod.domain.reporting import financial_year

    first = financial_year(FIRST_YEAR).start
    last = financial_year(FIRST_YEAR + YEARS - 1).end
    days = (last - first).days + 1
    dates: list[Any] = []
    stamps: list[Any] = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        stamp = dt.datetime.combine(day, dt.time(18), dt.UTC)
        dates.append(day.isoformat() if as_text else day)
        stamps.append(str(stamp) if as_text else stamp)
    return Calendar(first, days, dates, stamps)


def generate(rows: int, orgs: list[int], cal: Calendar, seed: int) -> Iterator[list[tuple]]:
    """Involvement rows in batches, in day order as they would arrive, spread evenly over the
    calendar and at random over the organisations. Each (organisation, day) has SLOTS
    activities whose kind, category, project and team follow from the activity id, and
    representatives join each organisation steadily over the three years."""
    rng = random.Random(seed)
    n_orgs = len(orgs)
    for start in range(0, rows, BATCH):
        batch = []
        for i in range(start, min(rows, start + BATCH)):
            d = i * cal.days // rows
            o = rng.randrange(n_orgs)
            activity = (o * cal.days + d) * SLOTS + rng.randrange(SLOTS) + 1
            h = (activity * 2654435761) & 0xFFFFFFFF
            kind = KINDS[h % len(KINDS)]
            category = None if kind in UNCATEGORISED else CATEGORIES[(h >> 4) % 4]
            project = None if (h >> 7) % 4 == 0 else o * PROJECTS + (h >> 9) % PROJECTS + 1
            team = o * TEAMS + (h >> 14) % TEAMS + 1
            joined = max(10, REPRESENTATIVES * (d + 1) // cal.days)
            rep = o * REPRESENTATIVES + rng.randrange(joined) + 1
            minutes = MINUTES[rng.randrange(len(MINUTES))]
            approved = rng.random() < 0.85
            fee = (6000 if minutes > 240 else 3000) if approved else 0
            expenses = rng.randrange(0, 2500) if approved and rng.random() < 0.6 else 0
            batch.append(
                (
                    cal.stamps[d],
                    orgs[o],
                    i + 1,
                    activity,
                    project,
                    team,
                    rep,
                    REP_TYPES[rep % len(REP_TYPES)],
                    category,
                    kind,
                    MODES[rng.randrange(len(MODES))],
                    cal.dates[d],
                    minutes,
                    fee,
                    expenses,
                )
            )
        yield batch


async def seed(backend: str, rows: int, n_orgs: int, seed_value: int) -> tuple[list[int], int]:
    """Organisations, one network of all of them, and the involvement rows. Returns the
    organisation ids and the network id."""
    from tortoise import connections

    from coprod.models import Network, NetworkMembership, Organisation

    created = [
        await Organisation.create(name=f"Trust {i + 1:03d}", slug=f"trust-{i + 1:03d}")
        for i in range(n_orgs)
    ]
    network = await Network.create(name="All trusts")
    await NetworkMembership.bulk_create(
        [NetworkMembership(network=network, organisation=o) for o in created]
    )
    orgs = [o.id for o in created]

    client = connections.get("default")
    cal = calendar(as_text=backend == "sqlite")
    started = time.perf_counter()
    done = 0
    if backend == "postgres":
        async with client.acquire_connection() as raw:
            for batch in generate(rows, orgs, cal, seed_value):
                await raw.copy_records_to_table("involvement", records=batch, columns=COLUMNS)
                done += len(batch)
                _progress(done, rows, started)
        say("  VACUUM ANALYZE ...")
        await client.execute_script("VACUUM ANALYZE")
    else:
        insert = (
            f"INSERT INTO involvement ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})"
        )
        async with client.acquire_connection() as raw:
            await raw.execute("BEGIN")
            try:
                for batch in generate(rows, orgs, cal, seed_value):
                    await raw.executemany(insert, batch)
                    done += len(batch)
                    _progress(done, rows, started)
            except BaseException:
                await raw.rollback()
                raise
            await raw.commit()
        say("  ANALYZE ...")
        await client.execute_script("ANALYZE")
    say(f"  seeded {rows:,} rows in {time.perf_counter() - started:.1f} s")
    return orgs, network.id


def _progress(done: int, rows: int, started: float) -> None:
    if done % (BATCH * 4) == 0 or done == rows:
        say(f"  {done:>10,} / {rows:,} rows  ({time.perf_counter() - started:.1f} s)")


# ---------------------------------------------------------------------------- hand-written SQL


@dataclass(frozen=True)
class Scope:
    """Which involvement rows a report counts: some organisations, over a period."""

    orgs: tuple[int, ...]
    start: dt.date
    end: dt.date

    @property
    def ids(self) -> str:
        return ", ".join("?" for _ in self.orgs)

    @property
    def where(self) -> str:
        return f"organisation_id IN ({self.ids}) AND day >= ? AND day <= ?"

    @property
    def params(self) -> list[Any]:
        return [*self.orgs, self.start, self.end]

    @property
    def bookings(self) -> tuple[str, list[Any]]:
        """Bookings whose activity belongs to the organisations and that start in the period
        (London days), for the access-arrangement and wellbeing figures."""
        from coprod.services.reports import _start_of

        sql = (
            "JOIN booking b ON b.id = x.booking_id JOIN activity a ON a.id = b.activity_id "
            f"WHERE a.organisation_id IN ({self.ids}) AND b.starts_at >= ? AND b.starts_at < ?"
        )
        after = _start_of(self.start)
        before = _start_of(self.end + dt.timedelta(days=1))
        return sql, [*self.orgs, after, before]


class Sql:
    """Hand-written statements for the report's figures, sent through Tortoise's client (the
    same driver the ORM uses). They use `?` placeholders; on asyncpg they become $1, $2, ..."""

    def __init__(self, backend: str) -> None:
        from tortoise import connections

        self.postgres = backend == "postgres"
        self.client = connections.get("default")

    async def rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        if self.postgres:
            parts = sql.split("?")
            sql = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
        _, rows = await self.client.execute_query(sql, list(params))
        return [dict(r) for r in rows]

    async def by(self, s: Scope, column: str) -> list[dict[str, Any]]:
        return await self.rows(
            f"SELECT {column} AS key, COUNT(DISTINCT activity_id) AS activities, "
            "COUNT(*) AS involvements, SUM(minutes) AS minutes, SUM(fee_pence) AS fees, "
            f"SUM(expenses_pence) AS expenses FROM involvement WHERE {s.where} "
            f"GROUP BY {column}",
            s.params,
        )

    async def people_by_type(self, s: Scope) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT representative_type AS type, COUNT(DISTINCT representative_id) AS people "
            f"FROM involvement WHERE {s.where} GROUP BY representative_type",
            s.params,
        )

    async def people_total(self, s: Scope) -> list[dict[str, Any]]:
        return await self.rows(
            f"SELECT COUNT(DISTINCT representative_id) AS people FROM involvement WHERE {s.where}",
            s.params,
        )

    async def people_new(self, s: Scope) -> list[dict[str, Any]]:
        """People whose first involvement ever falls in the period, counted in SQL."""
        return await self.rows(
            "SELECT COUNT(*) AS people FROM (SELECT representative_id FROM involvement "
            f"WHERE organisation_id IN ({s.ids}) GROUP BY representative_id "
            "HAVING MIN(day) >= ? AND MIN(day) <= ?) AS first_time",
            s.params,
        )

    async def access(self, s: Scope) -> list[dict[str, Any]]:
        join, params = s.bookings
        return await self.rows(
            "SELECT COUNT(*) AS arranged, "
            "COALESCE(SUM(CASE WHEN x.done_on_time THEN 1 ELSE 0 END), 0) AS on_time "
            f"FROM access_arrangement x {join}",
            params,
        )

    async def wellbeing(self, s: Scope) -> list[dict[str, Any]]:
        join, params = s.bookings
        return await self.rows(
            f"SELECT x.outcome AS outcome, COUNT(*) AS n FROM wellbeing_check x {join} "
            "GROUP BY x.outcome",
            params,
        )

    async def projects(self, s: Scope) -> list[dict[str, Any]]:
        """Projects touched in all four categories, touched once, and in all, counted in SQL."""
        return await self.rows(
            "SELECT COALESCE(SUM(CASE WHEN categories = 4 THEN 1 ELSE 0 END), 0) AS end_to_end, "
            "COALESCE(SUM(CASE WHEN categories < 4 AND touches = 1 THEN 1 ELSE 0 END), 0) "
            "AS single_touchpoint, COUNT(*) AS projects FROM (SELECT project_id, "
            "COUNT(DISTINCT category) AS categories, COUNT(*) AS touches FROM involvement "
            f"WHERE {s.where} AND project_id IS NOT NULL AND category IS NOT NULL "
            "GROUP BY project_id) AS p",
            s.params,
        )

    async def reach(self, s: Scope) -> dict[str, list[dict[str, Any]]]:
        """Local population figures, and every equality question's answers from the people
        involved in the period, in one statement."""
        from coprod.domain.equality import QUESTIONS

        population = await self.rows(
            'SELECT characteristic, "group", percent_tenths FROM population_figure '
            f"WHERE organisation_id IN ({s.ids})",
            s.orgs,
        )
        groups = " UNION ALL ".join(
            f"SELECT '{q.key}' AS question, {q.key} AS answer, COUNT(*) AS n FROM answers "
            f"GROUP BY {q.key}"
            for q in QUESTIONS
        )
        answers = await self.rows(
            "WITH answers AS (SELECT * FROM equality_response WHERE representative_id IN "
            f"(SELECT DISTINCT representative_id FROM involvement WHERE {s.where})) {groups}",
            s.params,
        )
        return {"population": population, "answers": answers}

    async def members(self, s: Scope) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT organisation_id, COUNT(*) AS involvements, "
            "COUNT(DISTINCT representative_id) AS people, SUM(minutes) AS minutes, "
            "SUM(fee_pence) AS fees, SUM(expenses_pence) AS expenses FROM involvement "
            f"WHERE {s.where} GROUP BY organisation_id",
            s.params,
        )

    async def report(self, s: Scope) -> dict[str, Any]:
        return {
            "by_category": await self.by(s, "category"),
            "by_mode": await self.by(s, "mode"),
            "people_by_type": await self.people_by_type(s),
            "people_total": await self.people_total(s),
            "people_new": await self.people_new(s),
            "access": await self.access(s),
            "wellbeing": await self.wellbeing(s),
            "projects": await self.projects(s),
            "reach": await self.reach(s),
        }

    async def network(self, network_id: int, start: dt.date, end: dt.date) -> dict[str, Any]:
        found = await self.rows("SELECT id, name FROM network WHERE id = ?", [network_id])
        assert found
        members = await self.rows(
            "SELECT organisation_id FROM network_membership WHERE network_id = ?", [network_id]
        )
        s = Scope(tuple(r["organisation_id"] for r in members), start, end)
        out = await self.report(s)
        out["names"] = await self.rows(
            f"SELECT id, name FROM organisation WHERE id IN ({s.ids})", s.orgs
        )
        out["members"] = await self.members(s)
        return out


def check(orm: Any, sql: dict[str, Any], members: bool) -> None:
    """The hand-written SQL must give the ORM's figures, or the comparison means nothing."""

    def same(what: str, a: Any, b: Any) -> None:
        if a != b:
            raise AssertionError(f"{what}: ORM {a!r} != SQL {b!r}")

    for column in ("category", "mode"):
        got = {
            r["key"]: (r["activities"], r["involvements"], r["fees_pence"], r["expenses_pence"])
            for r in getattr(orm, f"by_{column}")
            if r["involvements"]
        }
        want = {
            r["key"]: (r["activities"], r["involvements"], int(r["fees"]), int(r["expenses"]))
            for r in sql[f"by_{column}"]
        }
        same(f"by {column}", got, want)
    by_type = {r["type"]: r["people"] for r in sql["people_by_type"]}
    people = {
        "patients": by_type.get("patient", 0),
        "carers": by_type.get("carer", 0),
        "both": by_type.get("both", 0),
        "total": sql["people_total"][0]["people"],
        "new": sql["people_new"][0]["people"],
    }
    if members:  # the network report suppresses small counts; compare the rest
        people = {k: v for k, v in people.items() if orm.people[k] is not None}
        same("people", {k: orm.people[k] for k in people}, people)
    else:
        same("people", orm.people, people)
    p = sql["projects"][0]
    same(
        "projects",
        orm.projects,
        {
            "end_to_end": int(p["end_to_end"]),
            "single_touchpoint": int(p["single_touchpoint"]),
            "other": int(p["projects"]) - int(p["end_to_end"]) - int(p["single_touchpoint"]),
        },
    )
    same("access", orm.access["arranged"], sql["access"][0]["arranged"])
    if members:
        got = sorted((m["involvements"], m["fees_pence"], m["expenses_pence"]) for m in orm.members)
        want = sorted(
            (r["involvements"], int(r["fees"]), int(r["expenses"])) for r in sql["members"]
        )
        same("members", got, want)


# ---------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    warmup: int
    repeat: int


async def median_time(run: Callable[[], Awaitable[Any]], timing: Timing) -> tuple[float, Any]:
    result = None
    for _ in range(timing.warmup):
        result = await run()
    times = []
    for _ in range(timing.repeat):
        started = time.perf_counter()
        result = await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


@dataclass
class Result:
    backend: str
    report: str
    orm: float
    sql: float
    detail: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.orm / self.sql if self.sql else float("inf")

    def dump(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "report": self.report,
            "orm": self.orm,
            "sql": self.sql,
            "detail": self.detail,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Result:
        return cls(
            data["backend"],
            data["report"],
            data["orm"],
            data["sql"],
            [(name, orm, sql) for name, orm, sql in data["detail"]],
        )


Part = tuple[str, Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]


def parts(sql: Sql, s: Scope, period: Any, members: bool) -> list[Part]:
    """The report's parts, each as the service runs it and as hand-written SQL."""
    from coprod.services import reports
    from coprod.services.reports import CATEGORIES, MODES, Report

    def rep() -> Report:
        return Report(period, list(s.orgs))

    async def sql_people() -> Any:
        return (await sql.people_by_type(s), await sql.people_total(s), await sql.people_new(s))

    async def orm_access() -> Any:
        return await reports._access(rep()), await reports._wellbeing(rep())

    async def sql_access() -> Any:
        return await sql.access(s), await sql.wellbeing(s)

    out: list[Part] = [
        (
            "by category",
            lambda: reports._by(rep(), "category", CATEGORIES),
            lambda: sql.by(s, "category"),
        ),
        ("by mode", lambda: reports._by(rep(), "mode", MODES), lambda: sql.by(s, "mode")),
        ("people (3 queries)", lambda: reports._people(rep()), sql_people),
        ("  of which new people", lambda: _orm_new(s), lambda: sql.people_new(s)),
        ("access + wellbeing", orm_access, sql_access),
        ("projects", lambda: reports._projects(rep()), lambda: sql.projects(s)),
        ("reach", lambda: reports._reach(rep()), lambda: sql.reach(s)),
    ]
    if members:
        out.append(("per-member group-by", lambda: _orm_members(s), lambda: sql.members(s)))
    return out


async def _orm_new(s: Scope) -> int:
    """The service's query for people new in the period (inside reports._people)."""
    from tortoise.functions import Min

    from coprod.models import Involvement

    return len(
        await Involvement.filter(organisation_id__in=list(s.orgs))
        .annotate(first_day=Min("day"))
        .group_by("representative_id")
        .filter(first_day__gte=s.start, first_day__lte=s.end)
        .values("representative_id")
    )


async def _orm_members(s: Scope) -> Any:
    """The service's per-member query (inside reports.network_report)."""
    from tortoise.functions import Count, Sum

    from coprod.models import Involvement

    return (
        await Involvement.filter(organisation_id__in=list(s.orgs), day__gte=s.start, day__lte=s.end)
        .annotate(
            involvements=Count("id"),
            people=Count("representative_id", distinct=True),
            minutes=Sum("minutes"),
            fees=Sum("fee_pence"),
            expenses=Sum("expenses_pence"),
        )
        .group_by("organisation_id")
        .values("organisation_id", "involvements", "people", "minutes", "fees", "expenses")
    )


async def bench_backend(backend: str, args: argparse.Namespace) -> list[Result]:
    from coprod import db
    from coprod.config import get_settings

    say(f"\n== {backend}: fresh database")
    tmpdir = None
    pg_name = f"coprod_bench_{uuid.uuid4().hex[:10]}"
    if backend == "postgres":
        await _pg_admin(f'CREATE DATABASE "{pg_name}"')
        url = PG_URL.format(name=pg_name)
    else:
        tmpdir = tempfile.mkdtemp(prefix="coprod-bench-")
        url = f"sqlite://{tmpdir}/bench.sqlite3?busy_timeout=10000"
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        started = time.perf_counter()
        await db.migrate(url)
        await db.close_db()
        await db.init_db(url)
        say(f"  migrated in {time.perf_counter() - started:.1f} s; seeding ...")
        orgs, network_id = await seed(backend, args.rows, args.orgs, args.seed)
        return await time_reports(backend, orgs, network_id, args)
    finally:
        await db.close_db()
        if backend == "postgres":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            say(f"  dropped database {pg_name}")
        elif tmpdir:
            await asyncio.to_thread(shutil.rmtree, tmpdir)


async def time_reports(
    backend: str, orgs: list[int], network_id: int, args: argparse.Namespace
) -> list[Result]:
    from coprod.domain.reporting import financial_year
    from coprod.services import reports
    from coprod.services.actor import Actor
    from coprod.services.reports import Report

    period = financial_year(FIRST_YEAR + YEARS - 1)
    # asyncpg prepares every statement, and PostgreSQL plans a prepared statement for its
    # parameters only for the first five executions on a connection; then it may switch to a
    # generic plan. A long-running server sees the generic plan, so warm up past it.
    warmup = args.warmup if args.warmup is not None else (5 if backend == "postgres" else 1)
    timing = Timing(warmup, args.repeat)
    say(f"  timing: median of {timing.repeat} runs after {timing.warmup} warm-up run(s)")
    sql = Sql(backend)
    one = Scope((orgs[0],), period.start, period.end)
    every = Scope(tuple(orgs), period.start, period.end)
    actor = Actor(user=None, organisation_id=None, via="cli", network_ids=frozenset({network_id}))
    results = []

    say(f"  organisation report ({period.label}, one organisation) ...")
    orm_t, orm = await median_time(lambda: reports.build(Report(period, [orgs[0]])), timing)
    sql_t, hand = await median_time(lambda: sql.report(one), timing)
    check(orm, hand, members=False)
    results.append(Result(backend, "organisation", orm_t, sql_t))
    say(f"    ORM {orm_t:.3f} s, SQL {sql_t:.3f} s; the figures match")

    say(f"  network report ({period.label}, {len(orgs)} members) ...")
    orm_t, (_, orm) = await median_time(
        lambda: reports.network_report(actor, network_id, period), timing
    )
    sql_t, hand = await median_time(
        lambda: sql.network(network_id, period.start, period.end), timing
    )
    check(orm, hand, members=True)
    results.append(Result(backend, "network", orm_t, sql_t))
    say(f"    ORM {orm_t:.3f} s, SQL {sql_t:.3f} s; the figures match")

    if args.breakdown:
        say("  the reports' parts one by one ...")
        for result, s in ((results[0], one), (results[1], every)):
            for name, orm_run, sql_run in parts(sql, s, period, members=s is every):
                orm_t, _ = await median_time(orm_run, timing)
                sql_t, _ = await median_time(sql_run, timing)
                result.detail.append((name, orm_t, sql_t))
    return results


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def table(results: list[Result]) -> str:
    lines = [
        f"{'backend':<9} {'report':<13} {'ORM s':>9} {'SQL s':>9} {'ratio':>7}",
        f"{'-' * 9} {'-' * 13} {'-' * 9} {'-' * 9} {'-' * 7}",
    ]
    for r in results:
        lines.append(f"{r.backend:<9} {r.report:<13} {r.orm:>9.3f} {r.sql:>9.3f} {r.ratio:>6.2f}x")
    return "\n".join(lines)


def detail_table(results: list[Result]) -> str:
    lines = []
    for r in results:
        if not r.detail:
            continue
        lines.append(f"\n{r.backend} / {r.report} report, by part:")
        lines.append(f"  {'part':<24} {'ORM s':>9} {'SQL s':>9} {'ratio':>7}")
        for name, orm_t, sql_t in r.detail:
            ratio = orm_t / sql_t if sql_t else float("inf")
            lines.append(f"  {name:<24} {orm_t:>9.4f} {sql_t:>9.4f} {ratio:>6.2f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="untimed runs first (default: 1 on SQLite, 5 on PostgreSQL; see time_reports)",
    )
    parser.add_argument("--seed", type=int, default=20240401)
    parser.add_argument(
        "--no-breakdown",
        dest="breakdown",
        action="store_false",
        help="skip timing the report's parts one by one",
    )
    parser.add_argument("--results", help=argparse.SUPPRESS)  # where a child writes its results
    args = parser.parse_args()
    os.environ.setdefault("COPROD_ENV", "development")
    started = time.perf_counter()
    if args.backend == "both":
        say(
            f"{args.rows:,} involvement rows, {args.orgs} organisations; "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
        )
        # Tortoise keeps per-model SQL built for the first backend it meets, so each backend
        # runs in a process of its own.
        results = []
        for backend in ("sqlite", "postgres"):
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                child = [
                    *("--rows", str(args.rows), "--orgs", str(args.orgs)),
                    *("--repeat", str(args.repeat), "--seed", str(args.seed)),
                    *(() if args.warmup is None else ("--warmup", str(args.warmup))),
                    *(() if args.breakdown else ("--no-breakdown",)),
                    *("--backend", backend, "--results", out.name),
                ]
                subprocess.run([sys.executable, __file__, *child], check=True)
                results += [Result.load(r) for r in json.loads(Path(out.name).read_text())]
    else:
        if not args.results:
            say(f"{args.rows:,} involvement rows, {args.orgs} organisations")
        results = asyncio.run(bench_backend(args.backend, args))
        if args.results:
            Path(args.results).write_text(json.dumps([r.dump() for r in results]))
            return
    print()
    print(table(results))
    print(detail_table(results))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
