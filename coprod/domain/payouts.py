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
