"""Rules for people's interest in getting involved, without I/O: which signs make a public form
look like spam, the signed time stamp a form carries, and which steps may follow which.

Interest is never refused. What looks like spam is held for a lead to look at, so a real person
caught by these rules is delayed, never lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from coprod.security import sign, signatures_match

# A person takes longer than this to read the form and fill it in; a script does not.
MIN_SECONDS_TO_FILL = 3
# More forms than this from one address within the window look like a flood. A family or a
# drop-in centre sharing one connection stays well under it.
FLOOD_LIMIT = 5
FLOOD_WINDOW = dt.timedelta(hours=1)
# How long the link to the optional equality questions works after the form is sent.
EQUALITY_WINDOW = dt.timedelta(days=1)

HONEYPOT_FIELD = "website"
STAMP_FIELD = "form_started"
STAMP_PURPOSE = "interest-form"


def sign_stamp(secret: str, issued: dt.datetime) -> str:
    """The time the form was shown, signed so that a sender cannot choose it."""
    seconds = str(int(issued.timestamp()))
    return f"{seconds}.{sign(secret, STAMP_PURPOSE, seconds)}"


def stamp_issued(secret: str, stamp: str) -> dt.datetime | None:
    """When a form was shown, or None when its stamp is missing or not one we signed."""
    seconds, _, mac = (stamp or "").partition(".")
    if not seconds.isascii() or not seconds.isdigit() or len(seconds) > 12:
        return None
    if not signatures_match(mac, sign(secret, STAMP_PURPOSE, seconds)):
        return None
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC)


def spam_signals(
    *, honeypot: str, issued: dt.datetime | None, now: dt.datetime, recent_from_address: int
) -> list[str]:
    """Why a public form looks like spam, in words for the lead who looks at it; empty when it
    does not. `recent_from_address` counts the earlier forms from the same address within
    FLOOD_WINDOW."""
    signals = []
    if honeypot.strip():
        signals.append("A field hidden from people was filled in")
    if issued is None:
        signals.append("The form was not one this site gave out")
    elif now - issued < dt.timedelta(seconds=MIN_SECONDS_TO_FILL):
        signals.append("The form was sent within seconds of being opened")
    if recent_from_address >= FLOOD_LIMIT:
        signals.append("Many forms came from the same place within an hour")
    return signals


def held_reason(signals: Sequence[str]) -> str | None:
    return "; ".join(signals)[:200] or None


def equality_link_open(sent_at: dt.datetime, now: dt.datetime) -> bool:
    return now - sent_at <= EQUALITY_WINDOW


# ---------------------------------------------------------------------------- stages

# The steps in order. Each action moves from the step before its own; closing may happen at
# any open step.
ORDER = ("new", "chatted", "welcome_booked", "ready")
ACTION_STATUS = {"chat": "chatted", "welcome": "welcome_booked", "ready": "ready"}
ALREADY = {
    "chat": "The chat has already been recorded",
    "welcome": "A welcome session is already booked",
    "ready": "They are already a representative",
}
NEEDS_FIRST = {
    "welcome": "Record the chat before booking a welcome session",
    "ready": "Book a welcome session before making them a representative",
}


def move_refusal(status: str, action: str, *, held: bool) -> str | None:
    """Why this action cannot be taken at this step, or None if it can. Actions: chat,
    welcome, ready, close."""
    if held:
        return "This is held as possible spam. Release it before taking it further"
    if status == "closed":
        return "This interest has been closed"
    if status == "ready":
        return ALREADY["ready"]
    if action == "close":
        return None
    target = ORDER.index(ACTION_STATUS[action])
    at = ORDER.index(status)
    if at >= target:
        return ALREADY[action]
    if at < target - 1:
        return NEEDS_FIRST[action]
    return None


def held_refusal(held: bool) -> str | None:
    """Release and delete are only for interest held as possible spam."""
    return None if held else "This is not held as possible spam"
