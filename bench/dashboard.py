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
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


async def main(n: int, rounds: int) -> None:
    from tortoise import connections

    from bench.common import World, fresh_database
    from coprod.models import Role
    from coprod.services import arrangements, contracts, reminders, wellbeing
    from coprod.services.actor import Actor
    from tests import scenes

    async with fresh_database("dashboard"):
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
