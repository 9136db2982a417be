"""Reading a texted answer to a poll invitation, as a pure function with a table of cases."""

from __future__ import annotations

import pytest

from coprod.domain.scheduling import Answer
from coprod.domain.text_replies import read_reply

Y, N, M = Answer.YES, Answer.NO, Answer.IF_NEED_BE


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """A pure rule: no tables to empty after each case."""


@pytest.mark.parametrize(
    ("message", "listed", "answers"),
    [
        pytest.param("1 yes 2 no", 2, {1: Y, 2: N}, id="the example the text gives"),
        pytest.param("1y 2n", 2, {1: Y, 2: N}, id="run together"),
        pytest.param("1 yes, 2 maybe", 2, {1: Y, 2: M}, id="commas, and maybe"),
        pytest.param("1 Yes. 2 No", 2, {1: Y, 2: N}, id="capitals and full stops"),
        pytest.param("1: YES; 2: no!", 2, {1: Y, 2: N}, id="colons and shouting"),
        pytest.param("2 no 1 yes", 2, {1: Y, 2: N}, id="in any order"),
        pytest.param("1 if need be 2 yes", 2, {1: M, 2: Y}, id="if need be in words"),
        pytest.param("1 and 3 yes 2 no", 3, {1: Y, 2: N, 3: Y}, id="two numbers, one answer"),
        pytest.param("1 2 yes 3 n", 3, {1: Y, 2: Y, 3: N}, id="a run of numbers"),
        pytest.param("1 yes 1 yes 2 no", 2, {1: Y, 2: N}, id="the same answer twice"),
        pytest.param("yes", 1, {1: Y}, id="yes alone when one time was listed"),
        pytest.param(" No thanks ", 1, {1: N}, id="no thanks when one time was listed"),
        pytest.param("all yes", 3, {1: Y, 2: Y, 3: Y}, id="all yes"),
        pytest.param("Yes to all x", 2, {1: Y, 2: Y}, id="yes to all, with a kiss"),
        pytest.param("no all", 2, {1: N, 2: N}, id="no all"),
        pytest.param("1 yes and 2 no thank you", 2, {1: Y, 2: N}, id="pleasantries"),
    ],
)
def test_replies_that_are_understood(message: str, listed: int, answers: dict) -> None:
    reading = read_reply(message, listed)
    assert reading.clear, reading.problem
    assert reading.answers == answers


@pytest.mark.parametrize(
    ("message", "listed", "problem"),
    [
        pytest.param("", 2, "The reply had no answer in it", id="empty"),
        pytest.param(" .. ", 2, "The reply had no answer in it", id="only punctuation"),
        pytest.param(
            "yes",
            2,
            "The reply did not say which times its answer was for",
            id="yes alone, two listed",
        ),
        pytest.param(
            "1 yes 3 no",
            2,
            "The reply answered 3, but the text listed 1 to 2",
            id="a number not listed",
        ),
        pytest.param(
            "0 yes 1 yes 2 no", 2, "The reply answered 0, but the text listed 1 to 2", id="nought"
        ),
        pytest.param(
            "1 yes 99999999999999999999 no",
            2,
            "The reply answered 99999999999999999999, but the text listed 1 to 2",
            id="a huge number",
        ),
        pytest.param(
            "1 yes 1 no 2 no", 2, "The reply gave 1 two different answers", id="two answers for one"
        ),
        pytest.param("1 yes", 3, "The reply said nothing about 2 and 3", id="times left out"),
        pytest.param("1 yes 2", 2, "The reply gave no answer for 2", id="a number with no answer"),
        pytest.param(
            "yes 1 no 2",
            2,
            'The reply said "yes" without a number before it',
            id="answers before numbers",
        ),
        pytest.param(
            "1 yes 2 only in the morning",
            2,
            'The reply had words we could not read: "only"',
            id="words we cannot read",
        ),
        pytest.param(
            "Who is this?", 2, 'The reply had words we could not read: "who"', id="a question"
        ),
        pytest.param("all", 2, 'The reply said "all" but not clearly which answer', id="all alone"),
        pytest.param(
            "all yes 2 no",
            2,
            'The reply said "all" but not clearly which answer',
            id="all then a change",
        ),
        pytest.param(
            "1 \uff12 yes",
            2,
            'The reply had words we could not read: "\uff12"',
            id="a full-width digit",
        ),
    ],
)
def test_replies_that_are_unclear(message: str, listed: int, problem: str) -> None:
    reading = read_reply(message, listed)
    assert not reading.clear
    assert reading.problem == problem
    assert reading.answers == {}
