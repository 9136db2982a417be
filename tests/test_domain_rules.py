"""Pure rules, tested against tables of cases."""

from __future__ import annotations

import pytest

from coprod.domain.backoff import retry_delay_seconds, should_give_up
from coprod.domain.throttle import is_throttled


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(0, 0), (1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (20, 3600)],
)
def test_backoff_doubles_up_to_a_ceiling(attempts, delay):
    assert retry_delay_seconds(attempts, base=30, ceiling=3600) == delay


@pytest.mark.parametrize(("attempts", "give_up"), [(1, False), (7, False), (8, True), (9, True)])
def test_giving_up(attempts, give_up):
    assert should_give_up(attempts, max_attempts=8) is give_up


@pytest.mark.parametrize(
    ("account_failures", "address_attempts", "throttled"),
    [(0, 0, False), (4, 19, False), (5, 0, True), (0, 20, True), (5, 20, True)],
)
def test_throttle(account_failures, address_attempts, throttled):
    assert is_throttled(account_failures, address_attempts, 5, 20) is throttled
