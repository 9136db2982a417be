"""Every message Coprod sends, defined once, and the rules for which way each goes: no I/O.

A notification kind is rendered for email (templates/emails/<kind>.*), for text
(templates/texts/<kind>.txt) and for letter (the email's plain text, or
templates/letters/easy_read/<kind>.txt for easy read). Which one a person gets follows the
ways of being contacted they chose, in their order.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """How a message travels. A lead's phone call is not a channel: it is what happens when
    none of these may be used."""

    EMAIL = "email"
    TEXT = "text"
    LETTER = "letter"


class LetterVariant(StrEnum):
    STANDARD = "standard"
    LARGE_PRINT = "large_print"
    EASY_READ = "easy_read"


@dataclass(frozen=True)
class Kind:
    name: str
    about: str  # what the lead sees in a person's messages, e.g. "Booking confirmed"
    # Staff are reached at their work email; representatives by the ways they chose.
    to_staff: bool = False
    # The person asked for it just now (a sign-in link or code): consent to be contacted about
    # involvement does not come into it, and it goes only where they asked for it.
    asked_for: bool = False
    # False where a letter would arrive too late to be any use (reminders, links that expire).
    by_post: bool = True


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("invitation", "Invitation to say when they can come"),
        Kind("booking_confirmed", "Booking confirmed"),
        Kind("booking_updated", "Booking changed"),
        Kind("booking_cancelled", "Booking cancelled"),
        Kind("booking_reminder", "Reminder before the day", by_post=False),
        Kind("contract_expiry_representative", "Contract coming to an end"),
        Kind("remittance", "Payment made"),
        Kind("payment_held", "Payment held"),
        Kind("payment_payout_failed", "Payment returned by the bank"),
        Kind("payment_reversed", "Payment taken back"),
        Kind("activity_feedback_request", "Asked how an activity went"),
        # A "You said, we did" action someone's input or involvement led to is done.
        Kind("action_done", "You said, we did: done"),
        Kind("poll_answer_received", "Answer by text received", by_post=False),
        Kind("poll_answer_unclear", "Answer by text not understood", by_post=False),
        # Someone said they are interested: they asked for the acknowledgement, so it goes by
        # the first of their ways that can carry it even when they would rather be phoned.
        Kind("interest_received", "Thanks for saying they are interested", asked_for=True),
        Kind("welcome_session", "Welcome session booked"),
        Kind("interest_closed", "Interest closed"),
        Kind("sign_in_code", "Sign-in code", asked_for=True, by_post=False),
        Kind("sign_in_link", "Sign-in link", asked_for=True, by_post=False),
        Kind("password_reset", "Password reset link", to_staff=True, asked_for=True),
        Kind("contract_expiry_lead", "Contract coming to an end", to_staff=True),
        Kind("tech_test_request", "Tech test asked for", to_staff=True),
        Kind("network_invitation", "Invitation to join a network", to_staff=True),
        Kind("network_role", "Network role changed", to_staff=True),
    )
}

# What each way a person can choose to be contacted (ContactChannel) means for a message.
# "phone" has no channel: the lead rings them.
PREFERENCE_CHANNEL: dict[str, Channel | None] = {
    "email": Channel.EMAIL,
    "text": Channel.TEXT,
    "post": Channel.LETTER,
    "phone": None,
}


@dataclass(frozen=True)
class Addresses:
    """Which of the details each channel needs a person has."""

    email: bool
    mobile: bool
    postal: bool

    def has(self, channel: Channel) -> bool:
        return {
            Channel.EMAIL: self.email,
            Channel.TEXT: self.mobile,
            Channel.LETTER: self.postal,
        }[channel]


@dataclass(frozen=True)
class Route:
    channel: Channel | None
    why_not: str | None = None  # when channel is None: why, in words that follow a name


def route(kind: Kind, preferences: Sequence[str], addresses: Addresses) -> Route:
    """The first of the person's chosen ways, in their order, that this kind can take and they
    have the details for. Someone who chose nothing is emailed, as before channels were chosen.
    Consent is the caller's to check first (it does not apply to messages people asked for)."""
    chosen = list(preferences) or ["email"]
    for preference in chosen:
        channel = PREFERENCE_CHANNEL.get(preference)
        if channel is None:
            if preference == "phone" and not kind.asked_for:
                return Route(None, "asked to be phoned")
            continue
        if channel is Channel.LETTER and not kind.by_post:
            continue
        if addresses.has(channel):
            return Route(channel)
    return Route(None, _missing(chosen, kind))


def _missing(chosen: Sequence[str], kind: Kind) -> str:
    if chosen == ["email"]:
        return "has no email address"
    if all(p == "post" for p in chosen) and not kind.by_post:
        return "is reached by post, which would be too late for this"
    return "has no address for the ways they chose to be contacted"


def usual_channel(preferences: Sequence[str], addresses: Addresses) -> Channel | None:
    """How news about involvement reaches this person, or None if the lead must phone them:
    kept on the person so the call list can be counted in the database."""
    return route(KINDS["booking_confirmed"], preferences, addresses).channel


def letter_variant(formats: Sequence[str]) -> LetterVariant:
    """Easy read is also printed large, so it wins when both are asked for."""
    if "easy_read" in formats:
        return LetterVariant.EASY_READ
    if "large_print" in formats:
        return LetterVariant.LARGE_PRINT
    return LetterVariant.STANDARD


# Needs that a printed letter does not meet: someone must transcribe or record it.
TRANSCRIBED_FORMATS = ("braille", "audio")


def needs_transcription(formats: Sequence[str]) -> tuple[str, ...]:
    return tuple(f for f in TRANSCRIBED_FORMATS if f in formats)


# What the lead ticks off for each, and how long they have: the printed letter takes about two
# working days by post, and the Braille or audio copy should not trail it by much more.
TRANSCRIPTION_LABELS = {
    "braille": "Braille copy of the letter sent",
    "audio": "Audio recording of the letter sent",
}
TRANSCRIPTION_DAYS = 3


def transcription_due(queued_on: dt.date) -> dt.date:
    return queued_on + dt.timedelta(days=TRANSCRIPTION_DAYS)


# The GSM 03.38 alphabet a text message is sent in when it can be: its basic set counts one
# each, its extension set two (an escape and the character). Anything else sends the whole
# message as UCS-2, which fits far fewer characters in a part.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€")
# Notify refuses a text longer than this many characters (six parts of 153).
MAX_TEXT_CHARACTERS = 918


def text_length(text: str) -> tuple[int, bool]:
    """How many characters the message counts as, and whether it fits the GSM alphabet."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        return sum(2 if c in _GSM_EXTENDED else 1 for c in text), True
    return len(text), False


def text_parts(text: str) -> int:
    """How many 160-character (GSM) or 70-character (UCS-2) parts a text is sent and charged
    as. A long message is split with a header in each part, leaving 153 or 67."""
    length, gsm = text_length(text)
    single, part = (160, 153) if gsm else (70, 67)
    return 1 if length <= single else math.ceil(length / part)
