"""Report periods and small-number suppression."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SUPPRESS_BELOW = 5


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str


def financial_year(year: int) -> Period:
    """The NHS financial year runs 1 April to 31 March and is named by its first year."""
    return Period(
        dt.date(year, 4, 1), dt.date(year + 1, 3, 31), f"April {year} to March {year + 1}"
    )


def quarter(year: int, number: int) -> Period:
    """Quarter 1 is April to June of the financial year `year`."""
    if number not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1 to 4")
    first_month = 4 + 3 * (number - 1)
    start_year = year + (first_month - 1) // 12
    start = dt.date(start_year, (first_month - 1) % 12 + 1, 1)
    following = dt.date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
    return Period(
        start, following - dt.timedelta(days=1), f"Quarter {number} of {year} to {year + 1}"
    )


def financial_year_of(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def suppress(count: int | None) -> int | None:
    """Counts of 1 to 4 could point to a person: show them as suppressed (None). 0 is safe."""
    if count is None or 0 < count < SUPPRESS_BELOW:
        return None
    return count


def suppress_with_total(counts: dict[str, int | None]) -> dict[str, int | None]:
    """Counts already passed through `suppress`, which add up to a total shown elsewhere. If
    only one is hidden, the total minus the others would give it away, so the smallest shown
    count is hidden too (complementary suppression)."""
    hidden = [k for k, v in counts.items() if v is None]
    shown = {k: v for k, v in counts.items() if v is not None and v > 0}
    if len(hidden) == 1 and shown:
        smallest = min(shown, key=lambda k: (shown[k], k))
        return {**counts, smallest: None}
    return counts


def settle_sums(
    cells: dict[str, int | None], true: Mapping[str, int], sums: Sequence[tuple[str, Sequence[str]]]
) -> dict[str, int | None]:
    """Complementary suppression over figures tied by sums: `cells` already passed through
    `suppress`, `true` their real values, and each of `sums` a total's cell and the cells that
    add up to it. While any sum has exactly one hidden cell (which the others would give away),
    one more is hidden: the smallest other part shown that is not 0, or else the total."""
    safe = dict(cells)
    changed = True
    while changed:
        changed = False
        for total, parts in sums:
            hidden = [k for k in (total, *parts) if safe[k] is None]
            if len(hidden) != 1:
                continue
            others = [k for k in parts if k not in hidden and safe[k]]
            if others:
                safe[min(others, key=lambda k: (true[k], k))] = None
            elif safe[total]:
                safe[total] = None
            else:  # every other figure is 0, so the hidden one is 0 too: nothing to give away
                continue
            changed = True
    return safe


# ---------------------------------------------------------------------------- roll-ups
#
# An involvement row adds to one row of each roll-up, or two: the activity-day roll-up's for
# its mode and for every mode, and the yearly people roll-up's for its team and the whole
# organisation. Its key holds no NULLs (0 or "" stand for "none") so the database's unique key
# treats "no team" as one value.

ACTIVITY_DAY = "rollup_activity_day"
PERSON_DAY = "rollup_person_day"
PERSON_YEAR = "rollup_person_year"
# The yearly people roll-up's count for each month, in the order of the financial year.
MONTHS = (
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "january",
    "february",
    "march",
)
# Who delivered training to staff, and in how many sessions, are rolled up on their own: a
# network report counts them over a few thousand rows rather than every attended booking.
TRAINING_DAY = "rollup_training_day"
TRAINER_DAY = "rollup_trainer_day"
TRAINER_YEAR = "rollup_trainer_year"
TRAINING_DELIVERY = "training_delivery"  # the kind of activity (`models.Kind`)
# The team of the yearly people roll-up's (and `rollup_person_first`'s) rows for a whole
# organisation. Elsewhere team 0 is "no team".
WHOLE_ORGANISATION = 0
# The mode of the activity-day roll-up's rows for every way of taking part.
EVERY_MODE = ""
ROLLUP_KEYS: dict[str, tuple[str, ...]] = {
    ACTIVITY_DAY: (
        "organisation_id",
        "day",
        "activity_id",
        "mode",
        "category",
        "team_id",
        "project_id",
    ),
    PERSON_DAY: ("organisation_id", "day", "team_id", "representative_id", "representative_type"),
    PERSON_YEAR: (
        "organisation_id",
        "year",
        "team_id",
        "representative_id",
        "representative_type",
    ),
    TRAINING_DAY: ("organisation_id", "day", "activity_id"),
    TRAINER_DAY: ("organisation_id", "day", "representative_id"),
    TRAINER_YEAR: ("organisation_id", "year", "representative_id"),
}
ROLLUP_SUMS: dict[str, tuple[str, ...]] = {
    ACTIVITY_DAY: ("involvements", "minutes", "fee_pence", "expenses_pence"),
    PERSON_DAY: ("involvements",),
    PERSON_YEAR: MONTHS,
    TRAINING_DAY: ("involvements",),
    TRAINER_DAY: ("involvements",),
    TRAINER_YEAR: MONTHS,
}
# When a roll-up row no longer counts anything, and is removed: otherwise it would still count
# as an activity or a person.
ROLLUP_EMPTY: dict[str, str] = {
    ACTIVITY_DAY: "involvements = 0",
    PERSON_DAY: "involvements = 0",
    PERSON_YEAR: " AND ".join(f"{month} = 0" for month in MONTHS),
    TRAINING_DAY: "involvements = 0",
    TRAINER_DAY: "involvements = 0",
    TRAINER_YEAR: " AND ".join(f"{month} = 0" for month in MONTHS),
}

Key = tuple[Any, ...]


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _contributions(row: Mapping[str, Any]) -> list[tuple[str, Key, tuple[int, ...]]]:
    """(roll-up, key, sums) for each roll-up row that one involvement row adds to."""
    team = row.get("team_id") or 0
    person = (row["representative_id"], row["representative_type"])
    year = (row["organisation_id"], financial_year_of(row["day"]))
    in_month = tuple(int(m == month_column(row["day"])) for m in MONTHS)
    sums = (1, row["minutes"], row.get("fee_pence") or 0, row.get("expenses_pence") or 0)
    found: list[tuple[str, Key, tuple[int, ...]]] = [
        # An activity's day has a row for every way of taking part (EVERY_MODE), so that
        # figures not split by mode read one row an activity, and a row for each way.
        (ACTIVITY_DAY, _activity_day(row, team, mode), sums)
        for mode in (EVERY_MODE, row["mode"])
    ]
    found.append((PERSON_DAY, (row["organisation_id"], row["day"], team, *person), (1,)))
    # Team 0 of the yearly roll-up is the whole organisation, so that a report across
    # teams counts one row a person and year rather than one per team.
    found.append((PERSON_YEAR, (*year, WHOLE_ORGANISATION, *person), in_month))
    if team:
        found.append((PERSON_YEAR, (*year, team, *person), in_month))
    if row.get("kind") == TRAINING_DELIVERY:
        trainer = (row["organisation_id"], row["day"], row["representative_id"])
        found += [
            (TRAINING_DAY, (row["organisation_id"], row["day"], row.get("activity_id") or 0), (1,)),
            (TRAINER_DAY, trainer, (1,)),
            (TRAINER_YEAR, (*year, row["representative_id"]), in_month),
        ]
    return found


def _activity_day(row: Mapping[str, Any], team: int, mode: str) -> Key:
    return (
        row["organisation_id"],
        row["day"],
        row.get("activity_id") or 0,
        mode,
        row.get("category") or "",
        team,
        row.get("project_id") or 0,
    )


def rollup_changes(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> dict[str, dict[Key, tuple[int, ...]]]:
    """What to add to each roll-up row when involvement rows `before` become `after`: the old
    rows taken away and the new ones added, with changes that cancel out left out."""
    changes: dict[str, dict[Key, list[int]]] = {table: {} for table in ROLLUP_KEYS}
    for rows, sign in ((before, -1), (after, 1)):
        for row in rows:
            for table, key, sums in _contributions(row):
                totals = changes[table].setdefault(key, [0] * len(sums))
                for i, value in enumerate(sums):
                    totals[i] += sign * value
    return {
        table: {key: tuple(v) for key, v in found.items() if any(v)}
        for table, found in changes.items()
    }


def whole_months(period: Period) -> tuple[tuple[dt.date, dt.date] | None, list[Period]]:
    """The first and last whole calendar months in a period (as their first days), if any,
    and the days at either end that fall outside them."""
    first = period.start if period.start.day == 1 else _next_month(period.start)
    # The day after the last whole month: the period's end, if a month ends with it.
    day_after = period.end + dt.timedelta(days=1)
    after_last = day_after if day_after.day == 1 else month_of(period.end)
    if first >= after_last:
        return None, [period]
    ends = []
    if period.start < first:
        ends.append(Period(period.start, first - dt.timedelta(days=1), ""))
    if after_last <= period.end:
        ends.append(Period(after_last, period.end, ""))
    return (first, month_of(after_last - dt.timedelta(days=1))), ends


def month_column(day: dt.date) -> str:
    """The yearly people roll-up's column for the month of `day`."""
    return MONTHS[(day.month - 4) % 12]


