"""Why a pay run leaves an approved claim unpaid, and what finance can do about it."""

from __future__ import annotations

import datetime as dt


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


def _day(value: dt.date | None) -> str:
    return "" if value is None else f"{value.day} {value:%B}"


def money_for_representative(
    money: str, *, sent_on: dt.date | None, changed_on: dt.date | None
) -> str | None:
    """Where their money is, in words for the person paid; None before anything was sent.
    `sent_on` is the day the transfer was made, `changed_on` the day of the latest news."""
    return {
        "held": (
            "Waiting to be sent: your Stripe account needs attention. Finish or update your "
            "set-up with Stripe and we will send it; your money is safe"
        ),
        "transferred": f"Sent to your Stripe account on {_day(sent_on)}; on its way to your bank",
        "paid_out": f"Paid into your bank on {_day(changed_on)}",
        "payout_failed": (
            "Your bank returned this payment: update your bank details with Stripe. The money "
            "is safe in your Stripe account and is sent again once they are right"
        ),
        "reversed": (
            f"Taken back on {_day(changed_on)} before it reached you: our finance team will "
            "send it again"
        ),
    }.get(money)


def money_for_finance(
    money: str, *, reason: str | None, sent_on: dt.date | None, changed_on: dt.date | None
) -> str | None:
    """Where a claim's money is, with what to do about it, for finance."""
    return {
        "held": f"Held since {_day(changed_on)}. {reason or ''}".strip(),
        "transferred": f"Transferred to their Stripe account on {_day(sent_on)}",
        "paid_out": f"Paid out to their bank on {_day(changed_on)}",
        "payout_failed": f"Payout failed on {_day(changed_on)}. {reason or ''}".strip(),
        "reversed": f"Reversed on {_day(changed_on)}. {reason or ''}".strip(),
    }.get(money)
