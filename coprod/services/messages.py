"""A representative's messages as their lead sees them: where each stands (GOV.UK Notify's
delivery callbacks keep that up to date), following up those that did not arrive, and printing
any of them as a letter to hand over instead.

A message that did not arrive (Notify reported a final failure, or it could not be sent at all)
puts the person on the lead's call list (reminders.call_list) until the lead says they have
phoned them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod.domain import delivery as rules
from coprod.domain.notifications import Channel, letter_variant
from coprod.errors import Conflict, NotFound
from coprod.models import OutboxMessage, OutboxStatus, Representative
from coprod.services import audit, notifications
from coprod.services.access import is_lead
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed

log = logging.getLogger("coprod.messages")

# Notify's ids are UUIDs and its statuses short words: anything longer is not from Notify.
_LONGEST_ID = 64
_LONGEST_STATUS = 30


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _text(payload: Mapping[str, Any], key: str, longest: int) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and 0 < len(value) <= longest else None


def _when(raw: Any) -> dt.datetime | None:
    """Notify's times are UTC, written like 2017-05-14T12:15:30.000000Z."""
    if not isinstance(raw, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def record_delivery(payload: Mapping[str, Any]) -> str:
    """Apply one of Notify's callbacks about a message we sent: a delivery status (id,
    reference, status, completed_at, ...) or a returned letter (notification_id, reference,
    no status). Replays and late arrivals never move a final status back (domain.delivery).
    Returns what was done, for the log; a message we do not know is ignored, since Notify
    retries anything but success."""
    notify_id = _text(payload, "id", _LONGEST_ID) or _text(payload, "notification_id", _LONGEST_ID)
    reference = _text(payload, "reference", 255)
    status = _text(payload, "status", _LONGEST_STATUS)
    if status is None and "notification_id" in payload and "status" not in payload:
        status = "returned-letter"
    if status is None or (notify_id is None and reference is None):
        return "ignored: no status or no id"
    async with in_transaction():
        row = None
        if notify_id is not None:
            row = await OutboxMessage.filter(provider_id=notify_id).select_for_update().first()
        if row is None and reference is not None:
            row = await OutboxMessage.filter(message_id=reference).select_for_update().first()
        if row is None:
            log.info("delivery status %s for a message we do not know: %s", status, notify_id)
            return "ignored: unknown message"
        if not rules.applies(row.delivery_status, status):
            return f"kept {row.delivery_status}"
        row.delivery_status = status
        row.delivery_status_at = _when(payload.get("completed_at")) or _now()
        row.provider_id = row.provider_id or notify_id
        await row.save(update_fields=["delivery_status", "delivery_status_at", "provider_id"])
    return status


# ---------------------------------------------------------------------------- did not arrive


def did_not_arrive() -> Q:
    """Messages to representatives that did not reach them: never sent, or reported failed."""
    return Q(representative_id__isnull=False) & (
        Q(status=OutboxStatus.FAILED) | Q(delivery_status__in=list(rules.NOT_ARRIVED))
    )


def to_follow_up(actor: Actor) -> QuerySet[OutboxMessage]:
    """Messages that did not arrive and the lead has not yet phoned the person about, of people
    still involved."""
    return OutboxMessage.filter(
        did_not_arrive(),
        organisation_id=actor.organisation_id,
        followed_up_at__isnull=True,
        representative__archived_at__isnull=True,
    )


def standing(row: OutboxMessage) -> rules.Standing:
    return rules.standing(row.kind, row.status, row.delivery_status, row.attempts)


def failure(row: OutboxMessage) -> str:
    """What went wrong, for the call list: "Text to 07700 900123 not delivered: ..."."""
    return rules.failure_sentence(row.kind, row.to_address, standing(row).words)


# ---------------------------------------------------------------------------- the lead's view


def _require_lead(actor: Actor) -> None:
    # A representative may see their own record, but not what was sent to them or why it failed.
    if not is_lead(actor):
        raise NotFound


def for_representative(actor: Actor, rep: Representative) -> QuerySet[OutboxMessage]:
    """Everything sent to this person, newest first. `rep` comes from access.representative_for."""
    _require_lead(actor)
    return OutboxMessage.filter(
        representative_id=rep.id, organisation_id=actor.organisation_id
    ).order_by("-created_at", "-id")


async def message_for(actor: Actor, rep: Representative, message_id: int) -> OutboxMessage:
    _require_lead(actor)
    row = await OutboxMessage.get_or_none(
        id=message_id, representative_id=rep.id, organisation_id=actor.organisation_id
    ).prefetch_related("organisation")
    if row is None:
        raise NotFound
    return row


async def follow_up(actor: Actor, row: OutboxMessage) -> OutboxMessage:
    """The lead has phoned the person about a message that did not arrive: it leaves the call
    list. Saying so twice changes nothing."""
    _require_lead(actor)
    if not standing(row).failed:
        raise Conflict("This message has not failed, so there is nobody to phone about it")
    async with in_transaction():
        fresh = await OutboxMessage.filter(id=row.id).select_for_update().get()
        if fresh.followed_up_at is None:
            fresh.followed_up_at = _now()
            fresh.followed_up_by = actor.user
            await fresh.save(update_fields=["followed_up_at", "followed_up_by_id"])
            await audit.record(
                actor,
                "message.follow_up",
                fresh,
                after={"phoned": True, "about": failure(fresh)},
                organisation_id=actor.organisation_id,
            )
    row.followed_up_at, row.followed_up_by_id = fresh.followed_up_at, fresh.followed_up_by_id
    return row


def can_print(row: OutboxMessage, rep: Representative) -> bool:
    """A letter prints as it was written; an email or text prints as a letter only to a
    postal address."""
    return row.kind == Channel.LETTER or bool(rep.postal_address)


async def print_letter(actor: Actor, rep: Representative, row: OutboxMessage) -> bytes:
    """The message as a letter the lead can print and hand over: the letter itself, or an email
    or text's words drawn as a letter to the person's postal address. Audited, since it shows
    personal data."""
    _require_lead(actor)
    if not can_print(row, rep):
        raise ValidationFailed.one(
            "postal_address",
            f"{rep.full_name} has no postal address, so this cannot be printed as a letter",
        )
    letter = row
    if row.kind != Channel.LETTER:
        # The same words, drawn as a letter to them; not saved, so nothing is posted.
        letter = OutboxMessage(
            organisation=row.organisation,
            to_address=rep.full_name[:254],
            postal_address=rep.postal_address,
            letter_variant=letter_variant(rep.formats or []).value,
            subject=row.subject,
            text_body=row.text_body,
            created_at=row.created_at,
        )
    try:
        pdf = notifications.letter_pdf(letter)
    except notifications.Unprintable as exc:
        raise ValidationFailed.one("letter", f"This cannot be printed as a letter: {exc}") from exc
    await audit.record(
        actor,
        "message.print",
        row,
        after={"channel": row.kind, "notification": row.notification},
        organisation_id=actor.organisation_id,
    )
    return pdf
