"""Contract rules as tables: default length, overlap, status, reminders, catch-ups."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod.domain.contracts import (
    CatchUpState,
    ContractStatus,
    Term,
    catch_up_due_dates,
    default_end,
    expiry_reminder_due,
    is_in_force,
    next_catch_up,
    overlapping,
    renewal_start,
    status,
)
from coprod.domain.dates import add_months

D = dt.date


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        (D(2026, 4, 1), 3, D(2029, 3, 31)),
        (D(2026, 1, 1), 3, D(2028, 12, 31)),
        (D(2024, 2, 29), 1, D(2025, 2, 27)),  # no 29 Feb in 2025: day before the 28th
        (D(2026, 11, 23), 1, D(2027, 11, 22)),
    ],
)
def test_default_end(start, years, end):
    assert default_end(start, years) == end


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2026, 5, 15), 6, D(2026, 11, 15)),
        (D(2026, 12, 1), 1, D(2027, 1, 1)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


EXISTING = Term(D(2026, 1, 1), D(2026, 12, 31))


@pytest.mark.parametrize(
    ("new", "clashes"),
    [
        (Term(D(2027, 1, 1), D(2029, 12, 31)), False),  # starts the day after: a renewal
        (Term(D(2026, 12, 31), D(2029, 12, 30)), True),  # shares the last day
        (Term(D(2025, 1, 1), D(2026, 1, 1)), True),  # shares the first day
        (Term(D(2025, 1, 1), D(2025, 12, 31)), False),  # ends the day before
        (Term(D(2026, 3, 1), D(2026, 4, 1)), True),  # inside
        (Term(D(2025, 1, 1), D(2027, 12, 31)), True),  # around
    ],
)
def test_overlap(new, clashes):
    assert (overlapping(new, [EXISTING]) is not None) is clashes


def test_a_contract_ended_early_frees_the_days_after_it():
    ended = Term(D(2026, 1, 1), D(2028, 12, 31), ended_on=D(2026, 6, 30))
    assert overlapping(Term(D(2026, 7, 1), D(2029, 6, 30)), [ended]) is None
    assert overlapping(Term(D(2026, 6, 30), D(2029, 6, 30)), [ended]) is ended


TERM = Term(D(2026, 1, 1), D(2028, 12, 31))


@pytest.mark.parametrize(
    ("term", "today", "expected"),
    [
        (TERM, D(2025, 12, 31), ContractStatus.UPCOMING),
        (TERM, D(2026, 1, 1), ContractStatus.ACTIVE),
        (TERM, D(2028, 10, 1), ContractStatus.ACTIVE),  # 91 days left
        (TERM, D(2028, 10, 2), ContractStatus.EXPIRING),  # 90 days left
        (TERM, D(2028, 12, 31), ContractStatus.EXPIRING),
        (TERM, D(2029, 1, 1), ContractStatus.EXPIRED),
        (
            Term(D(2026, 1, 1), D(2028, 12, 31), D(2026, 6, 30)),
            D(2026, 6, 30),
            ContractStatus.ACTIVE,
        ),
        (Term(D(2026, 1, 1), D(2028, 12, 31), D(2026, 6, 30)), D(2026, 7, 1), ContractStatus.ENDED),
        (Term(D(2027, 1, 1), D(2029, 12, 31), D(2026, 6, 30)), D(2026, 6, 1), ContractStatus.ENDED),
    ],
)
def test_status(term, today, expected):
    assert status(term, today) is expected


@pytest.mark.parametrize(
    ("day", "in_force"),
    [
        (D(2025, 12, 31), False),
        (D(2026, 1, 1), True),
        (D(2028, 12, 31), True),
        (D(2029, 1, 1), False),
    ],
)
def test_in_force(day, in_force):
    assert is_in_force(TERM, day) is in_force


def test_renewal_starts_the_day_after_the_last_day():
    assert renewal_start(TERM) == D(2029, 1, 1)
    assert renewal_start(Term(D(2026, 1, 1), D(2028, 12, 31), D(2027, 3, 31))) == D(2027, 4, 1)


END = D(2026, 12, 31)


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (END - dt.timedelta(days=91), None),
        (END - dt.timedelta(days=90), 90),
        (END - dt.timedelta(days=31), 90),
        (END - dt.timedelta(days=30), 30),
        (END, 30),
        (END + dt.timedelta(days=1), None),
    ],
)
def test_expiry_reminder_due(today, due):
    assert expiry_reminder_due(END, today, (90, 30)) == due


def test_catch_ups_fall_due_every_six_months_from_the_start():
    term = Term(D(2026, 1, 15), D(2027, 12, 31))
    assert catch_up_due_dates(term) == [D(2026, 7, 15), D(2027, 1, 15), D(2027, 7, 15)]


@pytest.mark.parametrize(
    ("held", "today", "due", "state"),
    [
        (0, D(2026, 5, 1), D(2026, 7, 15), CatchUpState.NOT_DUE),
        (0, D(2026, 6, 15), D(2026, 7, 15), CatchUpState.DUE_SOON),
        (0, D(2026, 7, 16), D(2026, 7, 15), CatchUpState.OVERDUE),
        (1, D(2026, 7, 16), D(2027, 1, 15), CatchUpState.NOT_DUE),
        (3, D(2027, 8, 1), None, CatchUpState.NONE_LEFT),
    ],
)
def test_next_catch_up(held, today, due, state):
    term = Term(D(2026, 1, 15), D(2027, 12, 31))
    assert next_catch_up(term, held, today) == (due, state)
