"""Scheduling rules: time overlaps, the six-week recovery rule, booking rules, poll totals,
access arrangements and reminders. Pure functions over plain values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london_date(moment: dt.datetime) -> dt.date:
    """The calendar day in England of a stored (UTC) time: the day a booking belongs to."""
    return moment.astimezone(LONDON).date()


def london_midnight(day: dt.date) -> dt.datetime:
    """The moment (in UTC) a Europe/London calendar day begins: days are London's, rows UTC."""
    return dt.datetime.combine(day, dt.time(), LONDON).astimezone(dt.UTC)


def times_overlap(
    a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime
) -> bool:
    """Half-open intervals: a meeting ending at 11:00 and one starting at 11:00 do not clash."""
    return a_start < b_end and b_start < a_end


def needs_wellbeing_check(
    activity_day: dt.date,
    episodes: Iterable[tuple[dt.date, dt.date | None]],
    window_days: int = 42,
) -> bool:
    """During an episode, or within `window_days` after one ends (day 42 flagged, day 43 not)."""
    for started_on, ended_on in episodes:
        if activity_day < started_on:
            continue
        if ended_on is None or activity_day <= ended_on + dt.timedelta(days=window_days):
            return True
    return False


class Refusal(StrEnum):
    """Why a booking cannot go ahead, in the words a lead or representative will read."""

    NO_CONTRACT = "They do not have a contract that covers the date of this activity"
    ON_BREAK = "They are taking a break on the date of this activity"
    OVERLAP = "They already have a confirmed booking at this time"
    FULL = "This activity is full"
    MODE_NOT_OFFERED = "This activity is not offered in the way chosen"
    RESPECT_AGREEMENT = "They need to agree to the project's respect agreement first"
    NOT_SCHEDULED = "This activity does not have a date and time yet"
    PAST = "This activity has already started"
    ANSWERED_NO = "They answered no to this time"
    NOT_ANSWERED = "They did not answer for this time and were not picked"
    NOT_PICKED = "They were not picked"


# The rules a booking already made can come to break when its activity moves or its holder's
# contract ends early: the lead decides for each person rather than anyone being moved silently.
CHANGE_RULES = (Refusal.NO_CONTRACT, Refusal.ON_BREAK, Refusal.OVERLAP)


@dataclass(frozen=True)
class BookingFacts:
    day: dt.date
    starts_at: dt.datetime | None
    now: dt.datetime
    contract_days: Sequence[tuple[dt.date, dt.date]]  # (first day, last day) of each contract
    break_until: dt.date | None
    clashes: int  # their confirmed bookings overlapping this one
    taken: int  # places already taken on the activity
    capacity: int
    mode: str
    modes_offered: frozenset[str]
    respect_needed: bool


def booking_refusals(facts: BookingFacts) -> list[Refusal]:
    """Every rule a booking breaks; empty when it may go ahead."""
    problems: list[Refusal] = []
    if facts.starts_at is None:
        return [Refusal.NOT_SCHEDULED]
    if facts.starts_at <= facts.now:
        problems.append(Refusal.PAST)
    if not any(first <= facts.day <= last for first, last in facts.contract_days):
        problems.append(Refusal.NO_CONTRACT)
    if facts.break_until is not None and facts.day <= facts.break_until:
        problems.append(Refusal.ON_BREAK)
    if facts.clashes:
        problems.append(Refusal.OVERLAP)
    if facts.taken >= facts.capacity:
        problems.append(Refusal.FULL)
    if facts.mode not in facts.modes_offered:
        problems.append(Refusal.MODE_NOT_OFFERED)
    if facts.respect_needed:
        problems.append(Refusal.RESPECT_AGREEMENT)
    return problems


class Answer(StrEnum):
    YES = "yes"
    IF_NEED_BE = "if_need_be"
    NO = "no"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "if_need_be": "If need be", "no": "No"}[self.value]


