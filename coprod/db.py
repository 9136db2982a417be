"""Database configuration and start-up."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise, connections
from tortoise.backends.base.client import (
    BaseDBAsyncClient,
    NestedTransactionContext,
    PoolConnectionWrapper,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.models import Model
from tortoise.queryset import CountQuery, QuerySet

from coprod.config import get_settings

MODEL_MODULES = ["coprod.models"]

M = TypeVar("M", bound=Model)
T = TypeVar("T")


def with_pool_sizes(url: str) -> str:
    """A PostgreSQL URL with the configured pool sizes, unless it sets its own."""
    parts = urlsplit(url)
    if not parts.scheme.startswith(("postgres", "asyncpg")):
        return url
    query = dict(parse_qsl(parts.query))
    settings = get_settings()
    query.setdefault("minsize", str(settings.db_pool_min_size))
    query.setdefault("maxsize", str(settings.db_pool_max_size))
    return urlunsplit(parts._replace(query=urlencode(query)))


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = with_pool_sizes(database_url or get_settings().database_url)
    return {
        "connections": {"default": url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # `tortoise` CLI reads TORTOISE_ORM (pyproject [tool.tortoise]); built lazily so that the
    # environment at call time decides the database.
    if name == "TORTOISE_ORM":
        return tortoise_config()
    raise AttributeError(name)


async def init_db(database_url: str | None = None) -> None:
    # The ASGI server runs the lifespan in a task of its own, and requests in others: the
    # global fallback lets every task see the one set of connections.
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str | None = None) -> None:
    await tortoise_migrate(config=tortoise_config(database_url))


def _held_connection_class() -> type[BaseDBAsyncClient] | None:
    try:
        import asyncpg
        from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
    except ImportError:  # SQLite-only installations
        return None

    class HeldConnection(TransactionWrapper):
        """One pooled connection for a whole request, taken at its first statement.

        Outside a service's transaction each statement commits on its own, as with the pool;
        but taking a connection from the pool and resetting it on the way back is two extra
        round trips, which a page of several reads would otherwise pay for every statement.
        """

        def __init__(self, parent: AsyncpgDBClient) -> None:
            super().__init__(parent)
            self._pool_client = parent
            self._connection = cast(asyncpg.Connection, None)

        async def hold(self, wait: float | None = None) -> asyncpg.Connection:
            if self._connection is None:
                client = self._pool_client
                # Opened as Tortoise's own statements open it, under its lock: the first
                # requests after a start arrive together, and each making its own pool would
                # open min_size connections apiece, past the server's limit.
                await PoolConnectionWrapper(client, client._pool_init_lock).ensure_connection()
                assert client._pool is not None
                self._connection = await client._pool.acquire(timeout=wait)
            return self._connection

        async def give_back(self) -> None:
            if self._connection is not None and self._pool_client._pool is not None:
                connection, self._connection = self._connection, cast(asyncpg.Connection, None)
                await self._pool_client._pool.release(connection)

        def acquire_connection(self) -> Any:
            return _Using(self)

        def _in_transaction(self) -> TransactionContext:
            # A service's transaction is a real BEGIN ... COMMIT on the held connection
            # (asyncpg makes it a savepoint only if one is already open).
            return _TransactionOnHeld(self, TransactionWrapper)

    class _Using:
        def __init__(self, held: HeldConnection) -> None:
            self.held = held

        async def __aenter__(self) -> asyncpg.Connection:
            await self.held._lock.acquire()
            try:
                return await self.held.hold()
            except BaseException:
                self.held._lock.release()
                raise

        async def __aexit__(self, *exc: object) -> None:
            self.held._lock.release()

    return HeldConnection


class _TransactionOnHeld(TransactionContext):
    def __init__(self, held: Any, wrapper: type[TransactionalDBClient]) -> None:
        self.held = held
        self.wrapper = wrapper
        self.inner: NestedTransactionContext | None = None

    async def __aenter__(self) -> TransactionalDBClient:
        await self.held.hold()
        self.inner = NestedTransactionContext(self.wrapper(self.held))
        return await self.inner.__aenter__()

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        assert self.inner is not None
        await self.inner.__aexit__(exc_type, exc_val, exc_tb)


_HELD = _held_connection_class()


@asynccontextmanager
async def one_connection() -> AsyncIterator[None]:
    """Run the block's statements on one pooled connection (PostgreSQL; SQLite has only one)."""
    client = connections.get("default")
    if _HELD is None or type(client).__name__ != "AsyncpgDBClient":
        yield
        return
    held = _HELD(client)
    token = connections.set("default", held)
    try:
        yield
    finally:
        connections.reset(token)
        await asyncio.shield(held.give_back())  # type: ignore[attr-defined]


