"""The one way a message about involvement reaches a representative.

Invitations, bookings and their changes, reminders, contract expiry and payments all go through
`notify`. It sends by the first of the ways the person chose, in their order (email, text or
letter), that the message can take, and only while their consent to be contacted is in force.
Otherwise, or when they asked to be phoned, nothing is queued and the plain-English reason comes
back, so the lead can phone them instead (see reminders.call_list). Messages people ask for
themselves, such as sign-in links, do not need consent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from coprod.config import get_settings
from coprod.domain import consent as rules
from coprod.domain import notifications
from coprod.domain.notifications import KINDS, Kind
from coprod.models import ConsentPurpose, Interest, OutboxMessage, Representative
from coprod.services import outbox, wellbeing
from coprod.services.notifications import Recipient, queue
from coprod.templating import long_date

# What news about involvement in general takes: the channel kept as usual_channel.
USUAL = KINDS["booking_confirmed"]


def describe(reason: rules.NotInForce) -> str:
    if reason.withdrawn_on is not None:
        return f"withdrew consent to be contacted on {long_date(reason.withdrawn_on)}"
    if reason.review_was_due is not None:
        return f"consent to be contacted was due for review on {long_date(reason.review_was_due)}"
    return "has not agreed to be contacted"


def route(rep: Recipient, kind: Kind) -> notifications.Route:
    """Which channel this kind takes to this person. Channels this installation does not use
    are left out of their choices."""
    settings = get_settings()
    chosen = [
        p
        for p in rep.contact_channels or []
        if (channel := notifications.PREFERENCE_CHANNEL.get(p)) is None or settings.uses(channel)
    ]
    return notifications.route(kind, chosen, rep.addresses)


async def _without_consent(rep: Representative, kind: Kind) -> str | None:
    if kind.asked_for:
        return None  # they asked for it just now
    reason = await wellbeing.consent_reason(rep, ConsentPurpose.CONTACT)
    return None if reason is None else describe(reason)


async def why_not(rep: Representative, kind: Kind = USUAL) -> str | None:
    """Why this kind of message cannot go to this person today, or None if it can."""
    return await _without_consent(rep, kind) or route(rep, kind).why_not


async def why_not_contactable(rep: Representative) -> str | None:
    """Why we cannot write to this person about involvement today, or None if we can."""
    return await why_not(rep)


@dataclass(frozen=True)
class Sent:
    message: OutboxMessage | None  # None when not sent, or already sent (a dedupe key)
    not_sent_because: str | None = None


async def notify(
    rep: Representative,
    *,
    kind: str,
    context: dict[str, Any],
    organisation_id: int | None,
    dedupe_key: str | None = None,
    attachments: tuple[outbox.Attachment, ...] = (),
) -> Sent:
    """Queue a message to a representative about involvement, by the way they chose, only if
    we may contact them. With a dedupe key it goes once only. Attachments (a calendar invite)
    travel only with an email."""
    chosen = KINDS[kind]
    way = route(rep, chosen)
    reason = await _without_consent(rep, chosen) or way.why_not
    if reason is not None or way.channel is None:
        return Sent(None, reason)
    message = await queue(
        rep,
        chosen,
        way.channel,
        context,
        organisation_id=organisation_id,
        dedupe_key=dedupe_key,
        attachments=attachments,
    )
    return Sent(message)


async def notify_interest(
    interest: Interest, *, kind: str, context: dict[str, Any], dedupe_key: str
) -> Sent:
    """Queue a message to someone who said they are interested and is not a representative
    yet, by the way they chose, once only. They have given no consent to be contacted about
    involvement in general, and need none for this: the acknowledgement is what they asked for
    just now, and later messages (their welcome session, or why it is closed) are about what
    they asked for. When they chose a phone call first, nothing is queued and the reason comes
    back, so the lead phones them."""
    way = route(interest, KINDS[kind])
    if way.channel is None:
        return Sent(None, way.why_not)
    message = await queue(
        interest,
        KINDS[kind],
        way.channel,
        context,
        organisation_id=interest.organisation_id,
        dedupe_key=dedupe_key,
    )
    return Sent(message)


@dataclass(frozen=True)
class NotContacted:
    representative: Representative
    reason: str


def cannot_be_written_to(day: dt.date) -> Q:
    """`not_contacted`'s rule as a filter on rows that have a representative, so lists can be
    cut down in the database: no consent to be contacted in force on `day`, or no channel
    they chose reaches them (Representative.usual_channel is kept for this)."""
    return ~Q(representative_id__in=wellbeing.in_force_on(day, ConsentPurpose.CONTACT)) | Q(
        representative__usual_channel__isnull=True
    )


async def not_contacted(reps: Iterable[Representative]) -> list[NotContacted]:
    """Of these people, who cannot be written to about involvement, and why (each once). One
    query for everyone's consent, however many people there are."""
    unique = list({rep.id: rep for rep in reps}.values())
    reasons = await wellbeing.consent_reasons(unique, ConsentPurpose.CONTACT)
    found: list[NotContacted] = []
    for rep in unique:
        if (reason := reasons.get(rep.id)) is not None:
            found.append(NotContacted(rep, describe(reason)))
        elif (unreachable := route(rep, USUAL).why_not) is not None:
            found.append(NotContacted(rep, unreachable))
    return found
