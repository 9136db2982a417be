"""Every message renders for email, text and letter, and goes the way the person chose."""

from __future__ import annotations

import pytest

from coprod.config import ConfigError, load_settings
from coprod.domain.notifications import KINDS, MAX_TEXT_CHARACTERS, Channel, LetterVariant
from coprod.services import outbox
from coprod.services.notifications import render_letter, render_text

LINK = "http://testserver/answer/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WHEN = "Wednesday 13 January 2027 at 10:30AM"
CONTACT = "If you have any questions, phone your involvement lead, Sam Lead, on 0113 496 0000."
TITLE = "Redesigning the crisis line: listening event for people who have used it"

# What each kind is given, as its callers give it; long where a real value can be long.
SAMPLES: dict[str, dict[str, object]] = {
    "invitation": {
        "name": "Ada Lovelace",
        "title": TITLE,
        "description": "We want to hear what helped and what did not.",
        "options": [WHEN, "Thursday 14 January 2027 at 2:00PM", "Friday 15 January 2027 at 9:30AM"],
        "url": LINK,
        "deadline": "Monday 11 January 2027 at 5:00PM",
        "modes": ["phone", "video"],
        "ways": ["By phone: we will send the number", "By video: Microsoft Teams"],
        "paid": "£70.00 for a half day",
        "contact": CONTACT,
    },
    "booking_confirmed": {
        "name": "Ada Lovelace",
        "title": TITLE,
        "when": WHEN,
        "how": "In person at Room 4, Trust HQ, 1 Park Lane, Leeds LS1 1AA (step-free access)",
        "paid": "£70.00 for a half day",
        "contact": CONTACT,
        "url": "http://testserver/my/bookings",
    },
    "booking_reminder": {
        "name": "Ada Lovelace",
        "title": TITLE,
        "mode": "phone",
        "when": WHEN,
        "how": "By phone",
        "tech_test_url": "http://testserver/tech-test/1.abc",
        "dial_in": "0113 496 0999",
        "pin": "123456",
    },
    "contract_expiry_representative": {
        "name": "Ada Lovelace",
        "representative": "Ada Lovelace",
        "organisation": "Leeds and York Partnership NHS Foundation Trust",
        "role_title": "Lived experience representative",
        "ends_on": "31 March 2027",
        "days": 30,
        "url": "http://testserver/representatives/1",
        "not_told_because": None,
    },
    "remittance": {
        "name": "Ada Lovelace",
        "claim_id": 42,
        "total": "£152.50",
        "fees": "£140.00",
        "expenses": "£12.50",
        "url": "http://testserver/my/payments",
    },
    "action_done": {
        "name": "Ada Lovelace",
        "team": "Crisis Resolution Team",
        "you_said": "The waiting room was cold and there was nothing to read",
        "we_did": "We fixed the heating and put out books and magazines",
        "url": "http://testserver/you-said-we-did/northshire/1",
    },
    "poll_answer_received": {
        "name": "Ada Lovelace",
        "title": TITLE,
        "answers": [f"1 {WHEN}: yes", "2 Thursday 14 January 2027 at 2:00PM: no"],
        "url": "http://testserver/my",
    },
    "activity_feedback_request": {
        "name": "Ada Lovelace",
        "title": TITLE,
        "when": "Wednesday 13 January 2027",
        "url": "http://testserver/my/bookings/42/feedback",
        "contact": CONTACT,
    },
    "sign_in_code": {"name": "Ada Lovelace", "code": "123456", "minutes": 10},
    "network_role": {"name": "Sam", "network": "Yorkshire", "role": "administrator", "url": LINK},
    "network_invitation": {
        "name": "Sam",
        "network": "Yorkshire",
        "organisation": "Trust",
        "url": LINK,
    },
    "tech_test_request": {
        "name": "Sam Lead",
        "representative": "Ada Lovelace",
        "title": TITLE,
        "when": WHEN,
        "phone": "07700 900123",
        "email": "",
    },
}
SAMPLES["interest_received"] = {
    "name": "Ada Lovelace",
    "organisation": "Leeds and York Partnership NHS Foundation Trust",
    "title": "Member of staff interview panels",
}
SAMPLES["welcome_session"] = {
    "name": "Ada Lovelace",
    "organisation": "Leeds and York Partnership NHS Foundation Trust",
    "when": WHEN,
    "how": "By phone: we will ring you on the number you gave us",
}
SAMPLES["interest_closed"] = {
    "name": "Ada Lovelace",
    "organisation": "Leeds and York Partnership NHS Foundation Trust",
}
for _kind in ("booking_updated", "booking_cancelled"):
    SAMPLES[_kind] = SAMPLES["booking_confirmed"]
for _kind in ("payment_held", "payment_payout_failed", "payment_reversed"):
    SAMPLES[_kind] = SAMPLES["remittance"]
