"""The background worker against raw loops: mail through SMTP, payments through Stripe.

    .venv/bin/python bench/worker.py [--emails 300] [--claims 100] [--rounds 3]

It makes a fresh PostgreSQL database and applies the migrations, then:

- **mail**: books `--emails` representatives (who agreed to be contacted) onto an activity
  through `bookings.book`, which queues each booking confirmation through the outbox's own
  enqueue with the real templates and calendar invite. Each round, the rows are made due again
  and the worker's `deliver_due()` sends them to a local SMTP server (aiosmtpd, in a process of
  its own on loopback); the raw side sends the same rendered messages with a bare `aiosmtplib`
  loop on one connection to the same server. Both sides turn the rendered rows into MIME with
  `mail.build_message` as they go (the rows are read before the raw side's clock starts), so
  the difference is the worker's own cost: claiming, leases and recording each result. The
  server counts what arrives, by Message-ID: both sides must deliver every message, once.
  Target: the worker at least 80% of raw.
- **payments**: for each round, an organisation of its own with `--claims` approved claims
  from representatives whose Stripe Express accounts are set up on the Stripe stand-in
  (`tests/stripe_standin/`, in a process of its own; the real `stripe` library talks to
  it). The worker side is a pay run (`payouts.start_pay_run`, what finance starts, untimed)
  and then the worker's `process_payments()`, timed: claiming each attempt, the transfer,
  marking the claim paid, the audit event and the remittance email; the raw side is a loop
  of `gateway.transfer(...)` calls of the same amounts to the same accounts (fresh idempotency
  keys). The stand-in is then asked for its transfers: exactly one per claim, and every claim
  paid. Target: at least 50%.

Rounds alternate which side goes first. It prints messages (or transfers) per second for
each side, per round and as medians, and the median of the rounds' ratios. The database is
dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402  (needs ROOT on the path)
    Helper,
    approved_claims,
    fresh_database,
    rep_of,
    say,
    stripe_reps,
    trust,
)

# --------------------------------------------------------------------------- seeding


async def seed_mail(emails: int) -> list[int]:
    """Booking confirmations queued by booking people onto an activity: the outbox rows."""
    from coprod.models import OutboxMessage
    from coprod.services import activities, bookings

    lead, _, _ = await trust("Mailshire NHS Trust")
    starts = dt.date.today() + dt.timedelta(days=70)
    activity = await activities.create_activity(
        lead,
        {
            "title": "Service design workshop",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": "120",
            "capacity": str(emails),
            "starts_at": f"{starts.isoformat()}T10:00",
            "in_person": "true",
            "venue": "Trust HQ",
            "address": "1 Park Row, Leeds LS1 5HD",
            "phone": "true",
            "dial_in": "0300 123 4567",
        },
    )
    for i in range(emails):
        await bookings.book(lead, activity, await rep_of(lead, i), "in_person")
    return list(await OutboxMessage.all().order_by("id").values_list("id", flat=True))


async def seed_claims(
    n: int, standin: Helper, gateway: Any, round_no: int
) -> tuple[list[int], list[str], Any]:
    """An organisation with `n` approved claims from people set up for Stripe."""
    lead, finance, org_id = await trust(f"Payshire{round_no} NHS Trust")
    reps = await stripe_reps(lead, n, standin, gateway)
    claims = await approved_claims(org_id, reps, [14000] * n)
    return claims, [rep.stripe_account_id for rep in reps], finance


# --------------------------------------------------------------------------- the two sides


async def worker_mail(ids: list[int]) -> float:
    from coprod import worker

    started = time.perf_counter()
    sent = await worker.deliver_due()
    elapsed = time.perf_counter() - started
    assert sent == len(ids), f"the worker sent {sent} of {len(ids)}"
    return elapsed


async def raw_mail(rows: list[Any], sender: str, port: int) -> float:
    import aiosmtplib

    from coprod.integrations import mail

    started = time.perf_counter()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as smtp:
        for row in rows:
            await smtp.send_message(mail.build_message(row, sender))
    return time.perf_counter() - started


async def make_due(ids: list[int]) -> None:
    from coprod.models import OutboxMessage, OutboxStatus

    await OutboxMessage.filter(id__in=ids).update(
        status=OutboxStatus.PENDING,
        attempts=0,
        sent_at=None,
        locked_by=None,
        locked_until=None,
        next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
    )


async def bench_mail(args: argparse.Namespace, smtp: Helper) -> tuple[list[float], list[float]]:
    from coprod import worker
    from coprod.config import get_settings
    from coprod.models import OutboxMessage, OutboxStatus

    port = int(smtp.first)
    say(f"mail: booking {args.emails} people, which queues their confirmations ...")
    ids = await seed_mail(args.emails)
    assert len(ids) == args.emails, f"{len(ids)} messages queued, not {args.emails}"
    sender = get_settings().mail_from
    rows = await OutboxMessage.filter(id__in=ids).order_by("id")
    await worker.deliver_due()  # warm up both paths once, untimed
    await raw_mail(rows[:5], sender, port)
    smtp.ask("count")

    worker_rates, raw_rates = [], []
    for n in range(args.rounds):
        order = ("worker", "raw") if n % 2 == 0 else ("raw", "worker")
        line = []
        for side in order:
            if side == "worker":
                await make_due(ids)
                elapsed = await worker_mail(ids)
                assert await OutboxMessage.filter(
                    id__in=ids, status=OutboxStatus.SENT
                ).count() == len(ids)
                worker_rates.append(len(ids) / elapsed)
            else:
                elapsed = await raw_mail(rows, sender, port)
                raw_rates.append(len(ids) / elapsed)
            got = json.loads(smtp.ask("count"))
            assert got == {"messages": len(ids), "distinct": len(ids)}, (side, got)
            line.append(f"{side} {len(ids) / elapsed:.0f}/s")
        say(f"  round {n + 1}: " + ", ".join(line) + f" (each delivered {len(ids)}, once)")
    return worker_rates, raw_rates


async def bench_payments(
    args: argparse.Namespace, standin: Helper
) -> tuple[list[float], list[float]]:
    from coprod.integrations.stripe_gateway import StripeGateway
    from coprod.models import AttemptStatus, Claim, ClaimStatus, PaymentAttempt
    from coprod.services import payouts

    found = json.loads(standin.first)
    gateway = StripeGateway(found["key"], "whsec_bench", api_base=found["url"])
    payouts.use_gateway(gateway)
    say(f"payments: {args.rounds} organisations of {args.claims} approved claims ...")
    rounds = [await seed_claims(args.claims, standin, gateway, n) for n in range(args.rounds)]
    # Untimed warm-up of the raw side (the worker's first round warms nothing it reuses).
    await raw_payments(rounds[0][1][:3], "warm")

    worker_rates, raw_rates = [], []
    for n, (claim_ids, accounts, finance) in enumerate(rounds):
        order = ("worker", "raw") if n % 2 == 0 else ("raw", "worker")
        line = []
        for side in order:
            if side == "worker":
                queued = await payouts.start_pay_run(finance)
                started = time.perf_counter()
                paid = await payouts.process_payments(dt.datetime.now(dt.UTC))
                elapsed = time.perf_counter() - started
                assert len(queued) == paid == len(claim_ids), (len(queued), paid)
                worker_rates.append(len(claim_ids) / elapsed)
            else:
                elapsed = await raw_payments(accounts, f"raw-{n}")
                raw_rates.append(len(claim_ids) / elapsed)
            line.append(f"{side} {len(claim_ids) / elapsed:.0f}/s")
        per_claim = json.loads(standin.ask("transfers"))
        assert all(per_claim.get(str(c)) == 1 for c in claim_ids), "not one transfer per claim"
        assert await Claim.filter(id__in=claim_ids, status=ClaimStatus.PAID).count() == len(
            claim_ids
        )
        assert await PaymentAttempt.filter(
            claim_id__in=claim_ids, status=AttemptStatus.SUCCEEDED
        ).count() == len(claim_ids)
        say(f"  round {n + 1}: " + ", ".join(line) + " (one transfer per claim, all paid)")
    payouts.use_gateway(None)
    await gateway.aclose()
    return worker_rates, raw_rates


async def raw_payments(accounts: list[str], tag: str) -> float:
    from coprod.services import payouts

    gateway = payouts.gateway()
    started = time.perf_counter()
    for i, account_id in enumerate(accounts):
        await gateway.transfer(
            amount_pence=14000,
            account_id=account_id,
            idempotency_key=f"bench-{tag}-{i}",
            description=f"Raw transfer {i}",
            metadata={"raw": tag},
            transfer_group=f"bench-{tag}-{i}",
        )
    return time.perf_counter() - started


def report(what: str, unit: str, worker: list[float], raw: list[float], target: float) -> None:
    # The ratio is taken round by round, each round's two sides run back to back, and then
    # the median: the machine's speed drifts between rounds, which a ratio of the two sides'
    # medians (from different rounds) would count as the worker's.
    ratio = statistics.median(w / r for w, r in zip(worker, raw, strict=True))
    verdict = "met" if ratio >= target else "NOT met"
    say(
        f"{what}: worker {statistics.median(worker):.0f} {unit}/s, raw "
        f"{statistics.median(raw):.0f} {unit}/s (medians of {len(worker)} rounds); worker / raw "
        f"= {ratio:.2f}, the median of the rounds' ratios (target {target:.2f}: {verdict})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=300)
    parser.add_argument("--claims", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["mail", "payments"], default=None)
    args = parser.parse_args()

    smtp = Helper("--serve-smtp")
    standin = Helper("--serve-standin")
    try:
        async with fresh_database("worker", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.first):
            results = []
            if args.only in (None, "mail"):
                results.append(("mail", "messages", *await bench_mail(args, smtp), 0.8))
            if args.only in (None, "payments"):
                results.append(("payments", "transfers", *await bench_payments(args, standin), 0.5))
        say("\nPostgreSQL; SMTP server and Stripe stand-in each in a process of their own")
        for what, unit, worker, raw, target in results:
            report(what, unit, worker, raw, target)
    finally:
        smtp.stop()
        standin.stop()


if __name__ == "__main__":
    asyncio.run(main())
