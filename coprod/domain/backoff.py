"""How long to wait before the next delivery attempt."""

from __future__ import annotations


def retry_delay_seconds(attempts: int, base: int, ceiling: int) -> int:
    """Exponential backoff (base, 2 x base, 4 x base ...) capped at ceiling.

    `attempts` counts the failures so far.
    """
    if attempts < 1:
        return 0
    return min(base * 2 ** (attempts - 1), ceiling)


def should_give_up(attempts: int, max_attempts: int) -> bool:
    return attempts >= max_attempts
