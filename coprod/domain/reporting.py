"""Report periods and small-number suppression."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
