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

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from coprod.config import Settings, get_settings
from coprod.domain.backoff import retry_delay_seconds, should_give_up
from coprod.integrations import mail
from coprod.models import OutboxMessage, OutboxStatus
from coprod.services import contracts, payouts, reminders

log = logging.getLogger("coprod.worker")

LEASE = dt.timedelta(minutes=5)
BATCH_SIZE = 20

# Periodic jobs: each runs every few minutes on every worker, so each must be safe to run twice at
# once (they rely on unique keys, never on being the only runner).
PeriodicJob = Callable[[dt.datetime], Awaitable[object]]
PERIODIC_JOBS: list[PeriodicJob] = [contracts.send_expiry_reminders, reminders.send_reminders]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def claim_batch(owner: str, now: dt.datetime, limit: int = BATCH_SIZE) -> list[OutboxMessage]:
    due = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, locked_until__lt=now
    )
    async with in_transaction():
        rows = (
            await OutboxMessage.filter(due)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        claimed: list[OutboxMessage] = []
        for row in rows:
            # The conditional update is what makes the claim safe on SQLite too, where there is
            # no row locking: only one claimant's update can match the old state.
            won = await OutboxMessage.filter(due, id=row.id).update(
                status=OutboxStatus.SENDING, locked_by=owner, locked_until=now + LEASE
            )
            if won:
                claimed.append(row)
    return claimed


async def deliver(row: OutboxMessage, owner: str, settings: Settings) -> bool:
    """Send one claimed row; record success, or schedule a retry, or park it as failed."""
    now = dt.datetime.now(dt.UTC)
    try:
        await mail.send(mail.build_message(row, settings.mail_from), settings)
    except Exception as exc:  # any failure to hand over is retried; the reason is kept
        attempts = row.attempts + 1
        give_up = should_give_up(attempts, settings.mail_max_attempts)
        delay = retry_delay_seconds(
            attempts, settings.mail_backoff_base_seconds, settings.mail_backoff_max_seconds
        )
        await OutboxMessage.filter(id=row.id, locked_by=owner).update(
            status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + dt.timedelta(seconds=delay),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            locked_by=None,
            locked_until=None,
        )
        log.warning("message %s not delivered (attempt %s): %s", row.id, attempts, exc)
        return False
    await OutboxMessage.filter(id=row.id, locked_by=owner).update(
        status=OutboxStatus.SENT,
        attempts=row.attempts + 1,
        sent_at=now,
        last_error=None,
        locked_by=None,
        locked_until=None,
    )
    return True


async def deliver_due(settings: Settings | None = None, owner: str | None = None) -> int:
    """Deliver everything due now. Returns how many were sent."""
    settings = settings or get_settings()
    owner = owner or worker_id()
    sent = 0
    while True:
        batch = await claim_batch(owner, dt.datetime.now(dt.UTC))
        if not batch:
            return sent
        for row in batch:
            sent += await deliver(row, owner, settings)


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
