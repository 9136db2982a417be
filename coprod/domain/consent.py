"""Whether consent is in force on a day, and if not, why: a rule with no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    given_on: dt.date
    review_on: dt.date
    withdrawn_on: dt.date | None = None


@dataclass(frozen=True)
class NotInForce:
    """Why consent is not in force: never given, withdrawn on a day, or past its review day."""

    withdrawn_on: dt.date | None = None
    review_was_due: dt.date | None = None

    @property
    def never_given(self) -> bool:
        return self.withdrawn_on is None and self.review_was_due is None


def in_force(record: Record, day: dt.date) -> bool:
    """Consent counts from the day it was given until its review day, inclusive, unless it was
    withdrawn on or before the day."""
    withdrawn = record.withdrawn_on is not None and record.withdrawn_on <= day
    return record.given_on <= day <= record.review_on and not withdrawn


def why_not(records: Sequence[Record], day: dt.date) -> NotInForce | None:
    """None when any record is in force on the day. Otherwise the reason, from the latest
    decision: a withdrawal, or a review day that has passed."""
    if any(in_force(r, day) for r in records):
        return None
    past = [r for r in records if r.given_on <= day]
    if not past:
        return NotInForce()
    standing = [r for r in past if r.withdrawn_on is None or r.withdrawn_on > day]
    # A record still standing but past review is the person's latest word; a renewal withdraws
    # the record it replaces, so only a withdrawal with nothing standing means they said no.
    if standing:
        return NotInForce(review_was_due=max(r.review_on for r in standing))
    return NotInForce(withdrawn_on=max(r.withdrawn_on for r in past if r.withdrawn_on))
