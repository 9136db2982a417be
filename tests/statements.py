"""Counting the SQL statements the app sends, at the driver, so that nothing escapes.

Every statement counts, including BEGIN, COMMIT, ROLLBACK and savepoints: each is a round trip
to the database, and a transaction opened per row grows with the data as surely as a SELECT.
On PostgreSQL this includes the reset asyncpg sends when a connection goes back to the pool.
A batch sent with `executemany` (what `bulk_create` does) counts once, as asyncpg logs it: one
statement, prepared once and sent in one call. SQLite's trace would see every row of it, so
there the batch is noted once and the trace is paused while it runs.

- SQLite: `sqlite3.Connection.set_trace_callback` on the one connection Tortoise holds (set
  through aiosqlite, in the connection's own thread).
- PostgreSQL: an asyncpg query logger on every connection. The hook is installed on
  `asyncpg.Connection.__init__` when this module is imported (before the test session opens its
  pool), and on any connection already in the pool when counting starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

_active: list[Statements] = []


@dataclass
class Statements:
    sql: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.sql)

    def record(self, text: str) -> None:
        self.sql.append(" ".join(text.split()))


def _note(text: str) -> None:
    for counter in _active:
        counter.record(text)


def _pg_logger(record: Any) -> None:
    _note(str(record.query))


def _install_asyncpg_hook() -> None:
    try:
        from asyncpg import connection
    except ImportError:  # SQLite-only installations
        return
    cls = connection.Connection
    if getattr(cls, "_coprod_counting", False):
        return
    original = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.add_query_logger(_pg_logger)

    cls.__init__ = __init__  # type: ignore[method-assign]
    cls._coprod_counting = True  # type: ignore[attr-defined]


_install_asyncpg_hook()


def _pooled_asyncpg_connections() -> list[Any]:
    from tortoise import connections

    pool = getattr(connections.get("default"), "_pool", None)
    if pool is None:
        return []
    return [h._con for h in getattr(pool, "_holders", []) if getattr(h, "_con", None)]


def _sqlite_connection() -> Any:
    from tortoise import connections

    client = connections.get("default")
    # aiosqlite's connection: its sqlite3 connection may be touched only from its own thread.
    return getattr(client, "_connection", None) if hasattr(client, "filename") else None


def _install_aiosqlite_hook() -> None:
    try:
        import aiosqlite
    except ImportError:
        return
    cls = aiosqlite.Connection
    if getattr(cls, "_coprod_counting", False):
        return
    original = cls.executemany

    async def executemany(self: Any, sql: str, parameters: Any) -> Any:
        if not _active:
            return await original(self, sql, parameters)
        _note(sql)
        await self.set_trace_callback(None)
        try:
            return await original(self, sql, parameters)
        finally:
            await self.set_trace_callback(_note)

    cls.executemany = executemany  # type: ignore[method-assign]
    cls._coprod_counting = True  # type: ignore[attr-defined]


_install_aiosqlite_hook()


@asynccontextmanager
async def counting() -> AsyncIterator[Statements]:
    """Count every statement sent to the database inside the block."""
    counter = Statements()
    for con in _pooled_asyncpg_connections():
        con.add_query_logger(_pg_logger)  # a set: adding twice is harmless
    sqlite = _sqlite_connection()
    if sqlite is not None:
        await sqlite.set_trace_callback(_note)
    _active.append(counter)
    try:
        yield counter
    finally:
        # asyncpg hands records to loggers with call_soon: let them arrive before we stop.
        for _ in range(3):
            await asyncio.sleep(0)
        _active.remove(counter)
        if sqlite is not None:
            await sqlite.set_trace_callback(None)
