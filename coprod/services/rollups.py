"""Keeping the report roll-ups (`models/reporting.py`) in step with the `involvement` rows they
summarise. `attendance.py` calls `involvement_changed` inside the transaction that changes the
rows, so a report never sees one without the other; `bookings.py` and `activities.py` call
`access_changed` likewise for access arrangements and wellbeing checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from coprod import db
from coprod.domain.reporting import (
    ACCESS_DAY,
    ACCESS_EMPTY,
    ACCESS_KEYS,
    ACCESS_SUMS,
    PERSON_DAY,
    ROLLUP_EMPTY,
    ROLLUP_KEYS,
    ROLLUP_SUMS,
    WHOLE_ORGANISATION,
    access_changes,
    access_counts,
    rollup_changes,
)
from coprod.domain.scheduling import london_date
from coprod.models import (
    AccessArrangement,
    Booking,
    Involvement,
    Representative,
    WellbeingCheck,
)

# What the roll-ups summarise of an involvement row.
ROW = (
    "organisation_id",
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


# Keys a statement carries at most: far more than one activity's attendance, and far fewer
# than either driver's limit on parameters (32,766 in SQLite, 32,767 in PostgreSQL).
BATCH = 500


def values_of(row: Involvement) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ROW}


def connection() -> BaseDBAsyncClient:
    """The current transaction's connection, if there is one."""
    return connections.get("default")


def postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


def placeholders(conn: BaseDBAsyncClient, sql: str, values: Sequence[Any]) -> tuple[str, list]:
    """`?` placeholders as the connection's driver takes them (asyncpg numbers them), and
    dates as SQLite stores them."""
    if not postgres(conn):
        return sql, [v.isoformat() if isinstance(v, dt.date) else v for v in values]
    parts = sql.split("?")
    numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
    return numbered, list(values)


async def run(sql: str, values: Sequence[Any] = ()) -> list[dict[str, Any]]:
    conn = connection()
    text, params = placeholders(conn, sql, values)
    return [dict(r) for r in await conn.execute_query_dict(text, params)]


async def involvement_changed(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> None:
    """Involvement rows (as their values) `before` have become `after`. Call inside the
    transaction that changed them."""
    changes = rollup_changes(before, after)
    people = sorted({key[3] for key in changes[PERSON_DAY]})
    if people:
        # A person's first days are worked out again from their rows: the lock keeps two
        # changes for the same person from each missing the other's.
        await db.lock(Representative.filter(id__in=people).order_by("id"))
    for table, found in changes.items():
        await _add(table, ROLLUP_KEYS[table], ROLLUP_SUMS[table], found, ROLLUP_EMPTY[table])
    await _first_days((key[0], key[3]) for key in changes[PERSON_DAY])


async def _add(
    table: str,
    keys: Sequence[str],
    sums: Sequence[str],
    found: Mapping[tuple[Any, ...], Sequence[int]],
    empty: str,
) -> None:
    """Add each change to its roll-up row, creating it if need be, and remove rows left
    `empty`: two statements a batch of rows, however many people a change moves."""
    columns = (*keys, *sums)
    # Rows are locked in a fixed order, so two transactions touching the same ones queue
    # rather than deadlock.
    for batch in _batches(sorted(found, key=_sortable)):
        await run(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {_rows(len(columns), len(batch))}"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in sums),
            [value for key in batch for value in (*key, *found[key])],
        )
        match, values = _keys_in(keys, batch)
        await run(f"DELETE FROM {table} WHERE {match} AND {empty}", values)


def _batches(keys: Sequence[tuple[Any, ...]]) -> Iterator[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(keys), BATCH):
        yield keys[start : start + BATCH]


def _rows(width: int, count: int) -> str:
    """Placeholders for `count` rows of `width` values: (?, ?), (?, ?)."""
    return ", ".join([f"({', '.join('?' * width)})"] * count)


def _keys_in(columns: Sequence[str], keys: Sequence[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """A condition matching rows whose `columns` hold one of `keys`, and its values.
    PostgreSQL types a list of rows by the columns they are compared with (a VALUES list's
    parameters would be text); SQLite takes only a VALUES list."""
    rows = _rows(len(columns), len(keys))
    listed = rows if postgres(connection()) else f"VALUES {rows}"
    return f"({', '.join(columns)}) IN ({listed})", [value for key in keys for value in key]


AccessCounts = dict[tuple[Any, ...], tuple[int, ...]]


async def access_of(booking_ids: Iterable[int | None]) -> AccessCounts:
    """What these bookings' access arrangements and wellbeing checks add to
    `rollup_access_day` now. Take it before and after a change (in its transaction) and pass
    both to `access_changed`.

    The bookings are locked, so two changes to one booking's arrangements or checks are
    counted one after the other rather than both from the same starting point."""
    ids = sorted({i for i in booking_ids if i})
    if not ids:
        return {}
    await db.lock(Booking.filter(id__in=ids).order_by("id"))
    where = (
        "booking__starts_at",
        "booking__activity__organisation_id",
        "booking__activity__team_id",
    )
    arrangements = await AccessArrangement.filter(booking_id__in=ids).values(*where, "done_on_time")
    checks = await WellbeingCheck.filter(booking_id__in=ids).values(*where, "outcome")
    return access_counts(
        [(_access_key(a), bool(a["done_on_time"])) for a in arrangements],
        [(_access_key(c), str(getattr(c["outcome"], "value", c["outcome"]))) for c in checks],
    )


def _access_key(row: Mapping[str, Any]) -> tuple[int, dt.date, int]:
    return (
        row["booking__activity__organisation_id"],
        london_date(row["booking__starts_at"]),
        row["booking__activity__team_id"] or 0,
    )


async def access_changed(before: AccessCounts, after: AccessCounts) -> None:
    """Bookings' access counts (from `access_of`) `before` have become `after`. Call inside
    the transaction that changed them."""
    await _add(ACCESS_DAY, ACCESS_KEYS, ACCESS_SUMS, access_changes(before, after), ACCESS_EMPTY)


def _sortable(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(k) for k in key)


async def _first_days(people: Iterable[tuple[int, int]]) -> None:
    """These (organisation, person) pairs' first days in the organisation and in each team,
    worked out again from their days."""
    for batch in _batches(sorted(set(people))):
        match, values = _keys_in(("organisation_id", "representative_id"), batch)
        await run(f"DELETE FROM rollup_person_first WHERE {match}", values)
        await run(
            "INSERT INTO rollup_person_first (organisation_id, team_id, representative_id,"
            " first_day)"
            " SELECT organisation_id, team_id, representative_id, MIN(day) FROM rollup_person_day"
            f" WHERE team_id <> {WHOLE_ORGANISATION} AND {match}"
            " GROUP BY organisation_id, team_id, representative_id"
            f" UNION ALL SELECT organisation_id, {WHOLE_ORGANISATION}, representative_id, MIN(day)"
            f" FROM rollup_person_day WHERE {match} GROUP BY organisation_id, representative_id",
            [*values, *values],
        )