class Reads:
    """Read-only parts of one answer, queued as they are given, and run when the block of
    `reads_at_once` ends."""

    def __init__(self) -> None:
        self._queued: deque[tuple[Coroutine[Any, Any, Any], asyncio.Future[Any]]] = deque()

    def __call__(self, read: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queued.append((read, future))
        return future

    async def run(self, lanes: Sequence[BaseDBAsyncClient | None]) -> None:
        """Each lane (None: the current connection) takes the next part as it finishes one, so
        that the slowest part does not hold up others queued behind it. Given first, it is
        started first."""

        async def lane(client: BaseDBAsyncClient | None) -> None:
            if client is not None:
                connections.set("default", client)  # for this lane's task alone
            while self._queued:
                read, future = self._queued.popleft()
                try:
                    future.set_result(await read)
                except BaseException as exc:
                    future.set_exception(exc)
                    raise

        tasks = [asyncio.create_task(lane(client)) for client in lanes]
        try:
            await asyncio.gather(*tasks)
        finally:
            # After a failure, stop the other lanes.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def drop(self) -> None:
        """Forget the parts no lane began (after a failure), closing them unrun."""
        while self._queued:
            read, future = self._queued.popleft()
            read.close()
            future.cancel()


# A lane beyond the first is opened only on a spare connection: an idle one, or one the pool
# may still make (which can take a while on a remote server). Waiting for another request to
# give one back would let requests that each hold one wait for one another's; the time limit
# covers another report taking the spare one first.
_LANE_WAIT_SECONDS = 2.0


def _spare(pool_client: Any) -> bool:
    pool = pool_client._pool
    return pool is not None and (pool.get_idle_size() > 0 or pool.get_size() < pool.get_max_size())


# For the lanes' transactions only. A report's statements each read up to a few hundred
# thousand roll-up rows: compiling them (JIT) costs more than it saves, and sorting them for
# distinct counts spills to disk at the default 4 MB. The lanes are already the parallelism:
# a statement's own workers would only compete with the other lanes for the same cores.
# The roll-ups a report reads are small and read often, so they are in memory: at the default
# cost of a random page read (4, for spinning disks), PostgreSQL would rather read a whole
# table than look up an organisation's few hundred people by index.
_LANE_SETTINGS = (
    ("jit", "off"),
    ("work_mem", "32MB"),
    ("max_parallel_workers_per_gather", "0"),
    ("random_page_cost", "1.1"),
)


@asynccontextmanager
async def reads_at_once(lanes: int) -> AsyncIterator[Reads]:
    """Run read-only parts at once, on PostgreSQL each on one of `lanes` connections that all see
    the database as it was at one moment (the first lane's exported snapshot), so that the
    parts of a report over millions of rows take about the time of the slowest lane, not the
    sum of them all, and still agree with one another. The block gives each part to `read`,
    which queues it and gives a future of its result; as the block ends the lanes run them,
    each taking the next part as it finishes one, and every result is in when it has ended.

    Inside a transaction, or on SQLite, the parts share the one connection, which sees what the
    transaction sees."""
    async with _lanes(lanes) as clients:
        reads = Reads()
        try:
            yield reads
            await reads.run(clients)
        finally:
            reads.drop()


@asynccontextmanager
async def _lanes(lanes: int) -> AsyncIterator[Sequence[BaseDBAsyncClient | None]]:
    """Connections in one snapshot for `reads_at_once`, or [None]: the current connection."""
    current = connections.get("default")
    # A transaction's client (a wrapper, even around a request's held connection) is neither.
    if _HELD is None or not (
        isinstance(current, _HELD) or type(current).__name__ == "AsyncpgDBClient"
    ):
        yield [None]
        return
    held: Any = _HELD
    pool_client = getattr(current, "_pool_client", current)
    lanes_held: list[Any] = []
    transactions: list[Any] = []
    settings = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in _LANE_SETTINGS)
    try:
        for n in range(lanes):
            lane = current if n == 0 and isinstance(current, held) else held(pool_client)
            if n > 0 and not _spare(pool_client):
                break
            try:
                # The first lane waits as any statement would; the others only for a spare.
                connection = await lane.hold(None if n == 0 else _LANE_WAIT_SECONDS)
            except TimeoutError:
                break
            lanes_held.append(lane)
            transaction = connection.transaction(isolation="repeatable_read", readonly=True)
            await transaction.start()
            transactions.append(transaction)
            if n == 0:
                snapshot = await connection.fetchval(f"SELECT pg_export_snapshot(), {settings}")
            else:
                # Must come first in the transaction: before it, the lane has its own snapshot.
                await connection.execute(
                    f"SET TRANSACTION SNAPSHOT '{snapshot}'; SELECT {settings}"
                )
        yield lanes_held
    finally:
        # Read-only: rolling back ends a lane's transaction as surely as committing would, and
        # after an error too.
        for transaction in transactions:
            await asyncio.shield(transaction.rollback())
        for lane in lanes_held:
            if lane is not current:
                await asyncio.shield(lane.give_back())


