"""Sign-in throttling rule: a sliding window over the times of earlier attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def wait_needed(
    times: Iterable[dt.datetime], limit: int, window: dt.timedelta, now: dt.datetime
) -> dt.timedelta | None:
    """How long until fewer than `limit` of these attempts are inside the window ending now,
    or None if there is room for another attempt already."""
    recent = sorted(t for t in times if t > now - window)
    if len(recent) < limit:
        return None
    # The block lifts when enough of the oldest have aged out to leave limit - 1 behind.
    return recent[len(recent) - limit] + window - now
