"""Pure rules, tested against tables of cases."""

from __future__ import annotations

import datetime as dt

import pytest

from coprod.domain.backoff import retry_delay_seconds, should_give_up
from coprod.domain.throttle import wait_needed


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(0, 0), (1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (20, 3600)],
)
def test_backoff_doubles_up_to_a_ceiling(attempts, delay):
    assert retry_delay_seconds(attempts, base=30, ceiling=3600) == delay


@pytest.mark.parametrize(("attempts", "give_up"), [(1, False), (7, False), (8, True), (9, True)])
def test_giving_up(attempts, give_up):
    assert should_give_up(attempts, max_attempts=8) is give_up


NOW = dt.datetime(2027, 3, 29, 9, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)


def minutes_ago(*minutes: float) -> list[dt.datetime]:
    return [NOW - dt.timedelta(minutes=m) for m in minutes]


@pytest.mark.parametrize(
    ("times", "wait"),
    [
        ([], None),
        (minutes_ago(1, 2, 3, 4), None),  # one short of the limit
        (minutes_ago(1, 2, 3, 4, 10), dt.timedelta(minutes=5)),  # oldest leaves in 5 minutes
        (minutes_ago(1, 2, 3, 4, 15), None),  # exactly a window old: already gone
        (minutes_ago(1, 2, 3, 4, 20, 30), None),  # old tries do not count
        # Six inside: blocked until two have aged out, i.e. the second oldest.
        (minutes_ago(1, 2, 3, 4, 10, 12), dt.timedelta(minutes=5)),
        (minutes_ago(0, 0, 0, 0, 0), WINDOW),
    ],
)
def test_throttle_wait(times, wait):
    assert wait_needed(times, limit=5, window=WINDOW, now=NOW) == wait


def test_today_is_the_london_date_not_the_servers():
    from coprod import clock

    # 23:30 UTC on a summer night is already tomorrow in London; in winter the two agree.
    assert clock.today(dt.datetime(2026, 7, 14, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 7, 15)
    assert clock.today(dt.datetime(2026, 12, 14, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 12, 14)
