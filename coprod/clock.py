"""What day it is. Every pay day, deadline and date a person sees is a Europe/London calendar
date, which for an hour each summer night is not the server's (UTC) date."""

from __future__ import annotations

import datetime as dt

from coprod.domain.scheduling import LONDON


def today(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(LONDON).date()
