"""A pay run of `--claims` approved claims through the Stripe stand-in, against a raw loop of
transfers, with proof that each claim was paid exactly once.

    .venv/bin/python bench/payrun.py [--claims 1000] [--rounds 2]

It makes a fresh PostgreSQL database and applies the migrations, starts the Stripe stand-in
(`tests/stripe_standin/`) in a process of its own (the real `stripe` library talks to it over
HTTP), and seeds one organisation with `--claims` representatives whose Stripe Express accounts
are set up, through the services a lead uses. Then:

- **rounds**: each round approves one new claim per person (amounts vary from claim to claim).
  The worker side is what finance and the worker do: the pay run (`payouts.pay_run`) and then
  the worker's `payouts.process_payments` until every claim is paid, timed together. The raw
  side is a loop of `gateway.transfer(...)` calls of the same amounts (to accounts of the same
  kind that no representative holds, so they are nobody's claims). Rounds alternate which side
  goes first. After each, the stand-in's transfers must give the same answers: every claim
  exactly one transfer in its `transfer_group`, for the claim's amount, to its
  representative's account; the raw side the same amounts.
- **faults**: one more round of claims paid while the stand-in answers some transfer requests
  with 500s and holds some replies until the client gives up (the transfer was made; only the
  reply was lost), with a gateway whose timeout is shorter than the hold. Failed payments are
  tried again as finance would (`payouts.retry`) until all are paid. Proof as above.
- **reconciliation**: the daily job (`reconciliation.reconcile`) compares every transfer with
  the claims and must find no differences.

It prints transfers per second for each side, per round and as medians, the ratio, the faults
injected, and how long reconciliation took. The database is dropped at the end.
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
    say,
    stripe_accounts,
    stripe_reps,
    trust,
)

# Long enough for a run with faults; a pay run that takes longer has gone wrong.
SETTLE_SECONDS = 300.0


def amounts_for(n: int, round_no: int) -> list[int]:
    """Different amounts from claim to claim and round to round, so a mix-up would show."""
    return [9000 + 25 * ((i * 7 + round_no * 13) % 97) for i in range(n)]


async def pay(finance: Any, claim_ids: list[int]) -> tuple[float, float, int]:
    """Finance's pay run, then the worker until every claim is paid; failed payments are tried
    again as finance would. Returns (seconds for the pay run, seconds in all, retries)."""
    from coprod.models import Claim, ClaimStatus
    from coprod.services import payouts

    started = time.perf_counter()
    run = await payouts.pay_run(finance)
    assert len(run.queued) == len(claim_ids), (len(run.queued), run.not_paid[:3])
    queued = time.perf_counter()
    retries = 0
    while True:
        await payouts.process_payments(dt.datetime.now(dt.UTC))
        unpaid = await Claim.filter(id__in=claim_ids).exclude(status=ClaimStatus.PAID)
        if not unpaid:
            break
        failed = [c for c in unpaid if c.status == ClaimStatus.FAILED]
        for claim in failed:
            await payouts.retry(finance, claim)
        retries += len(failed)
        if not failed:
            await asyncio.sleep(0.2)  # waiting for the worker's own retry
        assert time.perf_counter() - started < SETTLE_SECONDS, f"{len(unpaid)} claims unpaid"
    return queued - started, time.perf_counter() - started, retries


async def raw(gateway: Any, accounts: list[str], amounts: list[int], tag: str) -> float:
    started = time.perf_counter()
    for i, (account_id, pence) in enumerate(zip(accounts, amounts, strict=True)):
        await gateway.transfer(
            amount_pence=pence,
            account_id=account_id,
            idempotency_key=f"bench-{tag}-{i}",
            description=f"Raw transfer {i}",
            metadata={"raw": tag},
            transfer_group=f"bench-{tag}-{i}",
        )
    return time.perf_counter() - started


async def prove_once_each(
    standin: Helper, claim_ids: list[int], amounts: list[int], reps: list[Any], org_id: int
) -> None:
    """Every claim exactly one transfer, in its group, for its amount, to its person."""
    from coprod.models import AttemptStatus, Claim, ClaimStatus, PaymentAttempt
    from coprod.services import payouts

    found = json.loads(standin.ask("claims"))
    wrong = []
    for claim_id, pence, rep in zip(claim_ids, amounts, reps, strict=True):
        transfers = found.get(str(claim_id), [])
        expected = [
            [pence, 0, payouts.transfer_group(claim_id), rep.stripe_account_id, str(org_id)]
        ]
        if [t[1:] for t in transfers] != expected:
            wrong.append((claim_id, transfers))
    assert not wrong, f"{len(wrong)} claims not paid exactly once: {wrong[:3]}"
    assert await Claim.filter(id__in=claim_ids, status=ClaimStatus.PAID).count() == len(claim_ids)
    assert await PaymentAttempt.filter(
        claim_id__in=claim_ids, status=AttemptStatus.SUCCEEDED
    ).count() == len(claim_ids)


async def bench(args: argparse.Namespace, standin: Helper) -> None:
    from coprod.integrations.stripe_gateway import StripeGateway
    from coprod.models import ReconciliationItem
    from coprod.services import payouts, reconciliation

    found = json.loads(standin.first)
    gateway = StripeGateway(found["key"], "whsec_bench", api_base=found["url"])
    payouts.use_gateway(gateway)
    n = args.claims
    say(f"seeding {n} representatives with Stripe accounts, and {n} raw accounts ...")
    lead, finance, org_id = await trust("Payshire NHS Trust")
    reps = await stripe_reps(lead, n, standin, gateway)
    raw_accounts = await stripe_accounts(gateway, standin, [f"raw-{i}" for i in range(n)])
    await raw(gateway, raw_accounts[:3], [100, 100, 100], "warm")  # untimed warm-up

    worker_rates, raw_rates = [], []
    for round_no in range(args.rounds):
        amounts = amounts_for(n, round_no)
        claim_ids = await approved_claims(org_id, reps, amounts, weeks_ago=round_no + 1)
        order = ("worker", "raw") if round_no % 2 == 0 else ("raw", "worker")
        line = []
        for side in order:
            if side == "worker":
                queuing, elapsed, retries = await pay(finance, claim_ids)
                assert retries == 0, "a payment failed with no fault injected"
                await prove_once_each(standin, claim_ids, amounts, reps, org_id)
                worker_rates.append(n / elapsed)
                line.append(
                    f"worker {n / elapsed:.0f}/s (pay run {queuing:.2f}s of {elapsed:.2f}s)"
                )
            else:
                elapsed = await raw(gateway, raw_accounts, amounts, f"raw-{round_no}")
                raw_rates.append(n / elapsed)
                line.append(f"raw {n / elapsed:.0f}/s")
        say(f"  round {round_no + 1}: " + ", ".join(line) + " (each claim paid once)")

    # Faults: 500s (nothing done) and lost replies (done, reply held past the client's timeout).
    faulty = StripeGateway(found["key"], "whsec_bench", api_base=found["url"], timeout=1.0)
    payouts.use_gateway(faulty)
    amounts = amounts_for(n, args.rounds)
    claim_ids = await approved_claims(org_id, reps, amounts, weeks_ago=args.rounds + 1)
    assert standin.ask(f"fail /v1/transfers 500 {args.errors}") == "ok"
    assert standin.ask(f"hang /v1/transfers 1.5 {args.lost}") == "ok"
    _, elapsed, retries = await pay(finance, claim_ids)
    met = json.loads(standin.ask("faults"))
    assert standin.ask("clear") == "ok"
    await prove_once_each(standin, claim_ids, amounts, reps, org_id)
    say(
        f"  with faults: {met.get('status', 0)} answers of 500 and {met.get('hang', 0)} lost "
        f"replies; {retries} payments tried again by finance; {n / elapsed:.0f}/s; "
        "each claim paid once"
    )
    payouts.use_gateway(gateway)
    await faulty.aclose()

    started = time.perf_counter()
    opened = await reconciliation.reconcile(dt.datetime.now(dt.UTC))
    took = time.perf_counter() - started
    items = await ReconciliationItem.all()
    assert opened == 0 and not items, [i.description for i in items[:3]]
    transfers = n * (args.rounds * 2 + 1) + 3
    say(f"  reconciliation: {transfers} transfers compared in {took:.1f}s, no differences")
    payouts.use_gateway(None)
    await gateway.aclose()

    w, r = statistics.median(worker_rates), statistics.median(raw_rates)
    say(
        f"\nPostgreSQL; Stripe stand-in in a process of its own; {n} claims a round\n"
        f"pay run: worker {w:.0f} transfers/s, raw {r:.0f} transfers/s (medians of "
        f"{args.rounds} rounds); worker / raw = {w / r:.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--errors", type=int, default=12, help="answers of 500 to inject")
    parser.add_argument("--lost", type=int, default=6, help="replies to lose")
    args = parser.parse_args()
    standin = Helper("--serve-standin")
    try:
        async with fresh_database("payrun"):
            await bench(args, standin)
    finally:
        standin.stop()


if __name__ == "__main__":
    asyncio.run(main())
