"""What GOV.UK Notify's delivery statuses mean for a message, and for the lead: no I/O.

Notify reports a message's status in a delivery callback, possibly more than once and not
always in order. The statuses are Notify's own (notifications-api app/constants.py:
NOTIFICATION_STATUS_TYPES, COMPLETED and FAILED). A callback carries the raw status; the API
shows a letter's "created"/"sending" as "accepted" and its "delivered" as "received", so both
spellings are understood here.
"""

from __future__ import annotations

from dataclasses import dataclass

from coprod.domain.notifications import Channel

# Still on its way: Notify has it, or has passed it to a phone network or the printer.
IN_PROGRESS = ("created", "accepted", "pending-virus-check", "sending", "pending")
# Arrived, as far as anyone can tell. "sent" is an international text Notify gets no receipt
# for; "received" is a letter Notify has printed and handed to Royal Mail.
ARRIVED = ("delivered", "sent", "received")
# Did not arrive, and Notify will not try again. A temporary failure is final too: Notify has
# already retried for up to 72 hours before it reports one.
NOT_ARRIVED = (
    "permanent-failure",
    "temporary-failure",
    "technical-failure",
    "validation-failed",
    "virus-scan-failed",
    "returned-letter",
    "cancelled",
    "failed",  # Notify's older word for any failure
)
FINAL = ARRIVED + NOT_ARRIVED
KNOWN = IN_PROGRESS + FINAL

# Later stages of a message still on its way outrank earlier ones, so a late "created" does not
# undo "sending".
_PROGRESS_RANK = {
    "created": 0,
    "accepted": 0,
    "pending-virus-check": 1,
    "sending": 2,
    "pending": 2,
}


def applies(current: str | None, incoming: str) -> bool:
    """Whether a status Notify reports should replace the one held. A final status is never
    moved back by a replayed or late callback; the one exception is a letter returned to the
    sender after Royal Mail took it, which Notify reports after "delivered"/"received"."""
    if incoming not in KNOWN or incoming == current:
        return False
    if current is None or current not in KNOWN:
        return True
    if current in FINAL:
        return incoming == "returned-letter" and current in ARRIVED
    if incoming in FINAL:
        return True
    return _PROGRESS_RANK[incoming] >= _PROGRESS_RANK[current]


def did_not_arrive(delivery_status: str | None) -> bool:
    return delivery_status in NOT_ARRIVED


# Why it did not arrive, in words that follow "not delivered: ", by channel where it differs.
_WHY: dict[tuple[str, str | None], str] = {
    ("permanent-failure", Channel.TEXT): "the number may be wrong",
    ("permanent-failure", Channel.EMAIL): "the email address may be wrong",
    ("permanent-failure", Channel.LETTER): "the address may be wrong",
    ("temporary-failure", Channel.TEXT): "their phone was off or its inbox full for 3 days",
    ("temporary-failure", Channel.EMAIL): "their inbox was full or out of action",
    ("technical-failure", None): "a fault at GOV.UK Notify",
    ("validation-failed", None): "the letter did not meet the rules for printing",
    ("virus-scan-failed", None): "the letter failed a virus check",
    ("cancelled", None): "it was cancelled before it went",
    ("failed", None): "GOV.UK Notify could not deliver it",
}

CHANNEL_WORDS: dict[str, str] = {
    Channel.EMAIL: "Email",
    Channel.TEXT: "Text",
    Channel.LETTER: "Letter",
}


def why_not_arrived(channel: str, delivery_status: str) -> str:
    return (
        _WHY.get((delivery_status, channel))
        or _WHY.get((delivery_status, None))
        or "GOV.UK Notify could not deliver it"
    )


@dataclass(frozen=True)
class Standing:
    """Where a message stands, for the lead: a few words, and whether it needs them to act."""

    words: str
    failed: bool = False


def standing(
    channel: str, outbox_status: str, delivery_status: str | None, tries: int = 0
) -> Standing:
    """A message's status in plain English, from our outbox status (pending / sending / sent /
    failed) and the latest status Notify reported."""
    if outbox_status == "failed":
        return Standing(f"Not sent: {_refused(channel)}", failed=True)
    if outbox_status in ("pending", "sending"):
        return Standing("Waiting to be sent, trying again" if tries else "Waiting to be sent")
    if delivery_status == "returned-letter":
        return Standing(
            "Returned to us: the address may be wrong or they may have moved", failed=True
        )
    if delivery_status in NOT_ARRIVED:
        return Standing(f"Not delivered: {why_not_arrived(channel, delivery_status)}", True)
    if delivery_status in ("received",) or (
        channel == Channel.LETTER and delivery_status == "delivered"
    ):
        return Standing("Posted")
    if delivery_status == "delivered":
        return Standing("Delivered")
    if channel == Channel.LETTER:
        return Standing("Sent for printing")
    return Standing("Sent")


def _refused(channel: str) -> str:
    if channel == Channel.EMAIL:
        return "the email could not be delivered after several tries"
    if channel == Channel.LETTER:
        return "GOV.UK Notify would not print the letter"
    return "GOV.UK Notify would not send it; the number may not be a mobile"


def failure_sentence(channel: str, to: str, words: str) -> str:
    """What the call list says, e.g. "Text to 07700 900123 not delivered: the number may be
    wrong". `words` is the message's standing; a letter names the person, not an address."""
    what = CHANNEL_WORDS.get(channel, "Message")
    first, _, rest = words.partition(": ")
    return f"{what} to {to} {first[0].lower()}{first[1:]}: {rest}" if rest else f"{what} to {to}"
