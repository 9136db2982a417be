"""Time the organisation and network reports from the roll-ups against the same reports computed
from the raw rows, on PostgreSQL, through the service and over HTTP.

    .venv/bin/python bench/report.py [--rows 10000000] [--orgs 200] [--network 30] [--rounds 5]

It makes a fresh database, applies the migrations, and seeds in SQL (`generate_series`) every
table a report reads: organisations, teams, projects, representatives and their equality
answers, population figures, activities, one attended booking and one involvement row per
`--rows`, access arrangements (one booking in ten) and wellbeing checks (one in fifty), over
three financial years. The roll-ups are then built with the migrations' own set-based SQL
(`migrations.rollup_statements`, and 0012_access_rollups' `fill_statements`), and the database
is VACUUM ANALYZEd.

Each round times both sides of each report, alternating which goes first:
- roll-ups: `reports.build(...)` / `reports.network_report(...)` as the service runs them;
- raw rows: the same functions with `report_figures.RAW_ROWS`, which computes every figure from
  the involvement rows, and access and wellbeing from their own tables joined to bookings.
Both sides must give the same report, every figure (people, spend, access on time, wellbeing,
projects, reach, members), or the script stops.

Then it serves the app under uvicorn against the same database, signs a reporter in (a session
made by the auth service), and times GET /reports and GET /reports/networks/{id} with httpx.

Medians are printed with the raw/roll-up ratio. The database is dropped at the end, unless
`--keep`; `--reuse NAME` times a kept database again without seeding it (its `--rows` and
`--orgs` are then what it was seeded with, whatever is given).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import os
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}"
FIRST_YEAR = 2022
YEARS = 3  # financial years 2022 to 2024; reports are for the last
REPRESENTATIVES = 200  # per organisation
TEAMS = 5  # per organisation
PROJECTS = 20  # per organisation
SLOTS = 4  # activities per organisation per day


def say(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------- seeding


def seed_statements(rows: int, orgs: int, network: int, days: int) -> list[tuple[str, str]]:
    """(what, SQL) to seed everything in the database, deterministically. Row i of the
    involvement falls on day i * days / rows, in an organisation and activity picked by a
    multiplicative hash of i; a person joins their organisation steadily over the years."""
    from coprod.domain.equality import QUESTIONS

    first = dt.date(FIRST_YEAR, 4, 1).isoformat()
    h = "((g::bigint * 2654435761) % 4294967296)"  # a hash of g, 0 .. 2^32 - 1
    answers = ", ".join(
        f"(ARRAY[{_literals(sorted(q.values))}, NULL]::text[])"
        f"[1 + (r.id * {i + 7}) % {len(q.values) + 1}]"
        for i, q in enumerate(QUESTIONS)
    )
    population = " UNION ALL ".join(
        f"SELECT '{q.key}', '{v}'" for q in QUESTIONS for v in sorted(q.values)
    )
    return [
        (
            "organisations, a network, teams, projects",
            f"""
            INSERT INTO organisation (created_at, name, slug)
            SELECT now(), 'Trust ' || lpad(g::text, 3, '0'), 'trust-' || g
            FROM generate_series(1, {orgs}) g;
            INSERT INTO network (created_at, name) VALUES (now(), 'A network');
            INSERT INTO network_membership (created_at, network_id, organisation_id, status)
            SELECT now(), (SELECT MIN(id) FROM network), id, 'accepted'
            FROM organisation ORDER BY id LIMIT {network};
            INSERT INTO team (created_at, name, organisation_id)
            SELECT now(), 'Team ' || t, o FROM generate_series(1, {orgs}) o,
                generate_series(1, {TEAMS}) t ORDER BY o, t;
            INSERT INTO project (created_at, name, respect_agreement_required, organisation_id)
            SELECT now(), 'Project ' || p, false, o FROM generate_series(1, {orgs}) o,
                generate_series(1, {PROJECTS}) p ORDER BY o, p;
            """,
        ),
        (
            "representatives, equality answers, population figures",
            f"""
            INSERT INTO representative (created_at, full_name, representative_type,
                contact_channels, formats, needs_transport, wants_tech_test, preferred_modes,
                unavailable, payment_preference, organisation_id, stripe_payouts_enabled,
                stripe_transfers_active)
            SELECT now(), 'Person ' || g,
                (ARRAY['patient','patient','patient','patient','patient','patient',
                       'carer','carer','carer','both'])[1 + g % 10],
                '[]', '[]', false, false, '[]', '[]', 'paid', 1 + (g - 1) / {REPRESENTATIVES},
                false, false
            FROM generate_series(1, {orgs * REPRESENTATIVES}) g;
            INSERT INTO equality_response (created_at, updated_at, representative_id,
                {", ".join(q.key for q in QUESTIONS)})
            SELECT now(), now(), r.id, {answers}
            FROM representative r WHERE r.id % 5 <> 0;
            INSERT INTO population_figure (created_at, characteristic, "group",
                percent_tenths, organisation_id)
            SELECT now(), c.k, c.v, (o * 37 + length(c.v) * 11) % 400, o
            FROM generate_series(1, {orgs}) o, ({population}) AS c(k, v);
            """,
        ),
        (
            f"{orgs * days * SLOTS:,} activities",
            f"""
            INSERT INTO activity (id, created_at, title, kind, status, duration_minutes,
                preparation_minutes, capacity, in_person, step_free, transport_offered, video,
                phone, organisation_id, category, team_id, project_id, starts_at)
            SELECT a, now(), 'Activity ' || a,
                (ARRAY['meeting','interview_panel','training_delivery','peer_review',
                       'catch_up','training_received','other'])[1 + ha % 7],
                'scheduled', 120, 0, 30, true, false, false, true, true, o,
                CASE WHEN ha % 7 IN (4, 5) THEN NULL
                     ELSE (ARRAY['co_design','co_decision','co_delivery','co_evaluation'])
                          [1 + (ha / 16) % 4] END,
                (o - 1) * {TEAMS} + 1 + (ha / 512) % {TEAMS},
                CASE WHEN (ha / 128) % 4 = 0 THEN NULL
                     ELSE (o - 1) * {PROJECTS} + 1 + (ha / 4096) % {PROJECTS} END,
                ((DATE '{first}' + d) + TIME '10:00') AT TIME ZONE 'Europe/London'
            FROM (
                SELECT o, d, ((o - 1) * {days} + d) * {SLOTS} + s + 1 AS a,
                    (((((o - 1) * {days} + d) * {SLOTS} + s + 1)::bigint * 2654435761)
                      % 4294967296) AS ha
                FROM generate_series(1, {orgs}) o, generate_series(0, {days - 1}) d,
                    generate_series(0, {SLOTS - 1}) s
            ) x;
            SELECT setval('activity_id_seq', (SELECT MAX(id) FROM activity));
            """,
        ),
        (
            f"{rows:,} attendances (staging)",
            f"""
            CREATE UNLOGGED TABLE seed_rows AS
            SELECT g AS i, o, d,
                ((o - 1) * {days} + d) * {SLOTS} + 1 + ({h} / 7) % {SLOTS} AS activity_id,
                (o - 1) * {REPRESENTATIVES} + 1
                    + ({h} / 31) % GREATEST(10, {REPRESENTATIVES} * (d + 1) / {days})
                    AS representative_id,
                (ARRAY[60, 90, 120, 150, 180, 240, 300, 420])[1 + ({h} / 1000) % 8] AS minutes,
                (ARRAY['in_person','in_person','in_person','video','video','phone'])
                    [1 + ({h} / 9000) % 6] AS mode,
                ({h} / 60000) % 100 < 85 AS approved,
                ({h} / 6000000) % 2500 AS expenses
            FROM (
                SELECT g, 1 + (({h} / 3) % {orgs}) AS o,
                    ((g - 1)::bigint * {days} / {rows})::int AS d
                FROM generate_series(1, {rows}) g
            ) x;
            """,
        ),
        (
            "bookings",
            f"""
            INSERT INTO booking (id, created_at, status, mode, uid, sequence, starts_at, ends_at,
                activity_id, representative_id, attended_minutes, preparation_minutes,
                attendance_recorded_at)
            SELECT i, now(), 'attended', mode, 'seed-' || i, 0,
                ((DATE '{first}' + d) + TIME '10:00') AT TIME ZONE 'Europe/London',
                ((DATE '{first}' + d) + TIME '10:00') AT TIME ZONE 'Europe/London'
                    + minutes * INTERVAL '1 minute',
                activity_id, representative_id, minutes, 0,
                ((DATE '{first}' + d) + TIME '18:00') AT TIME ZONE 'Europe/London'
            FROM seed_rows;
            SELECT setval('booking_id_seq', (SELECT MAX(id) FROM booking));
            """,
        ),
        (
            "involvement",
            f"""
            INSERT INTO involvement (created_at, organisation_id, booking_id, activity_id,
                project_id, team_id, representative_id, representative_type, category, kind,
                mode, day, minutes, fee_pence, expenses_pence)
            SELECT now(), s.o, s.i, s.activity_id, a.project_id, a.team_id,
                s.representative_id, r.representative_type, a.category, a.kind, s.mode,
                DATE '{first}' + s.d, s.minutes,
                CASE WHEN NOT s.approved THEN 0 WHEN s.minutes > 240 THEN 14000 ELSE 7000 END,
                CASE WHEN s.approved AND s.expenses < 1500 THEN s.expenses ELSE 0 END
            FROM seed_rows s JOIN activity a ON a.id = s.activity_id
                JOIN representative r ON r.id = s.representative_id;
            """,
        ),
        (
            "access arrangements (1 booking in 10), wellbeing checks (1 in 50)",
            f"""
            INSERT INTO access_arrangement (created_at, kind, label, due_on, booking_id,
                done_on_time, done_at)
            SELECT now(), 'large_print', 'Large print papers', DATE '{first}' + d - 3, i,
                i % 7 <> 0, CASE WHEN i % 7 <> 0 THEN now() END
            FROM seed_rows WHERE i % 10 = 0;
            INSERT INTO wellbeing_check (created_at, outcome, payload, booking_id)
            SELECT now(),
                (ARRAY['proceed','proceed','proceed','postpone','adjust_role','not_this_time'])
                    [1 + (i / 50) % 6], '', i
            FROM seed_rows WHERE i % 50 = 3;
            DROP TABLE seed_rows;
            """,
        ),
    ]


def _literals(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


async def seed(rows: int, orgs: int, network: int) -> None:
    from tortoise import connections

    from migrations import rollup_statements

    client = connections.get("default")
    days = (dt.date(FIRST_YEAR + YEARS, 4, 1) - dt.date(FIRST_YEAR, 4, 1)).days
    began = time.perf_counter()
    for what, sql in seed_statements(rows, orgs, network, days):
        started = time.perf_counter()
        await client.execute_script(sql)
        say(f"  {what}: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    access = importlib.import_module("migrations.0012_access_rollups")
    for sql in [*rollup_statements("postgres"), *access.fill_statements("postgres")]:
        await client.execute_script(sql)
    say(f"  roll-ups, with the migration's SQL: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    await client.execute_script("VACUUM ANALYZE")
    say(f"  VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")
    counts = {}
    for table in (
        "involvement",
        "booking",
        "access_arrangement",
        "wellbeing_check",
        "equality_response",
        "rollup_activity_day",
        "rollup_person_day",
        "rollup_person_year",
        "rollup_person_first",
        "rollup_training_day",
        "rollup_trainer_day",
        "rollup_trainer_year",
        "rollup_access_day",
    ):
        _, found = await client.execute_query(f"SELECT COUNT(*) AS n FROM {table}")
        counts[table] = found[0]["n"]
    say("  " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    say(f"  seeded in {time.perf_counter() - began:.0f} s")


# ---------------------------------------------------------------------------- timing


async def timed(run: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await run()
    return time.perf_counter() - started, result


async def alternate(
    name: str,
    sides: dict[str, Callable[[], Awaitable[Any]]],
    rounds: int,
    same: Callable[..., None],
) -> dict[str, float]:
    """Time each side once per round, swapping which goes first every round, after one
    untimed warm-up of each; check every round that both sides agree."""
    names = list(sides)
    for side in names:
        await sides[side]()
    times: dict[str, list[float]] = {side: [] for side in names}
    for r in range(rounds):
        results = {}
        for side in names if r % 2 == 0 else reversed(names):
            seconds, results[side] = await timed(sides[side])
            times[side].append(seconds)
        same(*(results[side] for side in names))
    medians = {side: statistics.median(t) for side, t in times.items()}
    say(
        f"  {name}: "
        + ", ".join(f"{side} {1000 * m:.1f} ms" for side, m in medians.items())
        + (f"; ratio {medians[names[1]] / medians[names[0]]:.1f}x" if len(names) > 1 else "")
    )
    return medians


def same_report(a: Any, b: Any) -> None:
    if isinstance(a, tuple):
        a, b = a[1], b[1]
    left, right = a.as_dict(), b.as_dict()
    if left != right:
        for key in left:
            if left[key] != right[key]:
                say(f"  MISMATCH in {key}:\n    roll-ups {left[key]}\n    raw rows {right[key]}")
        raise SystemExit("the roll-ups and the raw rows disagree")
    # An empty report agrees with anything: the figures compared must be real ones.
    assert left["people"]["total"], "nobody took part: the seed is wrong"
    assert left["spend"]["fees_pence"] and left["spend"]["expenses_pence"]
    assert left["access_arrangements"]["arranged"] and left["access_arrangements"]["on_time"]
    assert any(left["wellbeing_checks"].values())
    assert any(g["people"] for item in left["reach"] for g in item["groups"])


async def service_timings(rounds: int) -> dict[str, dict[str, float]]:
    from coprod.domain.reporting import financial_year
    from coprod.models import Network, NetworkMembership
    from coprod.services import reports
    from coprod.services.actor import Actor
    from coprod.services.report_figures import RAW_ROWS, ROLLUPS
    from coprod.services.reports import Report

    period = financial_year(FIRST_YEAR + YEARS - 1)
    network = await Network.first()
    assert network is not None
    members_of: list[int] = await NetworkMembership.filter(  # type: ignore[assignment]
        network=network
    ).values_list("organisation_id", flat=True)
    members = len(members_of)
    actor = Actor(user=None, organisation_id=None, via="cli", network_ids=frozenset({network.id}))
    out = {}
    say(f"  organisation report, {period.label}, one organisation:")
    out["organisation"] = await alternate(
        "service",
        {
            "roll-ups": lambda: reports.build(Report(period, [1])),
            "raw rows": lambda: reports.build(Report(period, [1]), RAW_ROWS),
        },
        rounds,
        same_report,
    )
    say(f"  network report, {period.label}, {members} member organisations:")
    out["network"] = await alternate(
        "service",
        {
            "roll-ups": lambda: reports.network_report(actor, network.id, period),
            "raw rows": lambda: reports.network_report(actor, network.id, period, RAW_ROWS),
        },
        rounds,
        same_report,
    )
    say("  the parts: involvement figures (roll-ups or raw rows), then access and wellbeing")
    for name, orgs in (("organisation", [1]), ("network", members_of)):
        report = Report(period, orgs, outside=name == "network")
        out[f"{name}: involvement figures"] = await alternate(
            f"{name}, involvement figures",
            {"roll-ups": figures(ROLLUPS, report), "raw rows": figures(RAW_ROWS, report)},
            rounds,
            _equal,
        )
        out[f"{name}: access and wellbeing"] = await alternate(
            f"{name}, access arrangements and wellbeing checks",
            {
                "roll-ups": _access_and_wellbeing(ROLLUPS, report),
                "raw rows": _access_and_wellbeing(RAW_ROWS, report),
            },
            rounds,
            _equal,
        )
    return out


def figures(source: Any, report: Any) -> Callable[[], Awaitable[Any]]:
    """Everything a report takes from involvement, from one source."""

    async def run() -> list[Any]:
        return [
            await source.by(report, "category"),
            await source.by(report, "mode"),
            await source.people(report),
            await source.projects(report),
        ]

    return run


def _equal(a: Any, b: Any) -> None:
    if a != b:
        raise SystemExit(f"the roll-ups and the raw rows disagree:\n{a}\n{b}")


def _access_and_wellbeing(source: Any, report: Any) -> Callable[[], Awaitable[Any]]:
    async def run() -> Any:
        return await source.access(report), await source.wellbeing(report)

    return run


# ---------------------------------------------------------------------------- over HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def http_timings(url: str, rounds: int) -> dict[str, float]:
    """GET the two report pages as a signed-in reporter, from the app under uvicorn."""
    import httpx

    from coprod.domain.reporting import financial_year
    from coprod.models import Network, NetworkMember, NetworkRole, Organisation, Role, User
    from coprod.services import auth, people
    from coprod.services.actor import Actor

    org = await Organisation.get(id=1)
    # A database timed again (--reuse) has its reporter already.
    network = await Network.first()
    assert network is not None
    user = await User.get_or_none(email="bench.reporter@trust.example")
    if user is None:
        user = await people.create_user(
            Actor.system(via="cli"),
            email="bench.reporter@trust.example",
            full_name="Bench Reporter",
            organisation=org,
            roles=[Role.REPORTER],
        )
        await NetworkMember.create(user=user, network=network, role=NetworkRole.NETWORK_REPORTER)
    session = await auth.start_session(user, org.id)

    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "uvicorn", "coprod.asgi:app", "--port", str(port)),
        *("--log-level", "warning", "--no-access-log"),
        env=env,
        cwd=ROOT,
    )
    year = FIRST_YEAR + YEARS - 1
    label = financial_year(year).label
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", cookies={"coprod_session": session}, timeout=60
        ) as client:
            for _ in range(100):
                try:
                    await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)

            def page(path: str) -> Callable[[], Awaitable[str]]:
                async def get() -> str:
                    response = await client.get(path)
                    assert response.status_code == 200, (path, response.status_code)
                    assert label in response.text
                    return response.text

                return get

            found = {}
            for name, path in (
                ("GET /reports", f"/reports?year={year}"),
                ("GET /reports/networks/{id}", f"/reports/networks/{network.id}?year={year}"),
            ):
                # One side only: the page always reads the roll-ups.
                timing = await alternate(name, {"page": page(path)}, rounds, lambda _: None)
                found[name] = timing["page"]
            return found
    finally:
        server.terminate()
        await server.wait()


# ---------------------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> None:
    from coprod import db
    from coprod.config import get_settings

    name = args.reuse or f"coprod_bench_{uuid.uuid4().hex[:10]}"
    url = PG_URL.format(name=name)
    if not args.reuse:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        if args.reuse:
            await db.init_db(url)
            say(f"reusing {name}, as seeded by an earlier run with --keep")
        else:
            started = time.perf_counter()
            await db.migrate(url)
            await db.close_db()
            await db.init_db(url)
            say(f"migrated in {time.perf_counter() - started:.1f} s; seeding ...")
            await seed(args.rows, args.orgs, args.network)
        say(f"\ntiming: median of {args.rounds} rounds, sides alternating, after a warm-up")
        service = await service_timings(args.rounds)
        say("over HTTP (uvicorn, one worker, signed in as a reporter):")
        pages = await http_timings(url, args.rounds)
    finally:
        await db.close_db()
        if not (args.keep or args.reuse):
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            say(f"kept database {name}")
    say("\nreport         roll-ups   raw rows   raw/roll-ups   target")
    for report, target in (("organisation", 50), ("network", 200)):
        m = service[report]
        say(
            f"{report:<13} {1000 * m['roll-ups']:>7.1f} ms {1000 * m['raw rows']:>8.1f} ms"
            f" {m['raw rows'] / m['roll-ups']:>10.1f}x   {target} ms"
            f" {'met' if 1000 * m['roll-ups'] <= target else 'NOT met'}"
        )
    for part in [k for k in service if ":" in k]:
        say(
            f"  {part:<40} "
            + ", ".join(f"{side} {1000 * t:.1f} ms" for side, t in service[part].items())
        )
    for page, seconds in pages.items():
        say(f"{page:<28} {1000 * seconds:>7.1f} ms over HTTP")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--network", type=int, default=30, help="member organisations")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", metavar="DATABASE", help="time a database kept by an earlier run, unseeded"
    )
    args = parser.parse_args()
    os.environ.setdefault("COPROD_ENV", "development")
    started = time.perf_counter()
    say(
        f"{args.rows:,} involvement rows, {args.orgs} organisations, a network of "
        f"{args.network}; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs (shared)"
    )
    asyncio.run(bench(args))
    say(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