def years_of_months(first: dt.date, last: dt.date) -> list[tuple[int, tuple[str, ...]]]:
    """The financial years that the months `first` to `last` (their first days) fall in, each
    with the yearly roll-up's columns for those months."""
    found: dict[int, list[str]] = {}
    month = first
    while month <= last:
        found.setdefault(financial_year_of(month), []).append(month_column(month))
        month = _next_month(month)
    return [(year, tuple(columns)) for year, columns in found.items()]


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


# ------------------------------------------------------------ access and wellbeing roll-up
#
# Reports place an access arrangement or wellbeing check on the London day its booking starts,
# and take whole London days, so summing per organisation, team and London day stays exact.

ACCESS_DAY = "rollup_access_day"
ACCESS_KEYS = ("organisation_id", "day", "team_id")
OUTCOMES = ("proceed", "postpone", "adjust_role", "not_this_time")
ACCESS_SUMS = ("arranged", "on_time", *OUTCOMES)
ACCESS_EMPTY = " AND ".join(f"{s} = 0" for s in ACCESS_SUMS)


def access_counts(
    arrangements: Sequence[tuple[Key, bool]], checks: Sequence[tuple[Key, str]]
) -> dict[Key, tuple[int, ...]]:
    """What a set of bookings adds to each roll-up row: each arrangement (whether done on
    time) and each check (by outcome), under its booking's key."""
    found: dict[Key, list[int]] = {}
    for key, on_time in arrangements:
        row = found.setdefault(key, [0] * len(ACCESS_SUMS))
        row[0] += 1
        row[1] += int(on_time)
    for key, outcome in checks:
        row = found.setdefault(key, [0] * len(ACCESS_SUMS))
        row[2 + OUTCOMES.index(outcome)] += 1
    return {key: tuple(v) for key, v in found.items()}


def access_changes(
    before: Mapping[Key, Sequence[int]], after: Mapping[Key, Sequence[int]]
) -> dict[Key, tuple[int, ...]]:
    """What to add to each roll-up row when the counts `before` become `after`; rows that do
    not change are left out."""
    changes = {}
    for key in {*before, *after}:
        old = before.get(key) or (0,) * len(ACCESS_SUMS)
        new = after.get(key) or (0,) * len(ACCESS_SUMS)
        delta = tuple(n - o for n, o in zip(new, old, strict=True))
        if any(delta):
            changes[key] = delta
    return changes
