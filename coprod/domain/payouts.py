"""Why a pay run leaves an approved claim unpaid, and what finance can do about it."""

from __future__ import annotations


def why_not_paid(*, name: str, payout_method: str | None, payment_under_way: bool) -> str | None:
    """None when a pay run queues the claim for a bank transfer; otherwise the reason and the
    next step, in words finance can act on. (A transfer Stripe refuses, say because someone's
    set-up is not finished, fails with Stripe's reason and is listed with the failed payments.)"""
    if payout_method is None:
        return (
            f"No payment method chosen: ask {name} to choose how they are paid, "
            "or record payroll for them"
        )
    if payout_method == "payroll":
        return "Paid through payroll: export the payroll claims to pay it"
    if payment_under_way:
        return "A payment is already under way: it goes out within a minute, so nothing to do"
    return None


def why_held(*, name: str, transfers_active: bool, payouts_enabled: bool) -> str | None:
    """None when, as Stripe last reported, their account can take a transfer and pass it on
    to their bank; otherwise why the payment waits. It waits rather than fails: no transfer is
    made, and it is sent once Stripe says the account is fixed.

    Stripe would accept a transfer with payouts disabled, but the money would sit in their
    Stripe balance, not reach them; so both must be on."""
    if transfers_active and payouts_enabled:
        return None
    return f"Bank details need attention: {name} needs to finish or update their Stripe set-up"


# What finance can do about a claim whose money came back, by what happened to it.
REVERSED_ACTION = (
    "The transfer was reversed, so nothing reached them. Pay again to make a new transfer."
)
PAYOUT_FAILED_ACTION = (
    "Their bank returned the payment; the money is in their Stripe balance, so do not pay "
    "again. Ask them to update their bank details with Stripe: Stripe then pays it out again."
)
