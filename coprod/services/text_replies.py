"""Texts people send us, as GOV.UK Notify's inbound callback delivers them: an answer to a poll
invitation that went by text is recorded as theirs, through the same use case as the page and
the API (polls.record_answers), and acknowledged by text. What cannot be recorded goes to the
lead's call list with the text itself (reminders.call_list), until the lead has phoned.

The sender is found by their number, and only when exactly one person holds it: a number two
people share is never guessed, and goes to the call list of each organisation they belong to.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from coprod.domain.notifications import KINDS, Channel
from coprod.domain.phone_numbers import normalise_mobile
from coprod.domain.text_replies import SAID, read_reply
from coprod.errors import Conflict, NotFound
from coprod.models import (
    ActivityStatus,
    Invitation,
    ReceivedText,
    Representative,
    TextOutcome,
    TimeOption,
)
from coprod.services import audit, notifications, polls
from coprod.services.access import require_lead
from coprod.services.actor import Actor
from coprod.templating import london
from coprod.validation import ValidationFailed

log = logging.getLogger("coprod.texts")


class AlreadyReceived(Exception):
    """Another delivery of the same text recorded it first."""


@dataclass(frozen=True)
class Inbound:
    """One text as Notify's callback gives it."""

    notify_id: str
    source_number: str  # 447700900123
    message: str
    received_at: dt.datetime


async def receive(text: Inbound) -> str:
    """Record a text once, however often Notify delivers it, and act on it. Returns what
    became of it: an outcome (TextOutcome), or "already received"."""
    if await ReceivedText.filter(notify_id=text.notify_id).exists():
        return "already received"
    number = normalise_mobile(text.source_number) or text.source_number
    holders = await Representative.filter(mobile_normalised=number, archived_at__isnull=True)
    try:
        async with in_transaction():
            if len(holders) == 1:
                outcome = await _from_one_person(text, holders[0])
            elif holders:
                outcome = TextOutcome.SHARED_NUMBER
                for organisation_id in sorted({r.organisation_id for r in holders}):
                    await _keep(text, outcome, organisation_id=organisation_id)
            else:
                outcome = TextOutcome.UNKNOWN_NUMBER
                await _keep(text, outcome)
                # Nobody here to phone: kept for the record and logged, nothing more.
                log.info("text %s from a number nobody here has", text.notify_id)
    except AlreadyReceived:
        return "already received"
    return outcome.value


async def _keep(
    text: Inbound,
    outcome: TextOutcome,
    *,
    organisation_id: int | None = None,
    rep: Representative | None = None,
    invitation: Invitation | None = None,
    problem: str | None = None,
) -> ReceivedText:
    try:
        return await ReceivedText.create(
            notify_id=text.notify_id,
            organisation_id=organisation_id if rep is None else rep.organisation_id,
            representative=rep,
            invitation=invitation,
            from_number=text.source_number[:40],
            message=text.message,
            received_at=text.received_at,
            outcome=outcome,
            problem=problem[:200] if problem else None,
        )
    except IntegrityError as exc:
        # The same text delivered twice at once: leave the transaction, the other recorded it.
        raise AlreadyReceived from exc


async def open_invitation(rep: Representative) -> Invitation | None:
    """Their most recent invitation that went by text and can still be answered."""
    return (
        await Invitation.filter(
            representative=rep,
            texted_option_ids__isnull=False,
            activity__status=ActivityStatus.PLANNING,
        )
        .filter(
            Q(activity__poll_deadline__isnull=True)
            | Q(activity__poll_deadline__gt=dt.datetime.now(dt.UTC))
        )
        .order_by("-created_at", "-id")
        .prefetch_related("activity")
        .first()
    )


