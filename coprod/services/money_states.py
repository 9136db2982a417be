"""What became of a claim's money after a pay run, whichever way it was told: held for an
account that cannot receive it, gone out (and so counted as spend in the reports), or come back
(reversed, or returned by their bank). The representative is told each time, by email or, if
we may not write to them, through their lead's call list (reminders.call_list).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

from tortoise.transactions import in_transaction

from coprod import db
from coprod.config import get_settings
from coprod.domain.payouts import REVERSED_ACTION
from coprod.models import (
    AttemptStatus,
    Claim,
    ClaimStatus,
    MoneyState,
    PaymentAttempt,
    Representative,
)
from coprod.services import attendance, audit, claims, contact
from coprod.services.actor import Actor
from coprod.templating import money

log = logging.getLogger("coprod.money_states")

# Claims costed at a time by the periodic job.
BATCH = 20


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def tell_representative(claim: Claim, dedupe_key: str, template: str) -> None:
    """Email them about their money, once per key; if we may not, the claim's money state puts
    them on their lead's call list (reminders.call_list)."""
    rep = claim.representative
    t = await claims.totals(claim)
    sent = await contact.notify(
        rep,
        dedupe_key=dedupe_key,
        kind=template,
        organisation_id=claim.organisation_id,
        context={
            "name": rep.full_name,
            "claim_id": claim.id,
            "total": money(t.total_pence),
            "url": f"{get_settings().base_url}/my/payments",
        },
    )
    if sent.not_sent_because:
        log.info("claim %s: not sent (%s); on the call list", claim.id, sent.not_sent_because)


async def release_held(rep: Representative) -> int:
    """Their account can receive money again: send their held payments on the next tick."""
    now = _now()
    ids = list(
        # Only while the claim's money is still held: a transfer made meanwhile (by hand in
        # Stripe, say, and recorded from its webhook) has paid it.
        await PaymentAttempt.filter(
            claim__representative_id=rep.id,
            claim__money=MoneyState.HELD,
            status=AttemptStatus.HELD,
        ).values_list("id", "claim_id")
    )
    if not ids:
        return 0
    await PaymentAttempt.filter(id__in=[i for i, _ in ids], status=AttemptStatus.HELD).update(
        status=AttemptStatus.PENDING, transfer_id=None, updated_at=now
    )
    await Claim.filter(id__in=[c for _, c in ids], money=MoneyState.HELD).update(
        money=MoneyState.NONE, money_reason=None, money_changed_at=now
    )
    await audit.record(
        Actor.system(via="stripe", organisation_id=rep.organisation_id),
        "payment.released",
        rep,
        after={"claims": [c for _, c in ids]},
    )
    return len(ids)


async def money_went_out(
    found: Sequence[Claim], money: Mapping[int, claims.ClaimMoney] | None = None
) -> None:
    """The claims' money has left the trust (transfers made, or sent to payroll): only now
    does it count as spend in the reports. Call inside the transaction that records it; it
    counts a claim once however often it is called. `money`: their lines and expenses, by
    claim id, if read."""
    await _count_spend(found, money, went_out=True)


async def money_came_back(claim: Claim) -> None:
    """The claim's money did not reach them after all (reversed, or the payout failed): it no
    longer counts as spend. Through the same roll-up path as costing it."""
    await _count_spend([claim], None, went_out=False)


async def _count_spend(
    found: Sequence[Claim], money: Mapping[int, claims.ClaimMoney] | None, *, went_out: bool
) -> None:
    # Locked, so that of two transactions counting a claim at once only one costs it (SQLite
    # writes one transaction at a time anyway).
    ids = [claim.id for claim in found]
    flip = Claim.filter(id__in=ids, spend_counted=not went_out)
    changed = set(await db.lock(flip.order_by("id")))
    if not changed:
        return
    await Claim.filter(id__in=changed).update(spend_counted=went_out)
    costed = [claim for claim in found if claim.id in changed]
    await attendance.cost_involvements(costed, went_out=went_out, money=money)


async def count_payroll_spend(now: dt.datetime) -> int:
    """Periodic job: claims sent to payroll count as spend. Done here, not in the export,
    because costing a claim updates the report roll-ups row by row, and an export of many
    claims must stay one quick request. Safe to run twice at once: each claim is counted by
    whichever run flips its flag."""
    counted = 0
    while True:
        async with in_transaction():
            batch = (
                await Claim.filter(status=ClaimStatus.SENT_TO_PAYROLL, spend_counted=False)
                .order_by("id")
                .limit(BATCH)
                .select_for_update(skip_locked=True)
            )
            await money_went_out(batch)
        if not batch:
            return counted
        counted += len(batch)


async def record_reversed(attempt: PaymentAttempt, claim: Claim) -> None:
    """Inside the caller's transaction: the transfer was taken back in full. The claim is no
    longer paid; finance may pay it again (a new transfer with a new key)."""
    now = _now()
    reversed_ = await PaymentAttempt.filter(id=attempt.id, status=AttemptStatus.SUCCEEDED).update(
        status=AttemptStatus.REVERSED, updated_at=now
    )
    if not reversed_:
        return
    await Claim.filter(id=claim.id).update(
        status=ClaimStatus.PAYMENT_PROBLEM,
        money=MoneyState.REVERSED,
        money_reason=REVERSED_ACTION,
        money_changed_at=now,
    )
    await money_came_back(claim)
    await audit.record(
        Actor.system(via="stripe", organisation_id=claim.organisation_id),
        "payment.reversed",
        attempt,
        after={"transfer_id": attempt.transfer_id, "amount_pence": attempt.amount_pence},
    )
    await tell_representative(claim, f"payment:{attempt.id}:reversed", "payment_reversed")
