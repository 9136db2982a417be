"""The scheduling rules as pure functions: the six-week rule, time overlaps, booking refusals,
poll totals, access checklists, reminders and the London day of a stored time."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from coprod.domain.scheduling import (
    BookingFacts,
    ChecklistItem,
    Refusal,
    Tally,
    access_checklist,
    best_option,
    booking_mode,
    booking_refusals,
    finalise_refusal,
    london_date,
    needs_wellbeing_check,
    reminder_due,
    tally,
    times_overlap,
)

UTC = dt.UTC
D = dt.date


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """These rules touch no database, so skip the harness's emptying of tables after each
    test (a TRUNCATE per test on PostgreSQL, which would cost more than the tests do)."""


def at(hour: int, minute: int = 0, day: int = 10) -> dt.datetime:
    return dt.datetime(2027, 5, day, hour, minute, tzinfo=UTC)


# --------------------------------------------------------------------------- the six-week rule

STARTED = D(2027, 1, 10)
ENDED = D(2027, 1, 20)


@pytest.mark.parametrize(
    ("activity_day", "flagged"),
    [
        pytest.param(STARTED - dt.timedelta(days=1), False, id="the day before it started"),
        pytest.param(STARTED - dt.timedelta(days=400), False, id="long before it started"),
        pytest.param(STARTED, True, id="on the day it started"),
        pytest.param(D(2027, 1, 15), True, id="during it"),
        pytest.param(ENDED, True, id="on the day it ended"),
        pytest.param(ENDED + dt.timedelta(days=1), True, id="the day after it ended"),
        pytest.param(ENDED + dt.timedelta(days=41), True, id="day 41 after"),
        pytest.param(ENDED + dt.timedelta(days=42), True, id="day 42 after"),
        pytest.param(ENDED + dt.timedelta(days=43), False, id="day 43 after"),
        pytest.param(ENDED + dt.timedelta(days=365), False, id="a year after"),
    ],
)
def test_six_week_rule_boundaries(activity_day: dt.date, flagged: bool) -> None:
    assert needs_wellbeing_check(activity_day, [(STARTED, ENDED)]) is flagged


def test_day_42_is_the_3rd_of_march_for_an_episode_ending_on_20_january() -> None:
    # Written out, so the table above is not only checked against its own arithmetic.
    assert needs_wellbeing_check(D(2027, 3, 3), [(STARTED, ENDED)])
    assert not needs_wellbeing_check(D(2027, 3, 4), [(STARTED, ENDED)])


@pytest.mark.parametrize(
    ("activity_day", "flagged"),
    [
        pytest.param(STARTED - dt.timedelta(days=1), False, id="before it started"),
        pytest.param(STARTED, True, id="on the day it started"),
        pytest.param(STARTED + dt.timedelta(days=43), True, id="day 43 after it started"),
        pytest.param(STARTED + dt.timedelta(days=3650), True, id="ten years later"),
    ],
)
def test_an_ongoing_episode_flags_every_later_day(activity_day: dt.date, flagged: bool) -> None:
    assert needs_wellbeing_check(activity_day, [(STARTED, None)]) is flagged


@pytest.mark.parametrize(
    ("episodes", "flagged"),
    [
        pytest.param([], False, id="no episodes"),
        pytest.param(
            [(D(2026, 1, 1), D(2026, 1, 31)), (D(2027, 4, 1), D(2027, 4, 20))],
            True,
            id="an old one and a recent one",
        ),
        pytest.param(
            [(D(2027, 4, 1), D(2027, 4, 20)), (D(2026, 1, 1), D(2026, 1, 31))],
            True,
            id="the recent one listed first",
        ),
        pytest.param(
            [(D(2026, 1, 1), D(2026, 1, 31)), (D(2027, 3, 1), D(2027, 3, 28))],
            False,
            id="both ended more than six weeks before (day 42 was 9 May)",
        ),
        pytest.param(
            [(D(2026, 1, 1), D(2026, 1, 31)), (D(2027, 6, 1), None)],
            False,
            id="an ongoing one that starts after the activity",
        ),
        pytest.param(
            [(D(2026, 1, 1), D(2026, 1, 31)), (D(2027, 5, 1), None)],
            True,
            id="an ongoing one that started before",
        ),
    ],
)
def test_several_episodes(episodes: list[tuple[dt.date, dt.date | None]], flagged: bool) -> None:
    assert needs_wellbeing_check(D(2027, 5, 10), episodes) is flagged


def test_the_window_is_a_setting() -> None:
    assert needs_wellbeing_check(ENDED + dt.timedelta(days=28), [(STARTED, ENDED)], 28)
    assert not needs_wellbeing_check(ENDED + dt.timedelta(days=29), [(STARTED, ENDED)], 28)


# --------------------------------------------------------------------------- overlaps


# Also run through a booking, on the database (tests/test_bookings.py), which counts clashes
# by this rule in SQL.
OVERLAPS = [
    pytest.param((at(10), at(12)), (at(12), at(13)), False, id="b starts as a ends"),
    pytest.param((at(12), at(13)), (at(10), at(12)), False, id="a starts as b ends"),
    pytest.param((at(10), at(12)), (at(11), at(13)), True, id="partly overlapping"),
    pytest.param((at(11), at(13)), (at(10), at(12)), True, id="partly, the other way"),
    pytest.param((at(10), at(12)), (at(10, 30), at(11)), True, id="b inside a"),
    pytest.param((at(10, 30), at(11)), (at(10), at(12)), True, id="a inside b"),
    pytest.param((at(10), at(12)), (at(10), at(12)), True, id="identical"),
    pytest.param((at(10), at(11)), (at(14), at(15)), False, id="disjoint"),
    pytest.param((at(10), at(12)), (at(10), at(12, day=11)), True, id="same day, next day"),
    pytest.param((at(10), at(11)), (at(10, day=11), at(11, day=11)), False, id="next day"),
    pytest.param((at(11, 59), at(12)), (at(10), at(12)), True, id="last minute"),
]


@pytest.mark.parametrize(("a", "b", "clash"), OVERLAPS)
def test_times_overlap(
    a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime], clash: bool
) -> None:
    assert times_overlap(*a, *b) is clash


def test_overlap_compares_instants_not_wall_clocks() -> None:
    london = dt.timezone(dt.timedelta(hours=1))  # BST
    # 10:00-11:00 BST is 09:00-10:00 UTC, which ends as 10:00 UTC starts.
    bst = (dt.datetime(2027, 5, 10, 10, tzinfo=london), dt.datetime(2027, 5, 10, 11, tzinfo=london))
    assert not times_overlap(*bst, at(10), at(11))
    assert times_overlap(*bst, at(9, 30), at(11))


# --------------------------------------------------------------------------- booking refusals

NOW = dt.datetime(2027, 5, 1, 9, 0, tzinfo=UTC)
DAY = D(2027, 5, 10)


def facts(**changes: Any) -> BookingFacts:
    """A booking that may go ahead; each test breaks one rule or more."""
    base = BookingFacts(
        day=DAY,
        starts_at=dt.datetime(2027, 5, 10, 9, 0, tzinfo=UTC),
        now=NOW,
        contract_days=[(D(2026, 4, 1), D(2029, 3, 31))],
        break_until=None,
        clashes=0,
        taken=3,
        capacity=8,
        mode="video",
        modes_offered=frozenset({"video", "phone"}),
        respect_needed=False,
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("changes", "refusals"),
    [
        pytest.param({}, [], id="all fine"),
        pytest.param({"contract_days": []}, [Refusal.NO_CONTRACT], id="no contract at all"),
        pytest.param(
            {"contract_days": [(D(2025, 5, 10), D(2027, 5, 9))]},
            [Refusal.NO_CONTRACT],
            id="contract ended the day before",
        ),
        pytest.param(
            {"contract_days": [(D(2027, 5, 11), D(2030, 5, 10))]},
            [Refusal.NO_CONTRACT],
            id="contract starts the day after",
        ),
        pytest.param(
            {"contract_days": [(D(2024, 1, 1), D(2027, 5, 1)), (D(2027, 6, 1), D(2030, 5, 31))]},
            [Refusal.NO_CONTRACT],
            id="in the gap between two contracts",
        ),
        pytest.param(
            {"contract_days": [(D(2024, 1, 1), D(2027, 5, 1)), (DAY, DAY)]},
            [],
            id="a contract of that one day",
        ),
        pytest.param({"break_until": DAY}, [Refusal.ON_BREAK], id="break ends that day"),
        pytest.param({"break_until": D(2027, 12, 31)}, [Refusal.ON_BREAK], id="break ends later"),
        pytest.param({"break_until": D(2027, 5, 9)}, [], id="break ended the day before"),
        pytest.param({"clashes": 1}, [Refusal.OVERLAP], id="one clash"),
        pytest.param({"clashes": 2}, [Refusal.OVERLAP], id="two clashes, said once"),
        pytest.param({"taken": 8}, [Refusal.FULL], id="at capacity"),
        pytest.param({"taken": 9}, [Refusal.FULL], id="over capacity"),
        pytest.param({"taken": 7}, [], id="one place left"),
        pytest.param({"mode": "in_person"}, [Refusal.MODE_NOT_OFFERED], id="mode not offered"),
        pytest.param({"respect_needed": True}, [Refusal.RESPECT_AGREEMENT], id="respect"),
        pytest.param({"starts_at": NOW}, [Refusal.PAST], id="starting right now counts as started"),
        pytest.param(
            {"starts_at": NOW - dt.timedelta(minutes=1)}, [Refusal.PAST], id="already started"
        ),
        pytest.param({"starts_at": NOW + dt.timedelta(seconds=1)}, [], id="about to start"),
        pytest.param({"starts_at": None}, [Refusal.NOT_SCHEDULED], id="no date and time yet"),
        pytest.param(
            {
                "contract_days": [],
                "break_until": DAY,
                "clashes": 1,
                "taken": 8,
                "mode": "in_person",
                "respect_needed": True,
            },
            [
                Refusal.NO_CONTRACT,
                Refusal.ON_BREAK,
                Refusal.OVERLAP,
                Refusal.FULL,
                Refusal.MODE_NOT_OFFERED,
                Refusal.RESPECT_AGREEMENT,
            ],
            id="every rule at once, each named",
        ),
        pytest.param(
            {"taken": 8, "respect_needed": True},
            [Refusal.FULL, Refusal.RESPECT_AGREEMENT],
            id="two together",
        ),
        pytest.param(
            {"starts_at": None, "contract_days": [], "taken": 8},
            [Refusal.NOT_SCHEDULED],
            id="not scheduled says only that",
        ),
        pytest.param(
            {"starts_at": NOW - dt.timedelta(days=1), "clashes": 1},
            [Refusal.PAST, Refusal.OVERLAP],
            id="past and overlapping",
        ),
    ],
)
def test_booking_refusals(changes: dict[str, Any], refusals: list[Refusal]) -> None:
    assert booking_refusals(facts(**changes)) == refusals


def test_refusals_read_as_sentences_for_people() -> None:
    for refusal in Refusal:
        assert refusal.value[0].isupper() and not refusal.value.endswith(".")


# --------------------------------------------------------------------------- polls


def test_tally_counts_each_answer_per_option() -> None:
    totals = tally([(1, "yes"), (1, "yes"), (1, "no"), (2, "if_need_be"), (2, "yes"), (3, "no")])
    assert totals == {
        1: Tally(yes=2, if_need_be=0, no=1),
        2: Tally(yes=1, if_need_be=1, no=0),
        3: Tally(yes=0, if_need_be=0, no=1),
    }
    assert totals[1].can_come == 2
    assert totals[2].can_come == 2
    assert totals[3].can_come == 0
    assert tally([]) == {}


@pytest.mark.parametrize(
    ("answers", "options", "best"),
    [
        pytest.param([], [], None, id="no options"),
        pytest.param([], [5, 6], None, id="no answers: no best yet"),
        pytest.param([(5, "yes"), (6, "yes"), (6, "if_need_be")], [5, 6], 6, id="most can come"),
        pytest.param(
            [(5, "yes"), (5, "if_need_be"), (6, "yes"), (6, "yes")],
            [5, 6],
            6,
            id="tie on can come: more yes wins",
        ),
        pytest.param(
            [(5, "if_need_be"), (5, "if_need_be"), (5, "if_need_be"), (6, "yes"), (6, "yes")],
            [5, 6],
            5,
            id="can come beats yes",
        ),
        pytest.param(
            [(5, "yes"), (5, "no"), (6, "yes"), (7, "yes")],
            [5, 6, 7],
            5,
            id="full tie: the earliest",
        ),
        pytest.param(
            [(5, "no"), (6, "yes"), (7, "yes")], [5, 6, 7], 6, id="tie after a worse first"
        ),
        pytest.param(
            [(5, "no"), (6, "no"), (6, "no")], [5, 6], 5, id="no answers count for nothing"
        ),
        pytest.param([(9, "yes")], [5, 6], None, id="answers to other options are ignored"),
        pytest.param([(6, "no")], [5, 6], 5, id="one answer, even no, makes a best"),
    ],
)
def test_best_option(answers: list[tuple[int, str]], options: list[int], best: int | None) -> None:
    assert best_option(tally(answers), options) == best


@pytest.mark.parametrize(
    ("answer", "picked", "refusal"),
    [
        pytest.param("yes", None, None, id="yes, no pick: booked"),
        pytest.param("if_need_be", None, None, id="if need be, no pick: booked"),
        pytest.param("no", None, Refusal.ANSWERED_NO, id="no, no pick"),
        pytest.param(None, None, Refusal.NOT_ANSWERED, id="no answer, no pick"),
        pytest.param("no", True, Refusal.ANSWERED_NO, id="no, picked anyway: still not booked"),
        pytest.param(None, True, None, id="no answer, picked: booked"),
        pytest.param(None, False, Refusal.NOT_ANSWERED, id="no answer, left out"),
        pytest.param("yes", False, Refusal.NOT_PICKED, id="yes, left out"),
        pytest.param("if_need_be", True, None, id="if need be, picked"),
    ],
)
def test_who_is_booked_when_the_time_is_chosen(
    answer: str | None, picked: bool | None, refusal: Refusal | None
) -> None:
    assert finalise_refusal(answer, picked) == refusal


@pytest.mark.parametrize(
    ("chosen", "preferred", "offered", "mode"),
    [
        pytest.param("video", ["phone"], {"video", "phone"}, "video", id="their choice"),
        pytest.param("video", [], {"phone", "in_person"}, "phone", id="choice not offered"),
        pytest.param(None, ["in_person"], {"in_person", "phone"}, "in_person", id="preferred"),
        pytest.param(None, ["video"], {"in_person", "phone"}, "phone", id="then phone"),
        pytest.param(None, [], {"video", "in_person"}, "in_person", id="then the first"),
    ],
)
def test_the_way_someone_joins(
    chosen: str | None, preferred: list[str], offered: set[str], mode: str
) -> None:
    assert booking_mode(chosen, preferred, frozenset(offered)) == mode


# --------------------------------------------------------------------------- access checklists

ACTIVITY_DAY = D(2027, 3, 26)


def checklist(**changes: Any) -> list[ChecklistItem]:
    args: dict[str, Any] = {
        "activity_day": ACTIVITY_DAY,
        "mode": "in_person",
        "formats": [],
        "translated_language": None,
        "interpreter_language": None,
        "needs_transport": False,
        "wants_tech_test": False,
    }
    args.update(changes)
    return access_checklist(**args)


def test_braille_papers_are_posted_a_week_before() -> None:
    assert checklist(formats=["braille"]) == [
        ChecklistItem("braille", "Braille papers posted", D(2027, 3, 19))
    ]


def test_interpreter_names_the_language() -> None:
    [item] = checklist(formats=["interpreter"], interpreter_language="Polish")
    assert item == ChecklistItem("interpreter", "Interpreter booked (Polish)", D(2027, 3, 19))
    [item] = checklist(formats=["interpreter"])
    assert item.label == "Interpreter booked"


def test_translated_papers_name_the_language() -> None:
    [item] = checklist(formats=["translated"], translated_language="Urdu")
    assert item == ChecklistItem("translated", "Papers translated (Urdu)", D(2027, 3, 19))


@pytest.mark.parametrize(
    ("mode", "kinds"),
    [
        pytest.param("in_person", ["transport"], id="in person: transport"),
        pytest.param("video", ["tech_test"], id="video: tech test"),
        pytest.param("phone", [], id="phone: neither"),
    ],
)
def test_transport_only_in_person_and_tech_test_only_on_video(mode: str, kinds: list[str]) -> None:
    items = checklist(mode=mode, needs_transport=True, wants_tech_test=True)
    assert [i.kind for i in items] == kinds
    due = {i.kind: i.due_on for i in items}
    if "transport" in due:
        assert due["transport"] == D(2027, 3, 23)
    if "tech_test" in due:
        assert due["tech_test"] == D(2027, 3, 24)


def test_nothing_needed_means_no_items() -> None:
    assert checklist() == []
    assert checklist(mode="video", needs_transport=True) == []
    assert checklist(mode="in_person", wants_tech_test=True) == []


def test_several_needs_together() -> None:
    items = checklist(
        formats=["braille", "interpreter", "bsl", "easy_read"],
        interpreter_language="Polish",
        needs_transport=True,
    )
    assert {(i.kind, i.label, i.due_on) for i in items} == {
        ("braille", "Braille papers posted", D(2027, 3, 19)),
        ("easy_read", "Easy read papers sent", D(2027, 3, 19)),
        ("interpreter", "Interpreter booked (Polish)", D(2027, 3, 19)),
        ("bsl", "BSL interpreter booked", D(2027, 3, 19)),
        ("transport", "Transport or pick-up arranged", D(2027, 3, 23)),
    }
    assert len({i.kind for i in items}) == len(items)


# --------------------------------------------------------------------------- reminders

STARTS = dt.datetime(2027, 5, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        pytest.param(STARTS - dt.timedelta(hours=48, seconds=1), False, id="just too early"),
        pytest.param(STARTS - dt.timedelta(hours=48), True, id="exactly 48 hours before"),
        pytest.param(STARTS - dt.timedelta(hours=24), True, id="24 hours before"),
        pytest.param(STARTS - dt.timedelta(seconds=1), True, id="a second before"),
        pytest.param(STARTS, False, id="as it starts"),
        pytest.param(STARTS + dt.timedelta(hours=1), False, id="after it started"),
    ],
)
def test_reminder_due(now: dt.datetime, due: bool) -> None:
    assert reminder_due(STARTS, now, 48) is due


# --------------------------------------------------------------------------- the London day


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        pytest.param(dt.datetime(2027, 6, 30, 23, 30, tzinfo=UTC), D(2027, 7, 1), id="BST late"),
        pytest.param(dt.datetime(2027, 6, 30, 22, 59, tzinfo=UTC), D(2027, 6, 30), id="BST 23:59"),
        pytest.param(dt.datetime(2027, 6, 30, 23, 0, tzinfo=UTC), D(2027, 7, 1), id="BST midnight"),
        pytest.param(dt.datetime(2027, 12, 31, 23, 30, tzinfo=UTC), D(2027, 12, 31), id="GMT"),
        pytest.param(dt.datetime(2028, 1, 1, 0, 0, tzinfo=UTC), D(2028, 1, 1), id="GMT midnight"),
        # The clocks go forward at 01:00 UTC on 28 March 2027 and back at 01:00 UTC on 31 Oct.
        pytest.param(dt.datetime(2027, 3, 27, 23, 30, tzinfo=UTC), D(2027, 3, 27), id="eve, GMT"),
        pytest.param(dt.datetime(2027, 3, 28, 23, 30, tzinfo=UTC), D(2027, 3, 29), id="after, BST"),
        pytest.param(dt.datetime(2027, 10, 30, 23, 30, tzinfo=UTC), D(2027, 10, 31), id="eve, BST"),
        pytest.param(dt.datetime(2027, 10, 31, 23, 30, tzinfo=UTC), D(2027, 10, 31), id="after"),
        pytest.param(
            dt.datetime(2027, 7, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            D(2027, 6, 30),
            id="from another offset",
        ),
    ],
)
def test_london_date(moment: dt.datetime, day: dt.date) -> None:
    assert london_date(moment) == day