async def counts(**queries: CountQuery) -> dict[str, int]:
    """Several counts in one statement, each a subquery of one SELECT: a page showing a dozen
    figures pays for one round trip and one statement's overhead, not a dozen."""
    if not queries:
        return {}
    client = connections.get("default")
    builder = client.query_class.select()
    for name, query in queries.items():
        # A count with a limit or offset is corrected in Python after it runs (CountQuery).
        if query._limit or query._offset:
            raise ValueError(f"{name}: a count with a limit or offset cannot be run as a subquery")
        query._choose_db_if_not_chosen()
        query._make_query()
        builder = builder.select(query.query.as_(name))
    sql, params = builder.get_parameterized_sql()
    rows = await client.execute_query_dict(sql, params)
    return {name: int(rows[0][name]) for name in queries}


async def rows_around(query: Any, statement: str) -> list[dict[str, Any]]:
    """Run a statement written around a query Tortoise built, which stands in it as `{query}`;
    its only parameters are the query's own, numbered or not as the database wants. For what
    the ORM cannot say, such as reading a query's rows once for two groupings (a materialised
    WITH), without writing the query's filters out by hand."""
    client = connections.get("default")
    query._choose_db_if_not_chosen()
    query._make_query()
    # Not the model's default order: the statement around the rows decides what is sorted.
    query.query._orderbys = []
    inner, params = query.query.get_parameterized_sql()
    sql = statement.replace("{query}", inner)
    return [dict(r) for r in await client.execute_query_dict(sql, params)]


async def lock(query: QuerySet[Any], *, skip_locked: bool = False) -> list[int]:
    """Lock the query's rows FOR UPDATE, in its order, and give their ids; with skip_locked,
    only the rows nobody else holds (none, rather than an error, if all are held).

    Not `.select_for_update().values_list("id")`: Tortoise leaves FOR UPDATE out of a values
    query (and of `.exists()` and `.count()`) without a word, so the rows are read but never
    locked. SQLite locks the whole database for a writing transaction instead, and ignores
    this."""
    rows = await query.select_for_update(skip_locked=skip_locked).only("id")
    return [row.pk for row in rows]


# --------------------------------------------------------------------------- hand-written SQL
# Tortoise builds a query's SQL afresh on every call, and that costs several times what running
# it does: about 0.45 ms of Python against 0.1 ms for the statement on a held connection. The
# reads made on every request, or by a crowd at once, are written here once instead.


