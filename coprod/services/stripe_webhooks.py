"""Stripe's webhooks: each event is only a trigger. Its signature is checked, it is recorded
once, and the object it names is read again from Stripe; then what happened to the money is
recorded through the payment services (coprod.services.payouts): an account able to receive
money again, a transfer made or reversed, a payout to the bank paid or returned.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from coprod.domain.payouts import PAYOUT_FAILED_ACTION
from coprod.integrations.stripe_gateway import PaymentFailed, WebhookInvalid
from coprod.models import (
    AttemptStatus,
    Claim,
    ClaimStatus,
    MoneyState,
    PaymentAttempt,
    Representative,
    StripeEvent,
)
from coprod.services import audit, money_states, payouts
from coprod.services.actor import Actor
from coprod.services.payouts import gateway
from coprod.validation import ValidationFailed, record_id

log = logging.getLogger("coprod.stripe_webhooks")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    account = event.get("account")
    fresh = await gateway().retrieve_event(event_id, account_id=account)
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
                await refresh_account(rep)
            return kind
        if kind == "transfer.reversed" and obj.get("id"):
            await _transfer_reversed(str(obj["id"]), obj)
            return kind
        if kind.startswith("transfer.") and obj.get("id"):
            await _transfer_made(str(obj["id"]), obj)
            return kind
        if kind in ("payout.paid", "payout.failed") and obj.get("id") and account:
            await _payout(str(obj["id"]), str(account))
            return kind
        return f"ignored {kind}"


async def refresh_account(rep: Representative) -> None:
    """Read what Stripe says their account can do now, store it, and send any payments held
    for it once it can receive them."""
    if not rep.stripe_account_id:
        return
    status = await gateway().account_status(rep.stripe_account_id)
    before = (rep.stripe_payouts_enabled, rep.stripe_transfers_active)
    after = (status.payouts_enabled, status.transfers_active)
    if before != after:
        rep.stripe_payouts_enabled, rep.stripe_transfers_active = after
        await rep.save(update_fields=["stripe_payouts_enabled", "stripe_transfers_active"])
        await audit.record(
            Actor.system(via="stripe", organisation_id=rep.organisation_id),
            "payout.enabled" if status.payouts_enabled else "payout.disabled",
            rep,
            before={"payouts_enabled": before[0], "transfers_active": before[1]},
            after={"payouts_enabled": after[0], "transfers_active": after[1]},
        )
    if status.payouts_enabled and status.transfers_active:
        await money_states.release_held(rep)


async def refresh_on_return(actor: Actor, rep: Representative) -> Representative:
    """They came back from Stripe's onboarding: store what Stripe says their account can do
    now (and send payments held for it), without waiting for the webhook. If Stripe cannot be
    asked just now, the webhook does it later."""
    if (
        not payouts.may_set_up(actor, rep)
        or not rep.stripe_account_id
        or not payouts.stripe_ready()
    ):
        return rep
    try:
        async with in_transaction():
            await refresh_account(rep)
    except PaymentFailed as exc:
        log.warning("could not read Stripe account of representative %s: %s", rep.id, exc.reason)
    return await Representative.get(id=rep.id)


async def _transfer_made(transfer_id: str, obj: Mapping[str, Any]) -> None:
    transfer = await gateway().retrieve_transfer(transfer_id)
    claim_id = str((obj.get("metadata") or {}).get("claim_id", ""))
    attempt = (
        await PaymentAttempt.filter(
            claim_id=record_id(claim_id),
            status__in=[AttemptStatus.PENDING, AttemptStatus.SUCCEEDED, AttemptStatus.FAILED],
        )
        .order_by("-id")
        .first()
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
            await payouts.record_paid(attempt, transfer, claim)


async def _transfer_reversed(transfer_id: str, obj: Mapping[str, Any]) -> None:
    transfer = await gateway().retrieve_transfer(transfer_id)
    attempt = await PaymentAttempt.get_or_none(transfer_id=transfer.id)
    if attempt is None:
        return  # not a transfer we recorded (one made by hand in Stripe, say)
    if not transfer.reversed:
        # Part of it still reached them, so the claim stays paid; finance sees it in Stripe.
        log.warning("transfer %s partly reversed: %s", transfer.id, transfer.amount_reversed_pence)
        return
    claim = await Claim.get(id=attempt.claim_id).prefetch_related("representative")
    await money_states.record_reversed(attempt, claim)


async def _payout(payout_id: str, account_id: str) -> None:
    """A payout from their Stripe balance to their bank was paid or failed: find the claims
    whose money it carried (each transfer's payment, or an earlier failed payout it sends
    again) and move their money on."""
    payout = await gateway().retrieve_payout(payout_id, account_id=account_id)
    if payout.status not in ("paid", "failed"):
        return
    sources = await gateway().payout_sources(payout_id, account_id=account_id)
    attempts = await PaymentAttempt.filter(
        Q(destination_payment__in=sources) | Q(payout_id__in=sources),
        status=AttemptStatus.SUCCEEDED,
        claim__representative__stripe_account_id=account_id,
    ).prefetch_related("claim__representative")
    now = _now()
    for attempt in attempts:
        claim = attempt.claim
        attempt.payout_id = payout.id
        await attempt.save(update_fields=["payout_id", "updated_at"])
        system = Actor.system(via="stripe", organisation_id=claim.organisation_id)
        if payout.status == "paid":
            if claim.money == MoneyState.PAID_OUT:
                continue
            came_back = claim.money == MoneyState.PAYOUT_FAILED
            await Claim.filter(id=claim.id).update(
                status=ClaimStatus.PAID,
                money=MoneyState.PAID_OUT,
                money_reason=None,
                money_changed_at=now,
            )
            if came_back:
                await money_states.money_went_out([claim])
            await audit.record(system, "payment.paid_out", attempt, after={"payout_id": payout.id})
            continue
        if claim.money == MoneyState.PAYOUT_FAILED:
            continue
        reason = f"{payout.failure_message} {PAYOUT_FAILED_ACTION}".strip()
        await Claim.filter(id=claim.id).update(
            status=ClaimStatus.PAYMENT_PROBLEM,
            money=MoneyState.PAYOUT_FAILED,
            money_reason=reason,
            money_changed_at=now,
        )
        await money_states.money_came_back(claim)
        await audit.record(
            system,
            "payment.payout_failed",
            attempt,
            after={"payout_id": payout.id, "failure_code": payout.failure_code},
        )
        await money_states.tell_representative(
            claim, f"payment:{attempt.id}:payout:{payout.id}", "payment_payout_failed"
        )
