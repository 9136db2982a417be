"""The rules for interest, as tables: which signs make a public form look like spam, the
signed stamp a form carries, the day the equality link works, and which step may follow which."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod.domain import recruitment as rules

SECRET = "a-secret-long-enough-for-the-tests-0123456789"
NOW = dt.datetime(2027, 1, 13, 10, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("honeypot", "seconds_ago", "recent", "expected"),
    [
        ("", 30, 0, []),
        ("", 3, 4, []),  # three seconds is enough to count as a person
        ("http://spam.example", 30, 0, ["A field hidden from people was filled in"]),
        ("   ", 30, 0, []),  # a space a browser's autofill left is not a signal
        ("", 2, 0, ["The form was sent within seconds of being opened"]),
        ("", None, 0, ["The form was not one this site gave out"]),
        ("", 30, 5, ["Many forms came from the same place within an hour"]),
        (
            "x",
            0,
            9,
            [
                "A field hidden from people was filled in",
                "The form was sent within seconds of being opened",
                "Many forms came from the same place within an hour",
            ],
        ),
    ],
)
def test_spam_signals(honeypot, seconds_ago, recent, expected):
    issued = None if seconds_ago is None else NOW - dt.timedelta(seconds=seconds_ago)
    found = rules.spam_signals(
        honeypot=honeypot, issued=issued, now=NOW, recent_from_address=recent
    )
    assert found == expected
    assert rules.held_reason(found) == ("; ".join(expected) or None)


def test_a_signed_stamp_reads_back_and_a_changed_one_does_not():
    stamp = rules.sign_stamp(SECRET, NOW)
    assert rules.stamp_issued(SECRET, stamp) == NOW.replace(microsecond=0)
    seconds, mac = stamp.split(".")
    earlier = str(int(seconds) - 60)
    for forged in (
        f"{earlier}.{mac}",  # moved back to look slow
        f"{seconds}.{'0' * len(mac)}",
        seconds,
        "",
        "abc.def",
        "1" * 40 + "." + mac,
        "١٢٣." + mac,  # digits, but not ASCII ones
    ):
        assert rules.stamp_issued(SECRET, forged) is None, forged
    assert rules.stamp_issued("another-secret-" + SECRET, stamp) is None


@pytest.mark.parametrize(
    ("age", "open_"),
    [
        (dt.timedelta(0), True),
        (dt.timedelta(days=1), True),
        (dt.timedelta(days=1, seconds=1), False),
    ],
)
def test_the_equality_link_works_for_a_day(age, open_):
    assert rules.equality_link_open(NOW - age, NOW) is open_


@pytest.mark.parametrize(
    ("status", "action", "held", "refusal"),
    [
        ("new", "chat", False, None),
        ("new", "welcome", False, "Record the chat before booking a welcome session"),
        ("new", "ready", False, "Book a welcome session before making them a representative"),
        ("new", "close", False, None),
        ("chatted", "chat", False, "The chat has already been recorded"),
        ("chatted", "welcome", False, None),
        ("chatted", "ready", False, "Book a welcome session before making them a representative"),
        ("chatted", "close", False, None),
        ("welcome_booked", "chat", False, "The chat has already been recorded"),
        ("welcome_booked", "welcome", False, "A welcome session is already booked"),
        ("welcome_booked", "ready", False, None),
        ("welcome_booked", "close", False, None),
        ("ready", "close", False, "They are already a representative"),
        ("ready", "chat", False, "They are already a representative"),
        ("closed", "chat", False, "This interest has been closed"),
        ("closed", "close", False, "This interest has been closed"),
        ("new", "chat", True, "This is held as possible spam. Release it before taking it further"),
        (
            "new",
            "close",
            True,
            "This is held as possible spam. Release it before taking it further",
        ),
    ],
)
def test_steps_only_move_forward(status, action, held, refusal):
    assert rules.move_refusal(status, action, held=held) == refusal


@pytest.mark.parametrize(
    ("held", "refusal"), [(True, None), (False, "This is not held as possible spam")]
)
def test_only_held_interest_is_released_or_deleted(held, refusal):
    assert rules.held_refusal(held) == refusal
