"""Two hundred people booking the last place at once, over HTTP, on PostgreSQL.

    .venv/bin/python bench/booking_race.py [--people 200] [--rounds 3] [--pool 20]
                                           [--baseline e3130e8]

It makes a fresh PostgreSQL database, applies the migrations and seeds, through the services, an
organisation with an involvement lead, an API token for that lead and `--people` eligible
representatives (each with a contract in force). It serves the app under uvicorn (`--workers`)
and, for the baseline, the same app as it was at the `--baseline` commit (the row lock alone:
`git archive` of that commit, served from a temporary directory against the same database).

Each round makes a fresh activity (on a day of its own, so nobody's bookings overlap) with two
places, books one, and then fires `--people` simultaneous `POST /api/v1/activities/{id}/bookings`
at it, one per representative, each as the lead, each on a connection of its own opened before
the clock starts (a lean asyncio client: the time is the server's, not a Python HTTP
library's). Rounds alternate between the current code and the baseline, after one untimed
warm-up round each: a server just started opens its pool's connections and prepares its
statements during its first crowd, which a server in service has long done. Every round must end
with exactly one of the `--people` confirmed, the rest refused with 409 "This activity is
full", and exactly two bookings held on the activity; the script stops if not. It prints, per
side, the confirmed count, refusals and the refusals' p50 and p99 (over all rounds), and the
ratio of the p99s. The database is dropped at the end.

The connection pool is set in the database URL (`maxsize`), the same for both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
FULL = "This activity is full"


def say(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Side:
    name: str
    source: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    confirmed: int = 0
    refused: int = 0
    refusal_ms: list[float] = field(default_factory=list)


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "COPROD_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-1234567890",
        "BASE_URL": "http://127.0.0.1",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "1",  # nothing is delivered: the outbox only fills
    }


async def seed(people: int) -> tuple[str, list[int], int]:
    """The lead's API token, the representatives' ids and the lead's organisation id."""
    from coprod.models import Role
    from coprod.services import auth, contracts, representatives
    from coprod.services import people as people_service
    from coprod.services.actor import Actor

    system = Actor.system(via="cli")
    org = await people_service.create_organisation(system, "Benchmark NHS Trust")
    user = await people_service.create_user(
        system,
        email="lead@bench.example",
        full_name="Lena Lead",
        organisation=org,
        roles=[Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD],
        password=None,
    )
    lead = await auth.actor_for(user, org.id)
    _, secret = await auth.create_api_token(lead, "race", Role.INVOLVEMENT_LEAD)
    ids = []
    today = dt.date.today()
    for i in range(people):
        rep = await representatives.create(
            lead,
            {
                "full_name": f"Person {i:03d}",
                "representative_type": "patient",
                "email": f"person{i}@bench.example",
                "contact_channels": ["email"],
                "payment_preference": "paid",
            },
        )
        await contracts.create(
            lead,
            rep,
            {
                "role_title": "Patient representative",
                "starts_on": (today - dt.timedelta(days=30)).isoformat(),
                "ends_on": (today + dt.timedelta(days=700)).isoformat(),
            },
        )
        ids.append(rep.id)
    return secret, ids, org.id


def start(side: Side, database_url: str, workers: int) -> None:
    side.port = free_port()
    side.process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "coprod.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(side.port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ],
        cwd=side.source,
        env={**environment(database_url), "PYTHONPATH": str(side.source)},
    )