SAMPLES["poll_answer_unclear"] = SAMPLES["poll_answer_received"]
SAMPLES["contract_expiry_lead"] = {**SAMPLES["contract_expiry_representative"], "name": "Sam"}
for _kind in ("sign_in_link", "password_reset"):
    SAMPLES[_kind] = {"name": "Ada Lovelace", "url": LINK, "minutes": 15}


def test_every_kind_has_a_sample():
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_for_email_text_and_letter(kind):
    context = SAMPLES[kind]
    subject, text, html = outbox.render_email(kind, dict(context))
    assert subject
    assert text.startswith("Hello")
    assert "None" not in text + html + subject

    sms = render_text(kind, dict(context))
    assert sms and "None" not in sms
    assert len(sms) <= MAX_TEXT_CHARACTERS  # Notify refuses anything longer
    assert "\n\n" not in sms  # blank lines cost characters and say nothing

    for variant in LetterVariant:
        heading, body = render_letter(kind, dict(context), variant)
        assert heading == subject
        assert body and "None" not in body
        assert "attached" not in body  # a letter carries no calendar file


def test_a_text_names_the_link_it_needs():
    assert LINK in render_text("invitation", dict(SAMPLES["invitation"]))
    assert "http://testserver/my/bookings" in render_text(
        "booking_confirmed", dict(SAMPLES["booking_confirmed"])
    )


def test_a_feedback_request_letter_says_they_can_phone_instead():
    context = SAMPLES["activity_feedback_request"]
    for variant in LetterVariant:
        _, body = render_letter("activity_feedback_request", dict(context), variant)
        assert "phone your involvement lead" in body or "by phone" in body
    email = outbox.render_email("activity_feedback_request", dict(context))[1]
    assert "by phone" not in email
    assert "http://testserver/my/bookings/42/feedback" in render_text(
        "activity_feedback_request", dict(context)
    )


def test_a_poll_text_lists_its_times_by_number():
    text = render_text("invitation", dict(SAMPLES["invitation"]))
    assert f"1: {WHEN}" in text
    assert "3: Friday 15 January 2027 at 9:30AM" in text
    assert '"1 yes 2 no"' in text


def test_easy_read_letters_have_their_own_words_where_written():
    standard = render_letter(
        "booking_confirmed", dict(SAMPLES["booking_confirmed"]), LetterVariant.STANDARD
    )
    easy = render_letter(
        "booking_confirmed", dict(SAMPLES["booking_confirmed"]), LetterVariant.EASY_READ
    )
    assert easy[1] != standard[1]
    # Staff messages have no easy-read words, and fall back to the plain ones.
    staff = dict(SAMPLES["network_role"])
    assert render_letter("network_role", staff, LetterVariant.EASY_READ) == render_letter(
        "network_role", staff, LetterVariant.STANDARD
    )


PRODUCTION = {
    "COPROD_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "FIELD_ENCRYPTION_KEY": "k" * 44,
    "BASE_URL": "https://coprod.example.nhs.uk",
}


def test_production_refuses_to_start_with_a_channel_it_cannot_send():
    settings = load_settings(PRODUCTION)
    with pytest.raises(ConfigError) as refused:
        settings.validate()
    message = str(refused.value)
    assert "NOTIFY_API_KEY, NOTIFY_SMS_TEMPLATE_ID, NOTIFY_CALLBACK_TOKEN must be set" in message
    assert "leave the channel out of CHANNELS" in message


def test_production_starts_with_email_only_or_with_notify_configured():
    load_settings({**PRODUCTION, "CHANNELS": "email"}).validate()
    load_settings(
        {
            **PRODUCTION,
            "NOTIFY_API_KEY": "live-" + "1" * 36 + "-" + "2" * 36,
            "NOTIFY_SMS_TEMPLATE_ID": "3" * 36,
            "NOTIFY_CALLBACK_TOKEN": "a-long-random-token",
        }
    ).validate()


def test_email_through_notify_needs_its_template():
    settings = load_settings(
        {
            **PRODUCTION,
            "CHANNELS": "email",
            "NOTIFY_EMAIL": "true",
            "NOTIFY_API_KEY": "live-" + "1" * 36 + "-" + "2" * 36,
        }
    )
    with pytest.raises(ConfigError, match="NOTIFY_EMAIL_TEMPLATE_ID must be set"):
        settings.validate()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CHANNELS": "text,letter"}, "CHANNELS must list email"),
        ({"CHANNELS": "email,fax"}, "CHANNELS must list email"),
        ({"NOTIFY_SMS_SENDERS": "leeds"}, "NOTIFY_SMS_SENDERS must look like"),
    ],
)
def test_channel_settings_are_checked(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_senders_are_read_per_organisation():
    settings = load_settings({"NOTIFY_SMS_SENDERS": "leeds=abc, york = def"})
    assert settings.notify_sms_senders == {"leeds": "abc", "york": "def"}
    assert Channel.TEXT in settings.channels
