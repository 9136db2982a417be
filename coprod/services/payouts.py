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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from coprod.config import get_settings
from coprod.domain.payouts import why_not_paid
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.integrations.stripe_gateway import PaymentFailed, StripeGateway, WebhookInvalid
from coprod.models import (
    AttemptStatus,
    Claim,
    ClaimStatus,
    PaymentAttempt,
    Representative,
    Role,
    StripeEvent,
)
from coprod.services import audit, claims, contact, payroll
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.templating import money
from coprod.validation import Checker, ValidationFailed, record_id

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


def _may_set_up(actor: Actor, rep: Representative) -> bool:
    return rep.organisation_id == actor.organisation_id and (
        is_lead(actor) or actor.has(Role.FINANCE_OFFICER) or is_self(actor, rep)
    )


async def payee_for(actor: Actor, rep_id: int) -> Representative:
    """Someone whose payment set-up the actor may see and change: their leads, finance, and
    the person themselves. Anyone else is a 404."""
    rep = await Representative.get_or_none(id=rep_id, organisation_id=actor.organisation_id)
    if rep is None or not _may_set_up(actor, rep):
        raise NotFound
    return rep


async def set_payout_method(
    actor: Actor, rep: Representative, data: Mapping[str, Any]
) -> Representative:
    if not _may_set_up(actor, rep):
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
    if not _may_set_up(actor, rep):
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
    if any(a.status in (AttemptStatus.PENDING, AttemptStatus.SUCCEEDED) for a in attempts):
        return None
    refused = sum(1 for a in attempts if a.status == AttemptStatus.FAILED and not a.retryable)
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
    _finance(actor)
    if claim.status != ClaimStatus.FAILED:
        raise Conflict("Only a claim whose payment failed can be tried again", "claim")
    async with in_transaction():
        await Claim.filter(id=claim.id).select_for_update().first()
        attempt = await _queue(actor, claim)
        if attempt is None:
            raise Conflict("A payment for this claim is already under way", "claim")
        claim.status = ClaimStatus.APPROVED
        await claim.save(update_fields=["status"])
        await audit.record(actor, "payment.retry", claim, after={"attempt_id": attempt.id})
    return attempt


STALE = dt.timedelta(minutes=10)


# Attempts taken at a time, and transfers in flight at once. A transfer is mostly waiting for
# Stripe, so a few at once keep the worker busy; each still has its own attempt and key.
PAYMENT_BATCH = 20
PAYMENT_CONCURRENCY = 4


async def _claim_batch(limit: int = PAYMENT_BATCH) -> list[PaymentAttempt]:
    """Take the next queued attempts. One left half-done by a worker that died is taken again
    after a while: it keeps its idempotency key, so Stripe will not pay it twice."""
    now = _now()
    ready = Q(transfer_id__isnull=True) | Q(transfer_id=IN_PROGRESS, updated_at__lt=now - STALE)
    async with in_transaction():
        ids = (
            await PaymentAttempt.filter(ready, status=AttemptStatus.PENDING)
            .order_by("id")
            .limit(limit)
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)
        )
        if not ids:
            return []
        # Conditional, so only one claimant's update matches a row even without row locks
        # (SQLite); the rows marked at our exact moment are the ones we won.
        await PaymentAttempt.filter(ready, id__in=ids, status=AttemptStatus.PENDING).update(
            transfer_id=IN_PROGRESS, updated_at=now
        )
        return list(
            await PaymentAttempt.filter(
                id__in=ids, status=AttemptStatus.PENDING, transfer_id=IN_PROGRESS, updated_at=now
            ).order_by("id")
        )


async def _transfer(attempt: PaymentAttempt, claim: Claim) -> str | None:
    """Make one claimed attempt's transfer. Returns the transfer's id, or None when Stripe
    refused it, which is recorded at once."""
    rep = claim.representative
    try:
        if not rep.stripe_account_id:
            raise PaymentFailed("They have not set up a Stripe account yet", retryable=False)
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
    return result.id


async def process_payments(now: dt.datetime) -> int:
    """Worker job: make the transfers for queued attempts, a batch at a time, a few at once.

    A batch's transfers are recorded together, in one transaction, once they have all been
    made. If the worker stops before that, its attempts are taken again once stale and sent
    with the same idempotency keys, so Stripe returns the transfers it already made."""
    paid = 0
    limit = asyncio.Semaphore(PAYMENT_CONCURRENCY)

    async def transfer(attempt: PaymentAttempt, claim: Claim) -> str | None:
        async with limit:
            return await _transfer(attempt, claim)

    while batch := await _claim_batch():
        found = await Claim.filter(id__in=[a.claim_id for a in batch]).prefetch_related(
            "representative"
        )
        claims_by_id = {c.id: c for c in found}
        results = await asyncio.gather(
            *(transfer(a, claims_by_id[a.claim_id]) for a in batch), return_exceptions=True
        )
        made = [
            (attempt, result, claims_by_id[attempt.claim_id])
            for attempt, result in zip(batch, results, strict=True)
            if isinstance(result, str)
        ]
        if made:
            async with in_transaction():
                for attempt, transfer_id, claim in made:
                    await _record_paid(attempt, transfer_id, claim)
            paid += len(made)
        # Passed on only once every transfer in the batch has finished and those made are
        # recorded, so none is left running when the worker logs the fault and tries again.
        for result in results:
            if isinstance(result, BaseException):
                raise result
    return paid