async def wait_until_up(side: Side) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(1800):  # a loaded machine can take a while to import the app
            try:
                if (await client.get(f"http://127.0.0.1:{side.port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{side.name}: the server did not start")


async def round_(
    side: Side, client: httpx.AsyncClient, secret: str, reps: list[int], day: int, timed: bool
) -> None:
    base = f"http://127.0.0.1:{side.port}/api/v1"
    auth = {"Authorization": f"Bearer {secret}"}
    starts = dt.date.today() + dt.timedelta(days=60 + day)
    made = await client.post(
        f"{base}/activities",
        headers=auth,
        json={
            "title": f"Interview panel {day}",
            "kind": "interview_panel",
            "category": "co_decision",
            "duration_minutes": 120,
            "capacity": 2,
            "starts_at": f"{starts.isoformat()}T10:00",
            "phone": True,
            "dial_in": "0300 123 4567",
        },
    )
    if made.status_code != 201:
        raise SystemExit(f"could not make the activity: {made.status_code} {made.text}")
    activity_id = made.json()["id"]
    url = f"{base}/activities/{activity_id}/bookings"
    # The first representative takes the first place; the others race for the second.
    first = await client.post(
        url, headers=auth, json={"representative_id": reps[0], "mode": "phone"}
    )
    if first.status_code != 201:
        raise SystemExit(f"could not book the first place: {first.status_code} {first.text}")
    bodies = [json.dumps({"representative_id": r, "mode": "phone"}).encode() for r in reps[1:]]
    results = await crowd(
        side.port, url.removeprefix(f"http://127.0.0.1:{side.port}"), auth, bodies
    )
    confirmed = [r for r in results if r[0] == 201]
    refused = [r for r in results if r[0] == 409]
    odd = [r for r in results if r[0] not in (201, 409)]
    if odd or len(confirmed) != 1 or any(FULL not in r[2] for r in refused):
        raise SystemExit(
            f"{side.name}: {len(confirmed)} confirmed, {len(refused)} refused, "
            f"others {[(r[0], r[2][:200]) for r in odd[:3]]}"
        )
    held = await client.get(url, headers=auth, params={"limit": 200})
    holding = [b for b in held.json()["items"] if b["status"] == "confirmed"]
    if len(holding) != 2:
        raise SystemExit(f"{side.name}: {len(holding)} bookings held on the activity, not 2")
    times = [r[1] for r in refused]
    label = side.name if timed else f"{side.name} (warm-up)"
    say(
        f"  {label:>8}: 1 confirmed, {len(refused)} refused, refusal p50 "
        f"{statistics.median(times):.0f} ms, p99 {p99(times):.0f} ms"
    )
    if not timed:
        return
    side.confirmed += len(confirmed)
    side.refused += len(refused)
    side.refusal_ms.extend(times)


async def crowd(
    port: int, path: str, headers: dict[str, str], bodies: list[bytes]
) -> list[tuple[int, float, str]]:
    """POST each body at once, one connection a person, and time each answer.

    The connections are opened first and the requests written together when all are ready, so
    what is timed is the server's answer, not the client: an `httpx` client spent longer in its
    own Python on two hundred requests than the server took to answer them. Each result is
    (status, milliseconds from writing the request to reading the whole answer, body)."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in bodies]
    go = asyncio.Event()

    async def one(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes
    ) -> tuple[int, float, str]:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode() + body
        await go.wait()
        began = time.perf_counter()
        writer.write(request)
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        answer = await reader.readexactly(length)
        elapsed = (time.perf_counter() - began) * 1000
        writer.close()
        return status, elapsed, answer.decode()

    tasks = [asyncio.create_task(one(r, w, b)) for (r, w), b in zip(streams, bodies, strict=True)]
    await asyncio.sleep(0.2)
    go.set()
    return await asyncio.gather(*tasks)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=20, help="the database pool's maxsize")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--baseline", default="e3130e8", help="a commit whose booking path is the row lock alone"
    )
    args = parser.parse_args()

    name = f"coprod_bench_race_{uuid.uuid4().hex[:8]}"
    database_url = f"postgres://postgres@127.0.0.1:5432/{name}?minsize=1&maxsize={args.pool}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    baseline_dir = Path(tempfile.mkdtemp(prefix="coprod-baseline-"))
    sides = [Side("current", ROOT), Side("baseline", baseline_dir)]
    try:
        os.environ.update(environment(database_url))
        from coprod import db
        from coprod.config import get_settings

        get_settings.cache_clear()
        await db.migrate(database_url)
        await db.init_db(database_url)
        say(f"seeding {args.people + 1} representatives ...")
        secret, reps, _ = await seed(args.people + 1)
        await db.close_db()

        archive = subprocess.check_output(  # noqa: ASYNC221
            ["git", "-C", str(ROOT), "archive", args.baseline]
        )
        subprocess.run(["tar", "-x", "-C", str(baseline_dir)], input=archive, check=True)  # noqa: ASYNC221
        for side in sides:
            start(side, database_url, args.workers)
        for side in sides:
            await wait_until_up(side)

        day = 0
        for n in range(-1, args.rounds):
            say(f"round {n + 1}" if n >= 0 else "warm-up, untimed")
            for side in sides if n % 2 == 0 else list(reversed(sides)):
                day += 1
                # A client of its own each round: two hundred people, two hundred connections.
                limits = httpx.Limits(max_connections=args.people + 10)
                async with httpx.AsyncClient(limits=limits, timeout=120) as client:
                    await round_(side, client, secret, reps, day, timed=n >= 0)

        say(
            f"\n{args.people} simultaneous bookings for the last place, {args.rounds} rounds each, "
            f"uvicorn ({args.workers} process(es)), PostgreSQL, pool maxsize {args.pool}"
        )
        say(f"{'side':>8}  confirmed  refused  refusal p50  refusal p99")
        for side in sides:
            say(
                f"{side.name:>8}  {side.confirmed:>9}  {side.refused:>7}  "
                f"{statistics.median(side.refusal_ms):>8.0f} ms  {p99(side.refusal_ms):>8.0f} ms"
            )
        now, before = p99(sides[0].refusal_ms), p99(sides[1].refusal_ms)
        say(
            f"refusal p99, current / baseline: {now / before:.2f} "
            f"(target: p99 under 500 ms; {'met' if now < 500 else 'NOT met'})"
        )
    finally:
        for side in sides:
            if side.process is not None:
                side.process.terminate()
                try:
                    side.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    side.process.kill()
        shutil.rmtree(baseline_dir, ignore_errors=True)
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