@dataclass(frozen=True)
class Tally:
    yes: int = 0
    if_need_be: int = 0
    no: int = 0

    @property
    def can_come(self) -> int:
        return self.yes + self.if_need_be


def tally(answers: Iterable[tuple[int, str]]) -> dict[int, Tally]:
    """Totals per option from (option id, answer) pairs."""
    counts: dict[int, dict[str, int]] = {}
    for option_id, answer in answers:
        counts.setdefault(option_id, {a.value: 0 for a in Answer})[answer] += 1
    return {option_id: Tally(**c) for option_id, c in counts.items()}


def best_option(totals: dict[int, Tally], option_ids: Sequence[int]) -> int | None:
    """Most people able to come; then most who would rather; then the earliest offered.
    None until someone has answered for one of these options: no answers make no best."""
    if not any(oid in totals for oid in option_ids):
        return None
    return max(
        option_ids,
        key=lambda oid: (
            totals.get(oid, Tally()).can_come,
            totals.get(oid, Tally()).yes,
            -option_ids.index(oid),
        ),
    )


def finalise_refusal(answer: str | None, picked: bool | None) -> Refusal | None:
    """Whether someone invited is booked when the lead chooses a time. Never if they answered
    no to it, whatever was picked; otherwise as the lead picked (`picked` None when the lead
    made no pick): by default only those who answered yes or if need be."""
    if answer == Answer.NO:
        return Refusal.ANSWERED_NO
    if picked is None:
        picked = answer in (Answer.YES, Answer.IF_NEED_BE)
    if picked:
        return None
    return Refusal.NOT_ANSWERED if answer is None else Refusal.NOT_PICKED


def booking_mode(chosen: str | None, preferred: Sequence[str], offered: frozenset[str]) -> str:
    """The way someone joins: the one they chose if offered; else their preferred way if
    offered; else phone (which suits most people); else the first offered."""
    if chosen in offered:
        assert chosen is not None
        return chosen
    for mode in (*preferred, "phone"):
        if mode in offered:
            return mode
    return sorted(offered)[0]


@dataclass(frozen=True)
class ChecklistItem:
    kind: str
    label: str
    due_on: dt.date


def access_checklist(
    *,
    activity_day: dt.date,
    mode: str,
    formats: Iterable[str],
    translated_language: str | None,
    interpreter_language: str | None,
    needs_transport: bool,
    wants_tech_test: bool,
) -> list[ChecklistItem]:
    """What the lead must arrange for this person to take part, and by when."""
    week_before = activity_day - dt.timedelta(days=7)
    items: list[ChecklistItem] = []
    papers = {
        "braille": "Braille papers posted",
        "audio": "Audio version of the papers sent",
        "easy_read": "Easy read papers sent",
        "large_print": "Large print papers sent",
    }
    chosen = list(formats)
    for fmt, label in papers.items():
        if fmt in chosen:
            items.append(ChecklistItem(fmt, label, week_before))
    if "translated" in chosen:
        language = f" ({translated_language})" if translated_language else ""
        items.append(ChecklistItem("translated", f"Papers translated{language}", week_before))
    if "interpreter" in chosen:
        language = f" ({interpreter_language})" if interpreter_language else ""
        items.append(ChecklistItem("interpreter", f"Interpreter booked{language}", week_before))
    if "bsl" in chosen:
        items.append(ChecklistItem("bsl", "BSL interpreter booked", week_before))
    if needs_transport and mode == "in_person":
        items.append(
            ChecklistItem(
                "transport", "Transport or pick-up arranged", activity_day - dt.timedelta(days=3)
            )
        )
    if wants_tech_test and mode == "video":
        items.append(
            ChecklistItem("tech_test", "Tech test done", activity_day - dt.timedelta(days=2))
        )
    return items


def reminder_due(starts_at: dt.datetime, now: dt.datetime, hours_before: int) -> bool:
    return starts_at - dt.timedelta(hours=hours_before) <= now < starts_at
