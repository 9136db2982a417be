"""Sign-in throttling rule."""

from __future__ import annotations


def is_throttled(
    failures_for_account: int, attempts_from_address: int, max_account: int, max_address: int
) -> bool:
    """Too many failed tries on one account, or too many tries of any kind from one address."""
    return failures_for_account >= max_account or attempts_from_address >= max_address
