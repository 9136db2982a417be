"""The background worker: delivers the outbox and runs periodic jobs.

Several workers may run against one PostgreSQL. Each claims a batch of due rows with
SELECT ... FOR UPDATE SKIP LOCKED, marks them as its own for a lease period, and commits before
sending, so no two workers hold the same row. A worker that dies mid-send leaves a lease that
expires, and the row is tried again (with the same Message-ID).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from coprod import db
from coprod.config import Settings, get_settings
from coprod.domain.backoff import retry_delay_seconds, should_give_up
from coprod.domain.notifications import Channel
from coprod.integrations import mail, notify
from coprod.models import OutboxMessage, OutboxStatus
from coprod.services import (
    contracts,
    money_states,
    notifications,
    payouts,
    reconciliation,
    reminders,
)

log = logging.getLogger("coprod.worker")

BATCH_SIZE = 20

# Periodic jobs: each runs every few minutes on every worker, so each must be safe to run twice at
# once (they rely on unique keys, never on being the only runner).
PeriodicJob = Callable[[dt.datetime], Awaitable[object]]
PERIODIC_JOBS: list[PeriodicJob] = [
    contracts.send_expiry_reminders,
    reminders.send_reminders,
    reconciliation.reconcile,
    money_states.count_payroll_spend,
]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def claim_batch(owner: str, now: dt.datetime, limit: int = BATCH_SIZE) -> list[OutboxMessage]:
    due = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, locked_until__lt=now
    )
    lease = now + dt.timedelta(seconds=get_settings().outbox_lease_seconds)
    async with in_transaction():
        ids = await db.lock(
            OutboxMessage.filter(due).order_by("next_attempt_at", "id").limit(limit),
            skip_locked=True,
        )
        if not ids:
            return []
        # The conditional update is what makes the claim safe on SQLite too, where there is
        # no row locking: only one claimant's update can match a row's old state. One update
        # for the whole batch; the rows that carry our name and lease are the ones we won.
        await OutboxMessage.filter(due, id__in=ids).update(
            status=OutboxStatus.SENDING,
            locked_by=owner,
            locked_until=lease,
            claims=F("claims") + 1,
        )
        return list(
            await OutboxMessage.filter(
                id__in=ids, status=OutboxStatus.SENDING, locked_by=owner, locked_until=lease
            )
            .order_by("next_attempt_at", "id")
            .prefetch_related("organisation")
        )


async def _record_failure(
    row: OutboxMessage,
    owner: str,
    settings: Settings,
    exc: BaseException,
    *,
    give_up: bool = False,
) -> None:
    """Schedule a retry with backoff, or park the row as failed; only if we still hold it."""
    attempts = row.attempts + 1
    give_up = give_up or should_give_up(attempts, settings.mail_max_attempts)
    delay = retry_delay_seconds(
        attempts, settings.mail_backoff_base_seconds, settings.mail_backoff_max_seconds
    )
    await OutboxMessage.filter(id=row.id, locked_by=owner).update(
        status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
        attempts=attempts,
        next_attempt_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay),
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        locked_by=None,
        locked_until=None,
    )
    log.warning("message %s not delivered (attempt %s): %s", row.id, attempts, exc)


async def _record_sent(
    rows: list[OutboxMessage], owner: str, accepted: dict[int, notify.Accepted]
) -> None:
    """Mark a batch's delivered rows sent, for those we still hold: the emails in one
    statement, and each Notify message with the id and status Notify gave it."""
    now = dt.datetime.now(dt.UTC)
    done = {
        "status": OutboxStatus.SENT,
        "attempts": F("attempts") + 1,
        "sent_at": now,
        "last_error": None,
        "locked_by": None,
        "locked_until": None,
    }
    plain = [r.id for r in rows if r.id not in accepted]
    if plain:
        await OutboxMessage.filter(id__in=plain, locked_by=owner).update(**done)
    for row_id, reply in accepted.items():
        await OutboxMessage.filter(id=row_id, locked_by=owner).update(
            **done, provider_id=reply.id, delivery_status=reply.status, delivery_status_at=now
        )


class Courier:
    """Hands one claimed row to whatever carries its channel: email over SMTP (or through
    GOV.UK Notify if so configured), texts and letters through Notify."""

    def __init__(self, settings: Settings, smtp: mail.Connection) -> None:
        self._settings = settings
        self._smtp = smtp
        self._notify = notify.sender(settings)

    def _by_notify(self, row: OutboxMessage) -> bool:
        # A calendar invite needs a real attachment, which Notify's email cannot carry.
        if row.kind == Channel.EMAIL:
            return self._settings.notify_email and not row.attachments
        return True

    async def send(self, row: OutboxMessage) -> notify.Accepted | None:
        """Send it; Notify's receipt for what went through Notify, None for SMTP."""
        if not self._by_notify(row):
            await self._smtp.send(mail.build_message(row, self._settings.mail_from))
            return None
        if row.claims > 1:
            # Taken before: an earlier send may have reached Notify with its reply lost. Notify
            # has no idempotency key, so ask it for our reference before sending again.
            found = await self._notify.find(row.message_id)
            if found is not None:
                return found
        slug = row.organisation.slug if row.organisation else ""
        if row.kind == Channel.TEXT:
            return await self._notify.send_text(
                notify.Text(
                    phone_number=row.to_address,
                    body=row.text_body,
                    reference=row.message_id,
                    sender_id=self._settings.notify_sms_senders.get(slug),
                )
            )
        if row.kind == Channel.LETTER:
            pdf = notifications.letter_pdf(row)
            return await self._notify.send_letter(notify.PdfLetter(pdf, row.message_id))
        return await self._notify.send_email(
            notify.Email(
                address=row.to_address,
                subject=row.subject,
                body=row.text_body,
                reference=row.message_id,
                reply_to_id=self._settings.notify_email_reply_to.get(slug),
            )
        )


