"""Paying approved claims: Stripe Connect accounts, pay runs, the payment worker job, Stripe
webhooks. The payroll export is in coprod.services.payroll.

A pay run only writes PaymentAttempt rows in a transaction; the worker makes the transfers.
The idempotency key is derived from the claim, so a retried attempt, a second pay run or a
replayed webhook can never pay twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from coprod import db
from coprod.config import get_settings
from coprod.domain.payouts import (
    why_held,
    why_not_paid,
)
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.integrations.stripe_gateway import PaymentFailed, StripeGateway, TransferResult
from coprod.models import (
    AttemptStatus,
    AuditEvent,
    Claim,
    ClaimStatus,
    MoneyState,
    PaymentAttempt,
    Representative,
    Role,
)
from coprod.services import audit, claims, contact, money_states, payroll
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.templating import money
from coprod.validation import Checker

log = logging.getLogger("coprod.payouts")

IN_PROGRESS = "in-progress"

# Set by tests to point at the Stripe stand-in; otherwise built from settings when needed.
_gateway: StripeGateway | None = None


def gateway() -> StripeGateway:
    """One gateway (and so one connection pool) per process."""
    global _gateway
    if _gateway is None:
        _gateway = StripeGateway.from_settings(get_settings())
    return _gateway


def use_gateway(value: StripeGateway | None) -> None:
    global _gateway
    _gateway = value


STRIPE_NOT_READY_FOR_YOU = (
    "Payment set-up is not available yet. Your involvement lead will tell you how you will be paid."
)


def stripe_ready() -> bool:
    # Asks the settings rather than building a gateway (and its connection pool) just to look.
    if _gateway is not None:
        return _gateway.has_key
    return bool(get_settings().stripe_api_key.strip())


def configuration_problems() -> list[str]:
    """Set-up problems only whoever runs Coprod can fix. Shown to administrators and finance,
    never to representatives, who get a kind message instead."""
    if stripe_ready():
        return []
    return [
        "Bank transfers through Stripe are not set up: the Stripe key (STRIPE_API_KEY) is "
        "empty, so representatives cannot set up bank transfer and pay runs cannot pay. "
        "Payroll exports still work. Ask whoever runs Coprod for your organisation to add it."
    ]


def _finance(actor: Actor) -> None:
    if not actor.has(Role.FINANCE_OFFICER):
        raise Forbidden


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- payout details


def may_set_up(actor: Actor, rep: Representative) -> bool:
    return rep.organisation_id == actor.organisation_id and (
        is_lead(actor) or actor.has(Role.FINANCE_OFFICER) or is_self(actor, rep)
    )


async def payee_for(actor: Actor, rep_id: int) -> Representative:
    """Someone whose payment set-up the actor may see and change: their leads, finance, and
    the person themselves. Anyone else is a 404."""
    rep = await Representative.get_or_none(id=rep_id, organisation_id=actor.organisation_id)
    if rep is None or not may_set_up(actor, rep):
        raise NotFound
    return rep


async def set_payout_method(
    actor: Actor, rep: Representative, data: Mapping[str, Any]
) -> Representative:
    if not may_set_up(actor, rep):
        raise NotFound
    c = Checker(data)
    method = c.choice("payout_method", "how they are paid", ["stripe", "payroll"])
    reference = c.text(
        "payroll_reference", "their payroll reference", required=method == "payroll", max_length=50
    )
    national_insurance = payroll.national_insurance_from(c, actor)
    c.done()
    async with in_transaction():
        before = {"payout_method": rep.payout_method, "payroll_reference": rep.payroll_reference}
        rep.payout_method = method
        rep.payroll_reference = reference or rep.payroll_reference
        await rep.save(update_fields=["payout_method", "payroll_reference"])
        await audit.record(
            actor,
            "payout.method",
            rep,
            before=before,
            after={"payout_method": method, "payroll_reference": rep.payroll_reference},
        )
        if national_insurance is not None:
            await payroll.store_national_insurance(actor, rep, national_insurance)
    return rep


async def onboarding_link(actor: Actor, rep: Representative) -> str:
    """Give them a Stripe Express account (once) and a fresh link to set it up."""
    if not may_set_up(actor, rep):
        raise NotFound
    staff = is_lead(actor) or actor.has(Role.FINANCE_OFFICER)
    if not stripe_ready():
        raise Conflict(configuration_problems()[0] if staff else STRIPE_NOT_READY_FOR_YOU, "stripe")
    settings = get_settings()
    try:
        if not rep.stripe_account_id:
            account_id = await gateway().create_express_account(
                email=rep.email, reference=f"representative-{rep.id}"
            )
            rep.stripe_account_id = account_id
            rep.payout_method = "stripe"
            await rep.save(update_fields=["stripe_account_id", "payout_method"])
            await audit.record(
                actor, "payout.stripe_account", rep, after={"stripe_account_id": account_id}
            )
        return await gateway().onboarding_link(
            rep.stripe_account_id,
            refresh_url=f"{settings.base_url}/my/payments",
            return_url=f"{settings.base_url}/my/payments?returned=1",
        )
    except PaymentFailed as exc:
        if not staff:
            log.warning("Stripe set-up for representative %s failed: %s", rep.id, exc.reason)
            raise Conflict(
                "Bank transfer could not be set up just now. Try again later, or ask your "
                "involvement lead.",
                "stripe",
            ) from exc
        raise Conflict(f"Stripe could not set this up just now: {exc.reason}", "stripe") from exc


# --------------------------------------------------------------------------- pay runs


def transfer_group(claim_id: int) -> str:
    """Every transfer for a claim carries this, so Stripe can be asked what it already paid."""
    return f"coprod-claim-{claim_id}"


def idempotency_key(claim: Claim, refused_before: int) -> str:
    """Derived from the claim. It changes only after Stripe definitely refused a transfer (so no
    money moved); a timeout or a server error keeps the key, so a retry cannot pay twice."""
    return f"coprod-claim-{claim.id}-{refused_before}"


async def _queue(actor: Actor, claim: Claim) -> PaymentAttempt | None:
    attempts = list(await PaymentAttempt.filter(claim=claim))
    attempt = _new_attempt(actor, claim, attempts, (await claims.totals(claim)).total_pence)
    if attempt is not None:
        await attempt.save()
    return attempt


def _new_attempt(
    actor: Actor, claim: Claim, attempts: list[PaymentAttempt], amount_pence: int
) -> PaymentAttempt | None:
    """The next attempt to pay a claim (not yet saved), or None while one is under way or
    it is paid."""
    under_way = (AttemptStatus.PENDING, AttemptStatus.SUCCEEDED, AttemptStatus.HELD)
    if any(a.status in under_way for a in attempts):
        return None
    # A reversed transfer's key, like a refused one's, must not be sent again: Stripe would
    # return the reversed transfer (or, after a day, make a new one unasked).
    refused = sum(
        1
        for a in attempts
        if (a.status == AttemptStatus.FAILED and not a.retryable)
        or a.status == AttemptStatus.REVERSED
    )
    return PaymentAttempt(
        claim=claim,
        idempotency_key=idempotency_key(claim, refused),
        amount_pence=amount_pence,
        started_by=actor.user,
    )


@dataclass
class NotPaid:
    claim: Claim
    representative: Representative
    reason: str


@dataclass
class PayRun:
    queued: list[PaymentAttempt]
    not_paid: list[NotPaid]


async def pay_run(actor: Actor) -> PayRun:
    """Queue one attempt for each approved claim of people paid by Stripe, and say for every
    other approved claim why it was not paid and what to do next."""
    _finance(actor)
    queued = []
    not_paid = []
    async with in_transaction():
        approved = await (
            Claim.filter(organisation_id=actor.organisation_id, status=ClaimStatus.APPROVED)
            .order_by("id")
            .select_for_update()
        )
        # Everything a pay run reads, it reads for all the claims at once; the new attempts go
        # in as one batch. (It pays everyone due, so it must not cost a query per claim.)
        reps = {
            rep.id: rep
            for rep in await Representative.filter(
                id__in={claim.representative_id for claim in approved}
            )
        }
        by_stripe = [c for c in approved if reps[c.representative_id].payout_method == "stripe"]
        earlier: dict[int, list[PaymentAttempt]] = {c.id: [] for c in by_stripe}
        for attempt in await PaymentAttempt.filter(claim_id__in=list(earlier)):
            earlier[attempt.claim_id].append(attempt)
        totals = await claims.totals_for(by_stripe)
        new = [
            _new_attempt(actor, claim, earlier[claim.id], totals[claim.id].total_pence)
            for claim in by_stripe
        ]
        if batch := [a for a in new if a is not None]:
            await PaymentAttempt.bulk_create(batch)
        queued_ids = [claim.id for claim, a in zip(by_stripe, new, strict=True) if a is not None]
        # Read back for their ids: none was pending before, under the claims' row locks.
        queued = list(
            await PaymentAttempt.filter(
                claim_id__in=queued_ids, status=AttemptStatus.PENDING
            ).order_by("claim_id")
        )
        for claim in approved:
            rep = reps[claim.representative_id]
            if claim.id in queued_ids:
                continue
            if claim.money == MoneyState.HELD and claim.money_reason:
                not_paid.append(NotPaid(claim, rep, claim.money_reason))
                continue
            reason = why_not_paid(
                name=rep.full_name, payout_method=rep.payout_method, payment_under_way=True
            )
            if reason is not None:
                not_paid.append(NotPaid(claim, rep, reason))
        await audit.record(
            actor,
            "pay_run.start",
            ("PayRun", None),
            after={"attempts": len(queued), "not_paid": len(not_paid)},
        )
    return PayRun(queued, not_paid)


async def start_pay_run(actor: Actor) -> list[PaymentAttempt]:
    return (await pay_run(actor)).queued


async def retry(actor: Actor, claim: Claim) -> PaymentAttempt:
    """Try a failed payment again, or pay again a claim whose transfer was reversed."""
    _finance(actor)
    reversed_ = claim.status == ClaimStatus.PAYMENT_PROBLEM and claim.money == MoneyState.REVERSED
    if claim.status == ClaimStatus.PAYMENT_PROBLEM and not reversed_:
        raise Conflict(
            "Their bank returned this payment and the money is in their Stripe balance: paying "
            "again would pay twice. Ask them to update their bank details with Stripe.",
            "claim",
        )
    if claim.status != ClaimStatus.FAILED and not reversed_:
        raise Conflict("Only a claim whose payment failed can be tried again", "claim")
    async with in_transaction():
        await Claim.filter(id=claim.id).select_for_update().first()
        attempt = await _queue(actor, claim)
        if attempt is None:
            raise Conflict("A payment for this claim is already under way", "claim")
        await Claim.filter(id=claim.id).update(
            status=ClaimStatus.APPROVED,
            money=MoneyState.NONE,
            money_reason=None,
            money_changed_at=_now(),
        )
        claim.status, claim.money = ClaimStatus.APPROVED, MoneyState.NONE
        await audit.record(
            actor,
            "payment.pay_again" if reversed_ else "payment.retry",
            claim,
            after={"attempt_id": attempt.id},
        )
    return attempt


def stale_after() -> dt.timedelta:
    """How long an attempt a worker took may stay unfinished before another worker takes it."""
    return dt.timedelta(seconds=get_settings().payment_stale_seconds)


# Stripe forgets an idempotency key after 24 hours; after this, a retry looks in Stripe first.
KEY_FORGOTTEN_SOON = dt.timedelta(hours=23)


# Attempts taken at a time, and transfers in flight at once. A transfer is mostly waiting for
# Stripe, so a few at once keep the worker busy; each still has its own attempt and key.
PAYMENT_BATCH = 20
PAYMENT_CONCURRENCY = 4


async def _claim_batch(limit: int = PAYMENT_BATCH) -> list[PaymentAttempt]:
    """Take the next queued attempts. One left half-done by a worker that died is taken again
    once stale (and its `tries` shows it), and Stripe is asked what it already paid."""
    now = _now()
    ready = Q(transfer_id__isnull=True) | Q(
        transfer_id=IN_PROGRESS, updated_at__lt=now - stale_after()
    )
    async with in_transaction():
        ids = await db.lock(
            PaymentAttempt.filter(ready, status=AttemptStatus.PENDING).order_by("id").limit(limit),
            skip_locked=True,
        )
        if not ids:
            return []
        # Conditional, so only one claimant's update matches a row even without row locks
        # (SQLite); the rows marked at our exact moment are the ones we won.
        await PaymentAttempt.filter(ready, id__in=ids, status=AttemptStatus.PENDING).update(
            transfer_id=IN_PROGRESS, updated_at=now, tries=F("tries") + 1
        )
        return list(
            await PaymentAttempt.filter(
                id__in=ids, status=AttemptStatus.PENDING, transfer_id=IN_PROGRESS, updated_at=now
            ).order_by("id")
        )


@dataclass(frozen=True)
class Made:
    """A transfer the worker made, or found already made in Stripe."""

    transfer: TransferResult
    # Found in Stripe, and reversed there in full before we knew of it.
    reversed: bool = False


async def _outcomes_unknown(batch: list[PaymentAttempt]) -> set[int]:
    """The attempts whose transfer may already exist in Stripe, so Stripe must be asked before
    sending: taken before by a worker that did not finish; a retry after a failure whose outcome
    was unknown; or an idempotency key so old that Stripe may have forgotten it."""
    now = _now()
    earlier = await PaymentAttempt.filter(
        claim_id__in=[a.claim_id for a in batch], id__not_in=[a.id for a in batch]
    ).values("claim_id", "status", "retryable", "idempotency_key", "created_at")
    unknown = {
        row["claim_id"]
        for row in earlier
        if row["status"] == AttemptStatus.FAILED and row["retryable"]
    }
    first_use = {a.idempotency_key: a.created_at for a in batch}
    for row in earlier:
        key = row["idempotency_key"]
        if key in first_use:
            first_use[key] = min(first_use[key], row["created_at"])
    return {
        a.id
        for a in batch
        if a.tries > 1
        or a.claim_id in unknown
        or first_use[a.idempotency_key] < now - KEY_FORGOTTEN_SOON
    }


async def _found_in_stripe(attempt: PaymentAttempt, claim: Claim) -> Made | None:
    """Settle from what Stripe already has for the claim's transfer group: a live transfer of
    our amount to their account is the payment; one reversed in full that we have not recorded
    is a payment made and taken back; nothing means no transfer was made."""
    account = claim.representative.stripe_account_id
    known_reversed = set(
        await PaymentAttempt.filter(claim_id=claim.id, status=AttemptStatus.REVERSED).values_list(
            "transfer_id", flat=True
        )
    )
    ours = [
        t
        async for t in gateway().list_transfers(transfer_group=transfer_group(claim.id))
        if t.destination == account
        and t.amount_pence == attempt.amount_pence
        and t.id not in known_reversed
    ]
    live = [t for t in ours if not t.reversed]
    if len(live) > 1:
        log.error("claim %s has %s live transfers in Stripe: %s", claim.id, len(live), live)
    if live:
        return Made(live[-1])  # the oldest: lists come newest first
    if ours:
        return Made(ours[-1], reversed=True)
    return None


async def _transfer(attempt: PaymentAttempt, claim: Claim, look_first: bool) -> Made | None:
    """Make one claimed attempt's transfer, unless their account cannot receive it (the
    attempt is held) or Stripe already has it. Returns the transfer, or None when it was held
    or Stripe refused it, which is recorded at once."""
    rep = claim.representative
    try:
        if not rep.stripe_account_id:
            raise PaymentFailed("They have not set up a Stripe account yet", retryable=False)
        held = why_held(
            name=rep.full_name,
            transfers_active=rep.stripe_transfers_active,
            payouts_enabled=rep.stripe_payouts_enabled,
        )
        if held is not None:
            await _hold(attempt, claim, held)
            return None
        if look_first and (found := await _found_in_stripe(attempt, claim)) is not None:
            return found
        result = await gateway().transfer(
            amount_pence=attempt.amount_pence,
            account_id=rep.stripe_account_id,
            idempotency_key=attempt.idempotency_key,
            description=f"Coprod claim {claim.id}",
            metadata={"claim_id": str(claim.id), "organisation_id": str(claim.organisation_id)},
            transfer_group=transfer_group(claim.id),
        )
    except PaymentFailed as exc:
        async with in_transaction():
            # Unless Stripe's webhook recorded the transfer while we waited for the reply.
            failed = await PaymentAttempt.filter(
                id=attempt.id, status=AttemptStatus.PENDING
            ).update(
                status=AttemptStatus.FAILED,
                failure_reason=exc.reason,
                retryable=exc.retryable,
                transfer_id=None,
                updated_at=_now(),
            )
            if failed:
                await Claim.filter(id=claim.id, status=ClaimStatus.APPROVED).update(
                    status=ClaimStatus.FAILED
                )
                await audit.record(
                    Actor.system(organisation_id=claim.organisation_id),
                    "payment.failed",
                    attempt,
                    after={"reason": exc.reason, "retryable": exc.retryable},
                )
        return None
    return Made(result)


async def _hold(attempt: PaymentAttempt, claim: Claim, reason: str) -> None:
    """Park the attempt, with no transfer made, until Stripe says their account can receive
    it; tell them once what to do."""
    async with in_transaction():
        held = await PaymentAttempt.filter(id=attempt.id, status=AttemptStatus.PENDING).update(
            status=AttemptStatus.HELD, transfer_id=None, updated_at=_now()
        )
        if not held:
            return
        await Claim.filter(id=claim.id).update(
            money=MoneyState.HELD, money_reason=reason, money_changed_at=_now()
        )
        await audit.record(
            Actor.system(organisation_id=claim.organisation_id),
            "payment.held",
            attempt,
            after={"reason": reason},
        )
        # Once per hold: a payment released and then held again (its `tries` moved on) is news.
        await money_states.tell_representative(
            claim, f"payment:{attempt.id}:held:{attempt.tries}", "payment_held"
        )


async def process_payments(now: dt.datetime) -> int:
    """Worker job: make the transfers for queued attempts, a batch at a time, a few at once.

    A batch's transfers are recorded together, in one transaction, once they have all been
    made. If the worker stops before that, its attempts are taken again once stale; Stripe is
    then asked first (by transfer group) what it already paid, so nothing is paid twice."""
    paid = 0
    limit = asyncio.Semaphore(PAYMENT_CONCURRENCY)

    async def transfer(attempt: PaymentAttempt, claim: Claim, look_first: bool) -> Made | None:
        async with limit:
            return await _transfer(attempt, claim, look_first)

    while batch := await _claim_batch():
        found = await Claim.filter(id__in=[a.claim_id for a in batch]).prefetch_related(
            "representative"
        )
        claims_by_id = {c.id: c for c in found}
        unknown = await _outcomes_unknown(batch)
        results = await asyncio.gather(
            *(transfer(a, claims_by_id[a.claim_id], a.id in unknown) for a in batch),
            return_exceptions=True,
        )
        made = [
            (attempt, result, claims_by_id[attempt.claim_id])
            for attempt, result in zip(batch, results, strict=True)
            if isinstance(result, Made)
        ]
        if made:
            # Each claim's lines and expenses, for its remittance and its cost, read together.
            amounts = await claims.money_for(claim for _, _, claim in made)
            async with in_transaction():
                await _record_all_paid(
                    [(attempt, outcome.transfer, claim) for attempt, outcome, claim in made],
                    amounts,
                )
                for attempt, outcome, claim in made:
                    if outcome.reversed:
                        await money_states.record_reversed(attempt, claim)
            paid += sum(1 for _, outcome, _ in made if not outcome.reversed)
        # Passed on only once every transfer in the batch has finished and those made are
        # recorded, so none is left running when the worker logs the fault and tries again.
        for result in results:
            if isinstance(result, BaseException):
                raise result
    return paid


async def mark_paid(
    attempt: PaymentAttempt, transfer: TransferResult | str, claim: Claim | None = None
) -> None:
    """Record a transfer as made. Safe to call again (from a replayed webhook, say).

    `claim` (with its representative) saves reading it again when the caller has it; only its
    id, organisation and representative are used, never its status."""
    if isinstance(transfer, str):
        transfer = TransferResult(
            id=transfer, amount_pence=attempt.amount_pence, destination="", reversed=False
        )
    async with in_transaction():
        await record_paid(attempt, transfer, claim)


async def record_paid(
    attempt: PaymentAttempt,
    transfer: TransferResult,
    claim: Claim | None,
    amounts: claims.ClaimMoney | None = None,
) -> None:
    """mark_paid's work, inside the caller's transaction. `claim` (with its representative)
    and `amounts` (its lines and expenses) save reading them again when the caller has them."""
    await _record_all_paid(
        [(attempt, transfer, claim)], {} if amounts is None else {attempt.claim_id: amounts}
    )


async def _record_all_paid(
    made: Sequence[tuple[PaymentAttempt, TransferResult, Claim | None]],
    amounts: Mapping[int, claims.ClaimMoney],
) -> None:
    """Record transfers as made, inside the caller's transaction: each attempt succeeded, and
    each claim still waiting for its money paid, audited and remitted. A batch's attempts,
    claims and audit events are each written in one statement. Of the claims, only their id,
    organisation and representative are used, never their status."""
    now = _now()
    for attempt, transfer, _ in made:
        attempt.status = AttemptStatus.SUCCEEDED
        attempt.transfer_id = transfer.id
        attempt.destination_payment = transfer.destination_payment or attempt.destination_payment
        attempt.updated_at = now
    await PaymentAttempt.bulk_update(
        [attempt for attempt, _, _ in made],
        fields=["status", "transfer_id", "destination_payment", "updated_at"],
    )
    # Only claims waiting for this money: not one already paid, nor one whose money came back
    # (a late or replayed transfer event must not call that paid again). Locked first, so that
    # of a worker and a webhook recording the same transfer at once, only one goes on to audit
    # it and queue the remittance (SQLite writes one transaction at a time anyway).
    waiting = [ClaimStatus.APPROVED, ClaimStatus.FAILED]
    ids = [attempt.claim_id for attempt, _, _ in made]
    paid = set(await db.lock(Claim.filter(id__in=ids, status__in=waiting).order_by("id")))
    if not paid:
        return
    await Claim.filter(id__in=paid, status__in=waiting).update(
        status=ClaimStatus.PAID,
        paid_at=now,
        money=MoneyState.TRANSFERRED,
        money_reason=None,
        money_changed_at=now,
    )
    known = {claim.id: claim for _, _, claim in made if claim is not None}
    if unread := paid - known.keys():
        found = await Claim.filter(id__in=unread).prefetch_related("representative")
        known |= {claim.id: claim for claim in found}
    if unread := paid - amounts.keys():
        amounts = {**amounts, **await claims.money_for(known[i] for i in unread)}
    await money_states.money_went_out([known[i] for i in sorted(paid)], amounts)
    events = []
    for attempt, transfer, _ in made:
        if attempt.claim_id not in paid:
            continue
        claim = known[attempt.claim_id]
        events.append(
            audit.event(
                Actor.system(organisation_id=claim.organisation_id),
                "payment.succeeded",
                attempt,
                after={"transfer_id": transfer.id, "amount_pence": attempt.amount_pence},
            )
        )
        await _remit(claim, amounts[claim.id])
    await AuditEvent.bulk_create(events)


async def _remit(claim: Claim, amounts: claims.ClaimMoney) -> None:
    """Tell them what they were paid, and for what, if we have their email address."""
    rep = claim.representative
    if not rep.email:
        return
    t = amounts.totals
    await contact.notify(
        rep,
        dedupe_key=f"claim:{claim.id}:remittance",
        kind="remittance",
        organisation_id=claim.organisation_id,
        context={
            "name": rep.full_name,
            "claim_id": claim.id,
            "total": money(t.total_pence),
            "fees": money(t.fees_pence),
            "expenses": money(t.expenses_pence),
            "url": f"{get_settings().base_url}/my/claims/{claim.id}",
        },
    )
