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

from coprod.config import Settings, get_settings
from coprod.domain.backoff import retry_delay_seconds, should_give_up
from coprod.integrations import mail
from coprod.models import OutboxMessage, OutboxStatus
from coprod.services import contracts, money_states, payouts, reconciliation, reminders

log = logging.getLogger("coprod.worker")

LEASE = dt.timedelta(minutes=5)
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
    lease = now + LEASE
    async with in_transaction():
        ids = (
            await OutboxMessage.filter(due)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)
        )
        if not ids:
            return []
        # The conditional update is what makes the claim safe on SQLite too, where there is
        # no row locking: only one claimant's update can match a row's old state. One update
        # for the whole batch; the rows that carry our name and lease are the ones we won.
        await OutboxMessage.filter(due, id__in=ids).update(
            status=OutboxStatus.SENDING, locked_by=owner, locked_until=lease
        )
        return list(
            await OutboxMessage.filter(
                id__in=ids, status=OutboxStatus.SENDING, locked_by=owner, locked_until=lease
            ).order_by("next_attempt_at", "id")
        )


async def _record_failure(
    row: OutboxMessage, owner: str, settings: Settings, exc: BaseException
) -> None:
    """Schedule a retry with backoff, or park the row as failed; only if we still hold it."""
    attempts = row.attempts + 1
    give_up = should_give_up(attempts, settings.mail_max_attempts)
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


async def _record_sent(rows: list[OutboxMessage], owner: str) -> None:
    """Mark a batch's delivered rows sent in one statement, for those we still hold."""
    if rows:
        await OutboxMessage.filter(id__in=[r.id for r in rows], locked_by=owner).update(
            status=OutboxStatus.SENT,
            attempts=F("attempts") + 1,
            sent_at=dt.datetime.now(dt.UTC),
            last_error=None,
            locked_by=None,
            locked_until=None,
        )


async def deliver(
    row: OutboxMessage, owner: str, settings: Settings, smtp: mail.Connection | None = None
) -> bool:
    """Send one claimed row; record success, or schedule a retry, or park it as failed."""
    try:
        message = mail.build_message(row, settings.mail_from)
        if smtp is None:
            await mail.send(message, settings)
        else:
            await smtp.send(message)
    except Exception as exc:  # any failure to hand over is retried; the reason is kept
        await _record_failure(row, owner, settings, exc)
        return False
    await _record_sent([row], owner)
    return True


async def deliver_due(settings: Settings | None = None, owner: str | None = None) -> int:
    """Deliver everything due now, batch by batch on one SMTP connection. Returns how many
    were sent.

    A failure is recorded as it happens; the batch's successes are recorded together after
    it. A worker that dies in between leaves them `sending` until the lease runs out, and they
    are sent again with the same Message-ID, as a send whose reply was lost would be."""
    settings = settings or get_settings()
    owner = owner or worker_id()
    sent = 0
    async with mail.Connection(settings) as smtp:
        while True:
            batch = await claim_batch(owner, dt.datetime.now(dt.UTC))
            if not batch:
                return sent
            delivered: list[OutboxMessage] = []
            try:
                for row in batch:
                    try:
                        await smtp.send(mail.build_message(row, settings.mail_from))
                    except Exception as exc:  # any failure to hand over is retried
                        await _record_failure(row, owner, settings, exc)
                    else:
                        delivered.append(row)
            finally:
                await _record_sent(delivered, owner)
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
