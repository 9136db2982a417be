"""Contract rules: default length, overlap, status, renewal, expiry reminders, catch-ups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from coprod.domain.dates import add_months, add_years, ranges_overlap


class ContractStatus(StrEnum):
    UPCOMING = "upcoming"
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class Term:
    """The dates of one contract, as the rules see them."""

    starts_on: dt.date
    ends_on: dt.date
    ended_on: dt.date | None = None  # set when ended early

    @property
    def last_day(self) -> dt.date:
        return self.ended_on if self.ended_on is not None else self.ends_on


def default_end(starts_on: dt.date, years: int) -> dt.date:
    """A 3-year contract from 1 April 2026 runs to 31 March 2029."""
    return add_years(starts_on, years) - dt.timedelta(days=1)


def status(term: Term, today: dt.date, expiring_within_days: int = 90) -> ContractStatus:
    if term.ended_on is not None:
        # Ended early: it runs to its last day (unless that was before it began), then is ended.
        if today > term.ended_on or term.ended_on < term.starts_on:
            return ContractStatus.ENDED
        return ContractStatus.UPCOMING if today < term.starts_on else ContractStatus.ACTIVE
    if today < term.starts_on:
        return ContractStatus.UPCOMING
    if today > term.ends_on:
        return ContractStatus.EXPIRED
    if (term.ends_on - today).days <= expiring_within_days:
        return ContractStatus.EXPIRING
    return ContractStatus.ACTIVE


def is_in_force(term: Term, day: dt.date) -> bool:
    """Can someone be booked on this day under this contract?"""
    return term.starts_on <= day <= term.last_day


def overlapping(new: Term, others: list[Term]) -> Term | None:
    """The first existing contract that the new one's dates would overlap, if any."""
    for other in others:
        if ranges_overlap(new.starts_on, new.ends_on, other.starts_on, other.last_day):
            return other
    return None


def renewal_start(term: Term) -> dt.date:
    return term.last_day + dt.timedelta(days=1)


def expiry_reminder_due(ends_on: dt.date, today: dt.date, offsets: tuple[int, ...]) -> int | None:
    """Which expiry reminder (days before the end) is due today, if any.

    Each offset owns the days from (end - offset) up to the next smaller offset, so a worker that
    was down on the exact day still sends it later, and a late start never sends a stale one.
    """
    if today > ends_on:
        return None
    days_left = (ends_on - today).days
    for offset in sorted(offsets):
        if days_left <= offset:
            return offset
    return None


def catch_up_due_dates(term: Term, interval_months: int = 6) -> list[dt.date]:
    """Twice-yearly catch-ups fall due every `interval_months` from the start, while in force."""
    dates = []
    k = 1
    while (due := add_months(term.starts_on, interval_months * k)) <= term.last_day:
        dates.append(due)
        k += 1
    return dates


class CatchUpState(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    NOT_DUE = "not_due"
    NONE_LEFT = "none_left"


# A catch-up due within this many days is shown as due soon.
SOON_DAYS = 30


def catch_up_state(due: dt.date, today: dt.date, soon_days: int = SOON_DAYS) -> CatchUpState:
    if due < today:
        return CatchUpState.OVERDUE
    if (due - today).days <= soon_days:
        return CatchUpState.DUE_SOON
    return CatchUpState.NOT_DUE


def next_catch_up(
    term: Term, held: int, today: dt.date, interval_months: int = 6, soon_days: int = SOON_DAYS
) -> tuple[dt.date | None, CatchUpState]:
    """The next catch-up's due date, given how many have been held under this contract."""
    dates = catch_up_due_dates(term, interval_months)
    if held >= len(dates):
        return None, CatchUpState.NONE_LEFT
    due = dates[held]
    return due, catch_up_state(due, today, soon_days)