async def _from_one_person(text: Inbound, rep: Representative) -> TextOutcome:
    invitation = await open_invitation(rep)
    if invitation is None:
        await _keep(text, TextOutcome.NOTHING_OPEN, rep=rep)
        return TextOutcome.NOTHING_OPEN
    listed: list[int] = invitation.texted_option_ids
    reading = read_reply(text.message, len(listed))
    if not reading.clear:
        return await _unclear(text, rep, invitation, reading.problem)
    options = {o.id: o for o in await TimeOption.filter(id__in=listed)}
    # A time removed since the text was sent has nothing left to answer.
    answered = {n: a for n, a in reading.answers.items() if listed[n - 1] in options}
    row = await _keep(text, TextOutcome.ANSWERED, rep=rep, invitation=invitation)
    try:
        await polls.record_answers(
            None,
            invitation,
            {"answers": {str(listed[n - 1]): a.value for n, a in answered.items()}},
            via="text",
        )
    except Conflict:  # the poll closed between finding it and recording
        return await _reclassify(row, TextOutcome.NOTHING_OPEN)
    except ValidationFailed as refused:
        await _say_unclear(row, rep, invitation)
        return await _reclassify(row, TextOutcome.UNCLEAR, refused.errors[0].message)
    activity = invitation.activity
    await notifications.queue(
        rep,
        KINDS["poll_answer_received"],
        Channel.TEXT,
        {
            "name": rep.full_name,
            "title": activity.title,
            "answers": [
                f"{n} {london(options[listed[n - 1]].starts_at, polls.OPTION_TIME)}: {SAID[a]}"
                for n, a in answered.items()
            ],
        },
        organisation_id=activity.organisation_id,
        dedupe_key=f"received-text:{row.id}:answered",
    )
    return TextOutcome.ANSWERED


async def _unclear(
    text: Inbound, rep: Representative, invitation: Invitation, problem: str | None
) -> TextOutcome:
    row = await _keep(text, TextOutcome.UNCLEAR, rep=rep, invitation=invitation, problem=problem)
    await _say_unclear(row, rep, invitation)
    return TextOutcome.UNCLEAR


async def _say_unclear(row: ReceivedText, rep: Representative, invitation: Invitation) -> None:
    await notifications.queue(
        rep,
        KINDS["poll_answer_unclear"],
        Channel.TEXT,
        {"name": rep.full_name, "title": invitation.activity.title},
        organisation_id=rep.organisation_id,
        dedupe_key=f"received-text:{row.id}:unclear",
    )


async def _reclassify(
    row: ReceivedText, outcome: TextOutcome, problem: str | None = None
) -> TextOutcome:
    row.outcome, row.problem = outcome, problem
    await row.save(update_fields=["outcome", "problem"])
    return outcome


async def dealt_with(actor: Actor, text_id: int) -> ReceivedText:
    """The lead has phoned about this text: it leaves the call list. Once only; doing it again
    changes nothing."""
    require_lead(actor)
    row = await ReceivedText.get_or_none(id=text_id, organisation_id=actor.organisation_id)
    if row is None:
        raise NotFound
    async with in_transaction():
        await ReceivedText.filter(id=row.id).select_for_update().first()
        await row.refresh_from_db()
        if row.dealt_with_at is None:
            row.dealt_with_at = dt.datetime.now(dt.UTC)
            row.dealt_with_by = actor.user
            await row.save(update_fields=["dealt_with_at", "dealt_with_by_id"])
            await audit.record(
                actor,
                "received_text.dealt_with",
                row,
                after={"outcome": row.outcome.value, "representative_id": row.representative_id},
            )
    return row


def describe(row: ReceivedText, sharers: list[Representative]) -> str:
    """Why the lead is to phone about a text, in words that follow "Texted ... :"."""
    if row.outcome == TextOutcome.SHARED_NUMBER:
        names = " and ".join(r.full_name for r in sharers) or "people"
        return f"{names} share this number, so we cannot tell whose answer it is"
    if row.outcome == TextOutcome.NOTHING_OPEN:
        return "They have no invitation by text open to answer"
    return row.problem or "We could not read it"
