"""Opportunity rules: where an opportunity stands on a given day, and the standard pay wording
that a new one starts from."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

MAX_TITLE = 200
MAX_TEXT = 4000  # what the role involves, its easy-read version, and the support offered
MAX_SHORT = 500  # the time it takes, and what it pays

MODE_LABELS = {"in_person": "In person", "video": "By video call", "phone": "By phone"}
# The ways to take part, in easy-read words for the easy-read print.
MODE_EASY_READ = {
    "in_person": "You can come to a meeting room.",
    "video": "You can join on a video call.",
    "phone": "You can join on the phone.",
}


class Stage(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"  # past its closing date
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {
            "draft": "Draft",
            "open": "Open",
            "closed": "Closed",
            "withdrawn": "Withdrawn",
        }[self.value]


def stage(
    *,
    published: bool,
    withdrawn: bool,
    closes_on: dt.date | None,
    today: dt.date,
) -> Stage:
    """An opportunity is open from publishing through its closing day (a London date), until
    it is withdrawn. Withdrawing wins over closing, as it is what the lead last decided."""
    if withdrawn:
        return Stage.WITHDRAWN
    if not published:
        return Stage.DRAFT
    if closes_on is not None and closes_on < today:
        return Stage.CLOSED
    return Stage.OPEN


def pounds_words(pence: int) -> str:
    """`14000` → `£140`, `7050` → `£70.50`: how a fee is said in a sentence."""
    whole, rem = divmod(pence, 100)
    return f"£{whole:,}" if rem == 0 else f"£{whole:,}.{rem:02d}"


def standard_pay(day_pence: int, half_day_pence: int) -> str:
    """The organisation's fee in the words a new opportunity starts from."""
    return (
        f"{pounds_words(day_pence)} a day or {pounds_words(half_day_pence)} for half a day, "
        "plus travel and other expenses"
    )
