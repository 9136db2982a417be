"""Words that look like personal data, in text that will be shown in public (the "You said, we
did" board and its poster): no I/O.

A board on a ward wall must never say who someone is or how to reach them. We cannot catch
every way of naming a person, so this looks for what is easy to spot and costly to leak:
email addresses, phone numbers, NHS numbers and the full names of the organisation's
representatives. A champion who needs to mention a person writes "a carer" instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = "an email address"
PHONE = "a phone number"
NHS_NUMBER = "an NHS number"
NAME = "a representative's name"

_EMAIL_RE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# A run of digits with single spaces, dashes or dots between them ("07700 900 982",
# "943-476-5919"), optionally after "+" (an international phone number).
_DIGITS_RE = re.compile(r"\+?\d(?:[ \-.]?\d)*")
_SPACES_RE = re.compile(r"\s+")
_PUNCTUATION_RE = re.compile(r"[^\w\s]")


def _number_kind(run: str) -> str | None:
    digits = re.sub(r"\D", "", run)
    if run.startswith("+") and len(digits) >= 10:
        return PHONE
    if digits.startswith("44") and len(digits) in (11, 12):
        return PHONE
    if digits.startswith("0") and len(digits) in (10, 11):
        return PHONE
    if len(digits) == 10:
        return NHS_NUMBER
    return None


def _words(text: str) -> str:
    """Lower-case words with single spaces between, punctuation gone."""
    return _SPACES_RE.sub(" ", _PUNCTUATION_RE.sub(" ", text)).strip().casefold()


def personal_data_in(text: str, names: Iterable[str] = ()) -> list[str]:
    """What in `text` looks like personal data, each kind once in a fixed order: empty when
    nothing does. `names` are people's full names, matched as whole words whatever the case or
    spacing."""
    found: set[str] = set()
    if _EMAIL_RE.search(text):
        found.add(EMAIL)
    for run in _DIGITS_RE.findall(_EMAIL_RE.sub(" ", text)):
        if (kind := _number_kind(run)) is not None:
            found.add(kind)
    plain = " " + _words(text) + " "
    for name in names:
        words = _words(name)
        # A one-word name ("Sam") is too common a word to refuse on its own.
        if " " in words and f" {words} " in plain:
            found.add(NAME)
            break
    return [kind for kind in (EMAIL, PHONE, NHS_NUMBER, NAME) if kind in found]


def refusal(kinds: list[str]) -> str:
    """The message for text holding these kinds of personal data."""
    listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    return (
        f"Take out {listed}. This is shown in public, so it must not say who anyone is or how "
        "to reach them"
    )
