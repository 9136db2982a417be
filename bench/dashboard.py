"""Time the lead dashboard's counts against the lists they used to count, on PostgreSQL.

    .venv/bin/python bench/dashboard.py [--n 1000] [--rounds 7]

Builds one organisation of `--n` representatives with tests/scenes.py in a fresh database
(migrations applied, then ANALYZE as autovacuum would), then alternates rounds of the old way
(`len()` of each list service) and the new one (each `*_count` service), checks both give the
same numbers, and prints median milliseconds and the ratio. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
NAME = f"coprod_bench_{uuid.uuid4().hex[:10]}"
os.environ.update(
    COPROD_ENV="test",
    DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{NAME}?minsize=1&maxsize=5",
    SECRET_KEY="bench-secret-key-that-is-long-enough-1234567890",
    BASE_URL="http://testserver",
)


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class World:
    """What scenes.build needs to make organisations and staff (as tests/conftest.py's World;
    importing that would point the settings at the test database)."""

    async def org(self, name: str) -> Any:
        from coprod.services import people
        from coprod.services.actor import Actor

        return await people.create_organisation(Actor.system(via="cli"), name)

    async def user(self, org: Any, email: str, *roles: Any) -> Any:
        from coprod.services import people
        from coprod.services.actor import Actor

        return await people.create_user(
            Actor.system(via="cli"),
            email=email,
            full_name=email.split("@")[0].title(),
            organisation=org,
            roles=list(roles),
            password="correct horse battery staple",
        )


async def main(n: int, rounds: int) -> None:
    from tortoise import connections

    from coprod import db
    from coprod.models import Role
    from coprod.services import arrangements, contracts, reminders, wellbeing
    from coprod.services.actor import Actor
    from tests import scenes

    await _admin(f'CREATE DATABASE "{NAME}"')
    try:
        await db.migrate()
        await db.close_db()
        await db.init_db()
        scene = await scenes.build(n, world=World())
        await connections.get("default").execute_script("ANALYZE")
        lead = Actor(
            user=scene.staff,
            organisation_id=scene.organisation_id,
            roles=frozenset({Role.INVOLVEMENT_LEAD}),
        )

        async def old() -> list[int]:
            return [
                len(await contracts.catch_ups_due(lead)),
                len(await wellbeing.consents_due_for_review(lead)),
                len(await arrangements.overdue(lead)),
                len(await reminders.call_list(lead)),
            ]

        async def new() -> list[int]:
            return [
                await contracts.catch_ups_due_count(lead),
                await wellbeing.consents_due_for_review_count(lead),
                await arrangements.overdue_count(lead),
                await reminders.call_count(lead),
            ]

        async def timed(way: Callable[[], Awaitable[list[int]]]) -> tuple[float, list[int]]:
            start = time.perf_counter()
            found = await way()
            return (time.perf_counter() - start) * 1000, found

        times: dict[str, list[float]] = {"lists": [], "counts": []}
        await old(), await new()  # warm up
        for _ in range(rounds):
            old_ms, old_found = await timed(old)
            new_ms, new_found = await timed(new)
            assert old_found == new_found, (old_found, new_found)
            times["lists"].append(old_ms)
            times["counts"].append(new_ms)
        lists, counts = statistics.median(times["lists"]), statistics.median(times["counts"])
        print(f"n={n} counts={new_found} (catch-ups, consents, arrangements, calls)")
        print(f"lists  {lists:8.1f} ms median of {rounds}")
        print(f"counts {counts:8.1f} ms median of {rounds}")
        print(f"ratio  {lists / counts:8.1f}x faster")
        await db.close_db()
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
