"""Choosing the format someone takes a course in, and the courses an activity asks for, as
tables."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod.domain.courses import (
    USUAL,
    Needs,
    Offer,
    Placement,
    RequiredCourse,
    choose_format,
    format_label,
    materials_due,
    materials_label,
    missing_courses,
    offers,
)

ALL = ("braille", "audio", "interpreter", "translated", "large_print", "easy_read")


@pytest.mark.parametrize(
    ("needs", "offer", "expected"),
    [
        # Nothing needed: standard print.
        (Needs(()), Offer(ALL, ("Polish",)), Placement("standard", None, True)),
        # Braille comes first when someone needs several formats the course has.
        (Needs(("large_print", "braille")), Offer(ALL), Placement("braille", None, True)),
        (Needs(("easy_read", "audio")), Offer(ALL), Placement("audio", None, True)),
        # The course lacks Braille: the next format they need that it has.
        (
            Needs(("braille", "large_print")),
            Offer(("large_print",)),
            Placement("large_print", None, True),
        ),
        # An interpreter, in their language, before translated papers.
        (
            Needs(("translated", "interpreter"), "Polish", "Arabic"),
            Offer(ALL, ("Polish",)),
            Placement("interpreter", "Arabic", True),
        ),
        # Translated only into a language the course has (whatever its case).
        (
            Needs(("translated",), "polish"),
            Offer(("translated",), ("Polish",)),
            Placement("translated", "polish", True),
        ),
        (
            Needs(("translated", "easy_read"), "Urdu"),
            Offer(("translated", "easy_read"), ("Polish",)),
            Placement("easy_read", None, True),
        ),
        # Nothing they need is available: the one they most need, marked unavailable.
        (Needs(("braille",)), Offer(("audio",)), Placement("braille", None, False)),
        (
            Needs(("translated",), "Urdu"),
            Offer(("translated",), ("Polish",)),
            Placement("translated", "Urdu", False),
        ),
        (Needs(("easy_read", "large_print")), Offer(()), Placement("large_print", None, False)),
        # BSL is arranged as an interpreter for every booking, not as a course format.
        (Needs(("bsl",)), Offer(()), Placement("standard", None, True)),
    ],
)
def test_choosing_the_format(needs: Needs, offer: Offer, expected: Placement) -> None:
    assert choose_format(needs, offer) == expected


@pytest.mark.parametrize(
    ("fmt", "language", "expected"),
    [
        ("standard", None, True),
        ("braille", None, True),
        ("audio", None, False),
        ("translated", "Polish", True),
        ("translated", "Urdu", False),
        ("translated", None, False),
    ],
)
def test_what_a_course_offers(fmt: str, language: str | None, expected: bool) -> None:
    assert offers(Offer(("braille", "translated"), ("Polish",)), fmt, language) is expected


@pytest.mark.parametrize(
    ("fmt", "language", "label", "task"),
    [
        ("braille", None, "Braille", "Course materials made in Braille"),
        ("translated", "Polish", "Translated (Polish)", "Course materials translated (Polish)"),
        (
            "interpreter",
            "Arabic",
            "With an interpreter (Arabic)",
            "Interpreter booked for the course (Arabic)",
        ),
        ("large_print", "ignored", "Large print", "Course materials made in large print"),
        ("standard", None, "Standard print", "Course materials made in standard print"),
    ],
)
def test_labels(fmt: str, language: str | None, label: str, task: str) -> None:
    assert format_label(fmt, language) == label
    assert materials_label(fmt, language) == task


def test_materials_are_due_two_weeks_before_the_session() -> None:
    assert materials_due(dt.date(2027, 3, 15)) == dt.date(2027, 3, 1)


PANEL = RequiredCourse(1, "Recruitment-panel training", ("interview_panel",))
SAFE = RequiredCourse(2, "Safeguarding", ("interview_panel", "peer_review"))
INDUCTION = RequiredCourse(3, "Induction", ())


@pytest.mark.parametrize(
    ("kind", "done", "expected"),
    [
        ("interview_panel", set(), ["Recruitment-panel training", "Safeguarding"]),
        ("interview_panel", {1}, ["Safeguarding"]),
        ("interview_panel", {1, 2}, []),
        ("peer_review", {1}, ["Safeguarding"]),
        ("meeting", set(), []),
    ],
)
def test_courses_an_activity_asks_for(kind: str, done: set[int], expected: list[str]) -> None:
    assert missing_courses(kind, [PANEL, SAFE, INDUCTION], done) == expected


def test_the_usual_courses() -> None:
    names = [u.name for u in USUAL]
    assert names == ["Induction", "Confidence and assertiveness", "Recruitment-panel training"]
    assert [u.required_for for u in USUAL if u.required_for] == [("interview_panel",)]
    assert {"braille", "audio"} <= set(USUAL[1].formats)
