"""Which way each message goes, and how texts are counted: pure rules, tested against tables."""

from __future__ import annotations

import pytest

from coprod.domain.notifications import (
    KINDS,
    Addresses,
    Channel,
    LetterVariant,
    letter_variant,
    needs_transcription,
    route,
    text_parts,
    usual_channel,
)
from coprod.domain.phone_numbers import normalise_mobile

EVERYTHING = Addresses(email=True, mobile=True, postal=True)
BOOKING = KINDS["booking_confirmed"]
REMINDER = KINDS["booking_reminder"]
CODE = KINDS["sign_in_code"]


@pytest.mark.parametrize(
    ("chosen", "addresses", "kind", "channel", "why_not"),
    [
        # Their order decides, not ours.
        (["text", "email"], EVERYTHING, BOOKING, Channel.TEXT, None),
        (["post", "text"], EVERYTHING, BOOKING, Channel.LETTER, None),
        (["email", "post"], EVERYTHING, BOOKING, Channel.EMAIL, None),
        # A channel they chose but have no details for is passed over.
        (
            ["text", "post"],
            Addresses(email=True, mobile=False, postal=True),
            BOOKING,
            Channel.LETTER,
            None,
        ),
        # A phone call first means the lead rings them, however else they could be reached.
        (["phone", "email"], EVERYTHING, BOOKING, None, "asked to be phoned"),
        (
            ["email", "phone"],
            Addresses(email=False, mobile=True, postal=True),
            BOOKING,
            None,
            "asked to be phoned",
        ),
        # A letter would arrive after the day: a reminder goes the next way, or not at all.
        (["post", "text"], EVERYTHING, REMINDER, Channel.TEXT, None),
        (
            ["post"],
            EVERYTHING,
            REMINDER,
            None,
            "is reached by post, which would be too late for this",
        ),
        # Nothing chosen: email, as before channels could be chosen.
        ([], EVERYTHING, BOOKING, Channel.EMAIL, None),
        (
            [],
            Addresses(email=False, mobile=True, postal=True),
            BOOKING,
            None,
            "has no email address",
        ),
        (
            ["text"],
            Addresses(email=True, mobile=False, postal=False),
            BOOKING,
            None,
            "has no address for the ways they chose to be contacted",
        ),
        # A code they asked for goes by text even to someone who prefers a call.
        (["phone", "text"], EVERYTHING, CODE, Channel.TEXT, None),
    ],
)
def test_each_message_takes_the_first_way_the_person_chose_that_it_can(
    chosen, addresses, kind, channel, why_not
):
    assert route(kind, chosen, addresses).channel == channel
    assert route(kind, chosen, addresses).why_not == why_not


def test_the_usual_channel_is_how_booking_news_travels():
    assert usual_channel(["post", "email"], EVERYTHING) is Channel.LETTER
    assert usual_channel(["phone"], EVERYTHING) is None


def test_every_kind_is_named_as_it_is_looked_up():
    assert all(name == kind.name for name, kind in KINDS.items())


@pytest.mark.parametrize(
    ("formats", "variant"),
    [
        ([], LetterVariant.STANDARD),
        (["large_print"], LetterVariant.LARGE_PRINT),
        (["easy_read"], LetterVariant.EASY_READ),
        (["large_print", "easy_read"], LetterVariant.EASY_READ),
        (["braille", "bsl"], LetterVariant.STANDARD),
    ],
)
def test_the_print_follows_the_persons_access_needs(formats, variant):
    assert letter_variant(formats) is variant


def test_braille_and_audio_need_someone_to_transcribe_the_letter():
    assert needs_transcription(["large_print", "audio", "braille"]) == ("braille", "audio")
    assert needs_transcription(["easy_read"]) == ()


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),  # two parts of up to 153, each with a joining header
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # characters from the extension table count twice
        ("[" * 81, 2),
        ("£" * 160, 1),  # the pound sign is in the GSM alphabet
        ("\u2019" + "a" * 69, 1),  # a curly apostrophe sends the whole text as UCS-2
        ("\u2019" + "a" * 70, 2),
        ("\u2019" + "a" * 133, 2),
        ("\u2019" + "a" * 134, 3),
    ],
)
def test_texts_are_counted_in_the_parts_they_are_sent_and_charged_in(text, parts):
    assert text_parts(text) == parts


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("07700 900123", "447700900123"),
        ("+44 7700 900123", "447700900123"),
        ("0044 (7700) 900-123", "447700900123"),
        ("447700900123", "447700900123"),
        ("+1 415 555 0100", "14155550100"),
        ("01632 960001", None),  # a landline cannot receive texts
        ("07700 90012", None),
        ("0\uff17700900123", None),  # a full-width digit is not a digit we can dial
        ("", None),
        (None, None),
    ],
)
def test_mobile_numbers_are_matched_in_notifys_form(written, normal):
    assert normalise_mobile(written) == normal