async def deliver_due(settings: Settings | None = None, owner: str | None = None) -> int:
    """Deliver everything due now, batch by batch, emails on one SMTP connection. Returns how
    many were sent.

    A failure is recorded as it happens; the batch's successes are recorded together after
    it. A worker that dies in between leaves them `sending` until the lease runs out, and they
    are taken again: an email goes with the same Message-ID, as a send whose reply was lost
    would; a text or letter is first looked up in Notify by that reference."""
    settings = settings or get_settings()
    owner = owner or worker_id()
    sent = 0
    async with mail.Connection(settings) as smtp:
        courier = Courier(settings, smtp)
        while True:
            batch = await claim_batch(owner, dt.datetime.now(dt.UTC))
            if not batch:
                return sent
            delivered: list[OutboxMessage] = []
            accepted: dict[int, notify.Accepted] = {}
            try:
                for row in batch:
                    try:
                        reply = await courier.send(row)
                    except (notify.Refused, notifications.Unprintable) as exc:
                        # Sending it again would be refused again: the lead needs to know.
                        await _record_failure(row, owner, settings, exc, give_up=True)
                    except Exception as exc:  # any other failure to hand over is retried
                        await _record_failure(row, owner, settings, exc)
                    else:
                        delivered.append(row)
                        if reply is not None:
                            accepted[row.id] = reply
            finally:
                await _record_sent(delivered, owner, accepted)
            sent += len(delivered)


async def run_periodic_jobs(now: dt.datetime | None = None) -> None:
    now = now or dt.datetime.now(dt.UTC)
    for job in PERIODIC_JOBS:
        try:
            await job(now)
        except Exception:  # one broken job must not stop mail going out
            log.exception("periodic job %s failed", getattr(job, "__name__", job))


async def run_forever(poll_seconds: float = 2.0, periodic_seconds: float = 300.0) -> None:
    settings = get_settings()
    owner = worker_id()
    log.info("worker %s started", owner)
    last_periodic = 0.0
    loop = asyncio.get_running_loop()
    while True:
        if loop.time() - last_periodic >= periodic_seconds:
            await run_periodic_jobs()
            last_periodic = loop.time()
        try:
            # Payments go out promptly, not with the slower periodic jobs.
            await payouts.process_payments(dt.datetime.now(dt.UTC))
        except Exception:
            log.exception("payments failed; will try again")
        try:
            await deliver_due(settings, owner)
        except Exception:
            log.exception("delivery loop failed; will try again")
        await asyncio.sleep(poll_seconds)
