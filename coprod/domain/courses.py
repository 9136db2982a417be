"""Courses for representatives: the format someone takes a course in, chosen from their access
needs, and the courses an activity's kind asks for that someone has not done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

STANDARD = "standard"

# The formats a course can be offered in besides standard print, in the order a format is
# chosen for someone who needs several: the one that most changes what they can use first.
PREFERENCE = ("braille", "audio", "interpreter", "translated", "large_print", "easy_read")
FORMATS = PREFERENCE
NEEDS_LANGUAGE = ("translated", "interpreter")

LABELS = {
    STANDARD: "Standard print",
    "braille": "Braille",
    "audio": "Audio",
    "interpreter": "With an interpreter",
    "translated": "Translated",
    "large_print": "Large print",
    "easy_read": "Easy read",
}

MAX_NAME = 200
MAX_DESCRIPTION = 4000
MAX_LANGUAGE = 100
MAX_LANGUAGES = 20


def format_label(fmt: str, language: str | None = None) -> str:
    """ "Braille", "Translated (Polish)", "With an interpreter (Arabic)"."""
    label = LABELS.get(fmt, fmt.replace("_", " ").capitalize())
    return f"{label} ({language})" if language and fmt in NEEDS_LANGUAGE else label


@dataclass(frozen=True)
class Needs:
    """A person's access needs that a course's format can meet."""

    formats: Sequence[str]
    translated_language: str | None = None
    interpreter_language: str | None = None


@dataclass(frozen=True)
class Offer:
    """What a course is available in besides standard print."""

    formats: Sequence[str]
    languages: Sequence[str] = ()


@dataclass(frozen=True)
class Placement:
    format: str
    language: str | None
    # False when they need a format the course does not have: they are booked in it anyway,
    # and the course materials have to be made.
    available: bool

    @property
    def label(self) -> str:
        return format_label(self.format, self.language)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def offers(offer: Offer, fmt: str, language: str | None) -> bool:
    """Whether the course has this format (a translation only in the languages it lists)."""
    if fmt == STANDARD:
        return True
    if fmt not in offer.formats:
        return False
    if fmt == "translated":
        return any(_same(language, known) for known in offer.languages)
    return True


def _language(needs: Needs, fmt: str) -> str | None:
    if fmt == "translated":
        return needs.translated_language
    if fmt == "interpreter":
        return needs.interpreter_language
    return None


def choose_format(needs: Needs, offer: Offer) -> Placement:
    """The first format, in PREFERENCE order, that the person needs and the course has. When
    the course has none of those they need, the one they would most want, marked unavailable:
    nobody is turned away for a format."""
    wanted = [fmt for fmt in PREFERENCE if fmt in needs.formats]
    for fmt in wanted:
        if offers(offer, fmt, _language(needs, fmt)):
            return Placement(fmt, _language(needs, fmt), available=True)
    if wanted:
        return Placement(wanted[0], _language(needs, wanted[0]), available=False)
    return Placement(STANDARD, None, available=True)


MATERIALS = {
    "braille": "Course materials made in Braille",
    "audio": "Course materials recorded as audio",
    "interpreter": "Interpreter booked for the course",
    "translated": "Course materials translated",
    "large_print": "Course materials made in large print",
    "easy_read": "Course materials made in easy read",
}


def materials_label(fmt: str, language: str | None) -> str:
    """The access-arrangement task when a course is not yet available in someone's format."""
    label = MATERIALS.get(fmt, f"Course materials made in {format_label(fmt).lower()}")
    return f"{label} ({language})" if language and fmt in NEEDS_LANGUAGE else label


def materials_due(session_day: dt.date) -> dt.date:
    """Making Braille or a recording of a course takes longer than posting papers."""
    return session_day - dt.timedelta(days=14)


@dataclass(frozen=True)
class RequiredCourse:
    id: int
    name: str
    required_for: Sequence[str]


def missing_courses(kind: str, courses: Iterable[RequiredCourse], done: Iterable[int]) -> list[str]:
    """The names of courses this kind of activity asks for that someone has not done."""
    finished = set(done)
    return [c.name for c in courses if kind in c.required_for and c.id not in finished]


def missing_message(name: str, missing: Sequence[str]) -> str:
    courses = " or ".join(missing) if len(missing) < 3 else ", ".join(missing)
    return (
        f"{name} has not done {courses}, which this kind of activity asks for. "
        "You can still book them: talk with them about doing the course first"
    )


def unavailable_message(name: str, course: str, placement: Placement) -> str:
    return (
        f"{course} is not yet available in {placement.label.lower()}, which {name} needs. "
        f"They are booked on it anyway: the course materials need making in that format, and "
        f"this is on the access arrangements"
    )


@dataclass(frozen=True)
class UsualCourse:
    name: str
    description: str
    formats: tuple[str, ...]
    required_for: tuple[str, ...] = ()


USUAL = (
    UsualCourse(
        "Induction",
        "A welcome to being a representative: how involvement works here, what is paid, "
        "and who to ask.",
        ("braille", "audio", "large_print", "easy_read"),
    ),
    UsualCourse(
        "Confidence and assertiveness",
        "Speaking up in meetings and saying what you think, in your own way.",
        ("braille", "audio", "large_print", "easy_read"),
    ),
    UsualCourse(
        "Recruitment-panel training",
        "How staff interviews work, asking questions fairly, and scoring answers.",
        ("audio", "large_print", "easy_read"),
        ("interview_panel",),
    ),
)
