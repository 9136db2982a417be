"""The rules for GOV.UK Notify's delivery statuses: which replace which, and what each means to
the lead, in plain English."""

from __future__ import annotations

import pytest

from coprod.domain import delivery
from coprod.domain.delivery import Standing, applies, failure_sentence, standing


@pytest.mark.parametrize(
    ("current", "incoming", "expected"),
    [
        (None, "created", True),
        (None, "delivered", True),
        ("created", "sending", True),
        ("sending", "created", False),  # a late, earlier stage does not undo a later one
        ("accepted", "pending-virus-check", True),
        ("sending", "delivered", True),
        ("sending", "permanent-failure", True),
        ("delivered", "delivered", False),  # a replay changes nothing
        ("delivered", "sending", False),  # final stays final
        ("delivered", "permanent-failure", False),
        ("permanent-failure", "delivered", False),
        ("temporary-failure", "delivered", False),  # Notify has stopped trying by then
        ("technical-failure", "created", False),
        ("received", "returned-letter", True),  # Royal Mail brought the letter back
        ("delivered", "returned-letter", True),
        ("returned-letter", "received", False),
        ("validation-failed", "returned-letter", False),  # never posted, so never returned
        ("sending", "not-a-status", False),  # unknown words from anyone are not taken
        ("something-old", "delivered", True),
    ],
)
def test_which_status_replaces_which(current: str | None, incoming: str, expected: bool) -> None:
    assert applies(current, incoming) is expected


def test_every_status_notify_has_is_known() -> None:
    # notifications-api app/constants.py NOTIFICATION_STATUS_TYPES, plus the letter API words.
    notify = {
        "cancelled", "created", "sending", "sent", "delivered", "pending", "failed",
        "technical-failure", "temporary-failure", "permanent-failure", "pending-virus-check",
        "validation-failed", "virus-scan-failed", "returned-letter", "accepted", "received",
    }  # fmt: skip
    assert set(delivery.KNOWN) == notify
    assert set(delivery.FINAL) & set(delivery.IN_PROGRESS) == set()


@pytest.mark.parametrize(
    ("channel", "outbox", "notify", "tries", "expected"),
    [
        ("text", "pending", None, 0, Standing("Waiting to be sent")),
        ("text", "pending", None, 2, Standing("Waiting to be sent, trying again")),
        ("text", "sent", "created", 1, Standing("Sent")),
        ("text", "sent", "delivered", 1, Standing("Delivered")),
        ("email", "sent", None, 1, Standing("Sent")),
        (
            "text",
            "sent",
            "permanent-failure",
            1,
            Standing("Not delivered: the number may be wrong", failed=True),
        ),
        (
            "email",
            "sent",
            "permanent-failure",
            1,
            Standing("Not delivered: the email address may be wrong", failed=True),
        ),
        (
            "text",
            "sent",
            "temporary-failure",
            1,
            Standing(
                "Not delivered: their phone was off or its inbox full for 3 days", failed=True
            ),
        ),
        (
            "text",
            "sent",
            "technical-failure",
            1,
            Standing("Not delivered: a fault at GOV.UK Notify", failed=True),
        ),
        ("letter", "sent", "accepted", 1, Standing("Sent for printing")),
        ("letter", "sent", "received", 1, Standing("Posted")),
        ("letter", "sent", "delivered", 1, Standing("Posted")),
        (
            "letter",
            "sent",
            "returned-letter",
            1,
            Standing(
                "Returned to us: the address may be wrong or they may have moved", failed=True
            ),
        ),
        (
            "letter",
            "sent",
            "validation-failed",
            1,
            Standing("Not delivered: the letter did not meet the rules for printing", True),
        ),
        (
            "text",
            "failed",
            None,
            1,
            Standing(
                "Not sent: GOV.UK Notify would not send it; the number may not be a mobile", True
            ),
        ),
        (
            "email",
            "failed",
            None,
            3,
            Standing("Not sent: the email could not be delivered after several tries", True),
        ),
    ],
)
def test_where_a_message_stands_in_plain_english(
    channel: str, outbox: str, notify: str | None, tries: int, expected: Standing
) -> None:
    assert standing(channel, outbox, notify, tries) == expected


@pytest.mark.parametrize(
    ("channel", "to", "words", "sentence"),
    [
        (
            "text",
            "07700 900123",
            "Not delivered: the number may be wrong",
            "Text to 07700 900123 not delivered: the number may be wrong",
        ),
        (
            "letter",
            "Ann Able",
            "Returned to us: the address may be wrong or they may have moved",
            "Letter to Ann Able returned to us: the address may be wrong or they may have moved",
        ),
        (
            "email",
            "ann@people.example",
            "Not sent: the email could not be delivered after several tries",
            "Email to ann@people.example not sent: the email could not be delivered after "
            "several tries",
        ),
    ],
)
def test_what_the_call_list_says_failed(channel: str, to: str, words: str, sentence: str) -> None:
    assert failure_sentence(channel, to, words) == sentence