async def mark_paid(attempt: PaymentAttempt, transfer_id: str, claim: Claim | None = None) -> None:
    """Record a transfer as made. Safe to call again (from a replayed webhook, say).

    `claim` (with its representative) saves reading it again when the caller has it; only its
    id, organisation and representative are used, never its status."""
    async with in_transaction():
        await _record_paid(attempt, transfer_id, claim)


async def _record_paid(attempt: PaymentAttempt, transfer_id: str, claim: Claim | None) -> None:
    """mark_paid's work, inside the caller's transaction."""
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.transfer_id = transfer_id
    await attempt.save(update_fields=["status", "transfer_id", "updated_at"])
    # Conditional, so of a worker and a webhook recording the same transfer at once, only
    # one goes on to audit it and queue the remittance.
    paid = await (
        Claim.filter(id=attempt.claim_id)
        .exclude(status=ClaimStatus.PAID)
        .update(status=ClaimStatus.PAID, paid_at=_now())
    )
    if not paid:
        return
    if claim is None:
        claim = await Claim.get(id=attempt.claim_id).prefetch_related("representative")
    await audit.record(
        Actor.system(organisation_id=claim.organisation_id),
        "payment.succeeded",
        attempt,
        after={"transfer_id": transfer_id, "amount_pence": attempt.amount_pence},
    )
    rep = claim.representative
    if rep.email:
        t = await claims.totals(claim)
        await contact.email_representative(
            rep,
            dedupe_key=f"claim:{claim.id}:remittance",
            template="remittance",
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


# --------------------------------------------------------------------------- webhooks


async def handle_webhook(payload: bytes, signature: str) -> str:
    """Treat the webhook as a trigger only: check the signature, then read the truth from
    Stripe, and act idempotently. Returns what was done, for the log."""
    try:
        event = gateway().verify_event(payload, signature)
    except WebhookInvalid as exc:
        raise ValidationFailed.one("signature", "The Stripe signature is missing or wrong") from exc
    event_id = str(event.get("id", ""))
    if not event_id or await StripeEvent.filter(event_id=event_id).exists():
        return "already handled"
    # Events about a connected account can only be read in that account.
    fresh = await gateway().retrieve_event(event_id, account_id=event.get("account"))
    kind = str(fresh.get("type", ""))
    obj = fresh.get("data", {}).get("object", {})
    # Recorded in the same transaction as what the event makes us do: if that fails (Stripe
    # cannot be reached, say), the event is not marked handled and Stripe's redelivery is
    # acted on. A concurrent delivery of the same event waits on the unique event id.
    async with in_transaction():
        _, created = await StripeEvent.get_or_create(event_id=event_id, defaults={"type": kind})
        if not created:
            return "already handled"
        if kind == "account.updated" and obj.get("id"):
            rep = await Representative.get_or_none(stripe_account_id=obj["id"])
            if rep is not None:
                enabled = await gateway().payouts_enabled(obj["id"])
                if enabled != rep.stripe_payouts_enabled:
                    rep.stripe_payouts_enabled = enabled
                    await rep.save(update_fields=["stripe_payouts_enabled"])
                    await audit.record(
                        Actor.system(via="stripe", organisation_id=rep.organisation_id),
                        "payout.enabled" if enabled else "payout.disabled",
                        rep,
                    )
            return kind
        if kind.startswith("transfer.") and obj.get("id"):
            transfer = await gateway().retrieve_transfer(obj["id"])
            claim_id = str((obj.get("metadata") or {}).get("claim_id", ""))
            attempt = (
                await PaymentAttempt.filter(claim_id=record_id(claim_id)).order_by("-id").first()
                if record_id(claim_id) is not None
                else None
            )
            # Only a transfer that is ours to the penny and to the right account settles a claim.
            if (
                attempt is not None
                and not transfer.reversed
                and transfer.amount_pence == attempt.amount_pence
            ):
                claim = await Claim.get(id=attempt.claim_id).prefetch_related("representative")
                if transfer.destination == claim.representative.stripe_account_id:
                    await mark_paid(attempt, transfer.id)
            return kind
        return f"ignored {kind}"