def sql(template: str) -> tuple[BaseDBAsyncClient, str]:
    """The current connection (a request's, or a transaction's) and `template` with its `{}`
    placeholders in that driver's style."""
    client = connections.get("default")
    return client, _placeholders(template, client.capabilities.dialect)


@cache
def _placeholders(template: str, dialect: str) -> str:
    count = template.count("{}")
    if dialect == "sqlite":
        return template.format(*["?"] * count)
    return template.format(*[f"${n}" for n in range(1, count + 1)])


def columns(alias: str, model: type[Model]) -> str:
    """Every column of `model`, each named `alias__column`, for `instance` to read back."""
    # Sorted, so the statement reads the same in every process (logs, pg_stat_statements).
    return ", ".join(f'{alias}."{c}" AS "{alias}__{c}"' for c in sorted(model._meta.db_fields))


def instance(alias: str, model: type[M], row: Mapping[str, Any]) -> M:
    return model._init_from_db(**{c: row[f"{alias}__{c}"] for c in model._meta.db_fields})


def db_value(model: type[Model], field: str, value: Any) -> Any:
    """`value` as the ORM writes it to `model.field`: SQLite compares times as the text the ORM
    stored, so a hand-written comparison must pass the same text."""
    return model._meta.fields_map[field].to_db_value(value, model)


@cache
def _select_sql(model: type[Model], keys: tuple[str, ...]) -> str:
    where = " AND ".join(f'r."{key}" = {{}}' for key in keys)
    return f'SELECT {columns("r", model)} FROM "{model._meta.db_table}" r WHERE {where}'


async def select(model: type[M], **equal: int | str | bool) -> list[M]:
    """`model.filter(**equal)` for columns each equal to a value, unordered, with its SQL built
    once per model and set of columns."""
    client, statement = sql(_select_sql(model, tuple(equal)))
    rows = await client.execute_query_dict(statement, list(equal.values()))
    return [instance("r", model, row) for row in rows]


async def get_or_none(model: type[M], **equal: int | str | bool) -> M | None:
    """`model.get_or_none(**equal)`, as `select` builds it: for a key's columns."""
    found = await select(model, **equal)
    return found[0] if found else None


# What the drivers raise when the database cannot be reached, is restarting or has gone away:
# a short wait and a retry will do, so people are told that (503) rather than shown a fault.
_UNAVAILABLE_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,  # includes Tortoise's DBConnectionError and refused connections
    socket.gaierror,
)
_UNAVAILABLE_SQLITE = ("unable to open database file", "disk i/o error", "database is locked")
# PostgreSQL while a database is closed to connections (ALLOW_CONNECTIONS false, or being
# dropped or restored), which asyncpg reports only by its message.
_UNAVAILABLE_POSTGRES = "not currently accepting connections"


def _unavailable_types() -> tuple[type[BaseException], ...]:
    try:
        import asyncpg
    except ImportError:  # SQLite-only installations
        return _UNAVAILABLE_TYPES
    return (
        *_UNAVAILABLE_TYPES,
        asyncpg.exceptions.PostgresConnectionError,
        asyncpg.exceptions.CannotConnectNowError,
        asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown
        asyncpg.exceptions.ConnectionDoesNotExistError,
        asyncpg.exceptions.TooManyConnectionsError,
        # A pooled connection the server ended mid-use: asyncpg finds its protocol state broken.
        asyncpg.exceptions.InternalClientError,
    )


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc`, or an error it was raised from, says the database is out of reach."""
    types = _unavailable_types()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, types):
            return True
        if isinstance(current, sqlite3.OperationalError) and any(
            text in str(current).lower() for text in _UNAVAILABLE_SQLITE
        ):
            return True
        if _UNAVAILABLE_POSTGRES in str(current):
            return True
        if type(current).__name__ == "InterfaceError" and "closed" in str(current).lower():
            return True  # asyncpg: the connection or pool closed under us
        current = current.__cause__ or current.__context__
    return False
