"""One Jinja environment for pages and emails, with the NHS.UK design system macros."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    select_autoescape,
)

from coprod.config import ROOT, get_settings

LONDON = ZoneInfo("Europe/London")


def london(value: dt.datetime | None, fmt: str = "%-d %B %Y at %-I:%M%p") -> str:
    """Show a stored UTC time as the Europe/London wall-clock time people expect."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    text = value.astimezone(LONDON).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")


def long_date(value: dt.date | None) -> str:
    return "" if value is None else value.strftime("%-d %B %Y")


def money(pence: int | None) -> str:
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rem:02d}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(str(ROOT / "templates")),
                PackageLoader("nhsuk_frontend_jinja"),
            ]
        ),
        undefined=ChainableUndefined,
        # Email plain-text parts (.txt) must not be HTML-escaped; everything else is.
        autoescape=select_autoescape(enabled_extensions=("html", "jinja"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["london"] = london
    env.filters["long_date"] = long_date
    env.filters["money"] = money
    env.globals["service_name"] = "Coprod"
    env.globals["base_url"] = get_settings().base_url
    return env
