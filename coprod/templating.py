"""One Jinja environment for pages and emails, with the NHS.UK design system macros."""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    Undefined,
    select_autoescape,
)
from markupsafe import Markup

from coprod.config import ROOT, get_settings
from coprod.domain import payouts

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


def _london_day(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.astimezone(LONDON).date()


def money_news(claim: Any, reader: str = "representative") -> str:
    """Where a claim's money is, in words for the person paid or (reader="finance") for
    finance, with dates in Europe/London; empty before anything was sent."""
    sent_on, changed_on = _london_day(claim.paid_at), _london_day(claim.money_changed_at)
    if reader == "finance":
        words = payouts.money_for_finance(
            claim.money.value, reason=claim.money_reason, sent_on=sent_on, changed_on=changed_on
        )
    else:
        words = payouts.money_for_representative(
            claim.money.value, sent_on=sent_on, changed_on=changed_on
        )
    return words or ""


def money(pence: int | None) -> str:
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rem:02d}"


class MemoisedMacro:
    """A design-system macro whose HTML depends only on its parameters, remembered by them.

    The NHS.UK header and footer were a fifth of the time spent on a page, rendering the same
    HTML again for every request from the same person on the same page.
    """

    def __init__(self, env: Environment, template: str, name: str, size: int = 2048) -> None:
        self.env, self.template, self.name, self.size = env, template, name, size
        self.seen: OrderedDict[str, Markup] = OrderedDict()

    def __call__(self, params: dict[str, Any] | None = None) -> Markup:
        params = params or {}
        key = json.dumps(params, sort_keys=True, default=_undefined_as_none)
        html = self.seen.get(key)
        if html is None:
            macro = getattr(self.env.get_template(self.template).module, self.name)
            html = macro(params)  # Markup: the macro's template is autoescaped
            self.seen[key] = html
            if len(self.seen) > self.size:
                self.seen.popitem(last=False)
        else:
            self.seen.move_to_end(key)
        return html


def _undefined_as_none(value: object) -> object:
    if isinstance(value, Undefined):
        return None
    return str(value)


@lru_cache(maxsize=1)
def environment() -> Environment:
    settings = get_settings()
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
        # Checking every template file's modification time on each render is for editing them.
        auto_reload=settings.environment == "development",
    )
    env.filters["london"] = london
    env.filters["long_date"] = long_date
    env.filters["money"] = money
    env.filters["money_news"] = money_news
    env.globals["service_name"] = "Coprod"
    env.globals["base_url"] = settings.base_url
    env.globals["nhs_header"] = MemoisedMacro(env, "nhsuk/components/header/macro.jinja", "header")
    env.globals["nhs_footer"] = MemoisedMacro(env, "nhsuk/components/footer/macro.jinja", "footer")
    return env
