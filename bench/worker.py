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
  (`tests/stripe_standin.py`, in a process of its own; the real `stripe` library talks to
  it). The worker side is a pay run (`payouts.start_pay_run`, what finance starts, untimed)
  and then the worker's `process_payments()`, timed: claiming each attempt, the transfer,
  marking the claim paid, the audit event and the remittance email; the raw side is a loop
  of `gateway.transfer(...)` calls of the same amounts to the same accounts (fresh idempotency
  keys). The stand-in is then asked for its transfers: exactly one per claim, and every claim
  paid. Target: at least 50%.

Rounds alternate which side goes first. It prints messages (or transfers) per second for
each side, per round and as medians, and the ratio. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def say(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- helper processes
# Each answers one line per command on stdin, so the servers do not share this process's CPU
# time with the code being measured.


def serve_smtp() -> None:
    """An aiosmtpd server that counts the Message-IDs it has been handed."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    seen: Counter[str] = Counter()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    seen[line.split(b":", 1)[1].strip().decode()] += 1
                    break
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    for command in sys.stdin:
        if command.strip() == "count":
            print(json.dumps({"messages": sum(seen.values()), "distinct": len(seen)}), flush=True)
            seen.clear()
    controller.stop()


def serve_standin() -> None:
    """The Stripe stand-in, with onboarding and a count of transfers per claim on request."""
    from tests.stripe_standin import StripeStandIn

    standin = StripeStandIn().start()
    print(json.dumps({"url": standin.url, "key": standin.api_key}), flush=True)
    for command in sys.stdin:
        word, _, arg = command.strip().partition(" ")
        if word == "onboard":
            for account_id in arg.split(","):
                standin.complete_onboarding(account_id)
            print("ok", flush=True)
        elif word == "transfers":
            per_claim = Counter(
                t["metadata"].get("claim_id") for t in list(standin.transfers.values())
            )
            print(json.dumps(per_claim), flush=True)
    standin.stop()


class Helper:
    def __init__(self, mode: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.first = self.read()

    def read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --------------------------------------------------------------------------- seeding


async def trust(name: str) -> tuple[Any, Any, int]:
    from coprod.models import Role
    from coprod.services import auth
    from coprod.services import people as people_service
    from coprod.services.actor import Actor

    system = Actor.system(via="cli")
    org = await people_service.create_organisation(system, name)
    slug = name.split()[0].lower()
    lead = await people_service.create_user(
        system,
        email=f"lead@{slug}.example",
        full_name="Lena Lead",
        organisation=org,
        roles=[Role.INVOLVEMENT_LEAD],
    )
    finance = await people_service.create_user(
        system,
        email=f"finance@{slug}.example",
        full_name="Fin Ance",
        organisation=org,
        roles=[Role.FINANCE_OFFICER],
    )
    return await auth.actor_for(lead, org.id), await auth.actor_for(finance, org.id), org.id


async def rep_of(lead: Any, i: int, **extra: Any) -> Any:
    from coprod.services import contracts, representatives, wellbeing

    rep = await representatives.create(
        lead,
        {
            "full_name": f"Person {i:04d}",
            "representative_type": "patient",
            "email": f"person{i}@{lead.organisation_id}.bench.example",
            "contact_channels": ["email"],
            "payment_preference": "paid",
            **extra,
        },
    )
    await wellbeing.give_consent(lead, rep, {"purpose": "contact"})
    today = dt.date.today()
    await contracts.create(
        lead,
        rep,
        {
            "role_title": "Patient representative",
            "starts_on": (today - dt.timedelta(days=60)).isoformat(),
            "ends_on": (today + dt.timedelta(days=700)).isoformat(),
        },
    )
    return rep


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
    from coprod.models import Claim, ClaimLine, ClaimStatus, LineKind

    lead, finance, org_id = await trust(f"Payshire{round_no} NHS Trust")
    claims, accounts = [], []
    today = dt.date.today()
    for i in range(n):
        rep = await rep_of(lead, i)
        account_id = await gateway.create_express_account(
            email=rep.email, reference=f"bench-{rep.id}"
        )
        accounts.append(account_id)
        rep.payout_method = "stripe"
        rep.stripe_account_id = account_id
        rep.stripe_payouts_enabled = rep.stripe_transfers_active = True
        await rep.save(
            update_fields=[
                "payout_method",
                "stripe_account_id",
                "stripe_payouts_enabled",
                "stripe_transfers_active",
            ]
        )
        claim = await Claim.create(
            organisation_id=org_id,
            representative=rep,
            period_start=today - dt.timedelta(days=30),
            period_end=today,
            status=ClaimStatus.APPROVED,
        )
        await ClaimLine.create(
            claim=claim,
            kind=LineKind.FEE,
            day=today - dt.timedelta(days=20),
            minutes=300,
            band="day",
            amount_pence=14000,
            description="Full day: Service design workshop",
        )
        claims.append(claim.id)
    assert standin.ask("onboard " + ",".join(accounts)) == "ok"
    return claims, accounts, finance


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
    w, r = statistics.median(worker), statistics.median(raw)
    verdict = "met" if w / r >= target else "NOT met"
    say(
        f"{what}: worker {w:.0f} {unit}/s, raw {r:.0f} {unit}/s (medians of {len(worker)} "
        f"rounds); worker / raw = {w / r:.2f} (target {target:.2f}: {verdict})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=300)
    parser.add_argument("--claims", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["mail", "payments"], default=None)
    args = parser.parse_args()

    name = f"coprod_bench_worker_{uuid.uuid4().hex[:8]}"
    database_url = f"postgres://postgres@127.0.0.1:5432/{name}?minsize=1&maxsize=20"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    smtp = Helper("--serve-smtp")
    standin = Helper("--serve-standin")
    try:
        os.environ.update(
            COPROD_ENV="test",
            DATABASE_URL=database_url,
            SECRET_KEY="bench-secret-key-that-is-long-enough-1234567890",
            BASE_URL="http://127.0.0.1",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.first,
        )
        from coprod import db
        from coprod.config import get_settings

        get_settings.cache_clear()
        await db.migrate(database_url)
        await db.init_db(database_url)
        results = []
        if args.only in (None, "mail"):
            results.append(("mail", "messages", *await bench_mail(args, smtp), 0.8))
        if args.only in (None, "payments"):
            results.append(("payments", "transfers", *await bench_payments(args, standin), 0.5))
        await db.close_db()
        say("\nPostgreSQL; SMTP server and Stripe stand-in each in a process of their own")
        for what, unit, worker, raw, target in results:
            report(what, unit, worker, raw, target)
    finally:
        smtp.stop()
        standin.stop()
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve-smtp"]:
        serve_smtp()
    elif sys.argv[1:] == ["--serve-standin"]:
        serve_standin()
    else:
        asyncio.run(main())
