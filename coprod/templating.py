"""One Jinja environment for pages and emails, with the NHS.UK design system macros."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
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
from jinja2.runtime import Macro
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


class _Unkeyable(Exception):
    """A parameter whose rendering a key cannot promise (a date, an object): render it."""


def _key(value: Any) -> Hashable:
    """A key that differs whenever the design system's HTML could: Markup is not text (one is
    escaped, the other not), True is not 1, and a str subclass such as an enum may print
    differently, so each is keyed by its exact type."""
    kind = type(value)
    if kind is str or kind is Markup or kind is int or kind is float or kind is bool:
        return (kind.__name__, value)
    if value is None or isinstance(value, Undefined):
        return kind.__name__
    if kind is _Body:
        return ("body", _key(value.html))
    if kind is dict:
        return ("dict", tuple((k, _key(v)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return ("list", tuple(_key(v) for v in value))
    raise _Unkeyable


class _Body:
    """A `{% call %}` block's body, drawn already: the component's HTML depends on it only
    through its HTML, so that is its key."""

    def __init__(self, html: str) -> None:
        self.html = html

    def __call__(self) -> str:
        return self.html


def _drawn(caller: Any) -> _Body:
    # A body that takes values from the component (`{% call(item) %}`) differs with them.
    if getattr(caller, "arguments", None):
        raise _Unkeyable
    return _Body(caller())


class RenderedComponents:
    """The HTML of design-system components, remembered by their parameters.

    An NHS.UK component's HTML depends only on its parameters, and rendering one is costly
    (about a millisecond for each radio button), so a page listing 25 people spent most of its
    time drawing the same buttons, labels, header and footer again for every request. A
    `{% call %}` body is drawn first and keyed by its HTML. Calls whose body takes values from
    the component, or with parameters a key cannot describe, are rendered every time.
    One bounded store serves every component; the least recently used goes first.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.seen: OrderedDict[Hashable, str] = OrderedDict()
        # Emails may be rendered from a thread: the store's reorderings must not interleave.
        self.lock = threading.Lock()

    def remember(self, macro: Macro) -> Callable[..., str]:
        def component(*args: Any, **kwargs: Any) -> str:
            try:
                if (caller := kwargs.get("caller")) is not None:
                    kwargs = {**kwargs, "caller": _drawn(caller)}
                key = (macro.name, _key(args), _key(kwargs))
            except _Unkeyable:
                return macro(*args, **kwargs)
            with self.lock:
                found = self.seen.get(key)
                if found is not None:
                    self.seen.move_to_end(key)
                    return found
            # Markup, since the design system's templates are autoescaped.
            html = macro(*args, **kwargs)
            with self.lock:
                self.seen[key] = html
                if len(self.seen) > self.size:
                    self.seen.popitem(last=False)
            return html

        component.__name__ = macro.name
        return component

    def install(self, env: Environment) -> None:
        """Swap each component macro for its remembering twin in the module that every
        `{% from "nhsuk/components/…/macro.jinja" import … %}` receives (Jinja keeps one module
        per template, as long as the template stays cached)."""
        for name in env.list_templates(filter_func=_is_component_macro):
            module = env.get_template(name).module
            for attribute, value in vars(module).items():
                if isinstance(value, Macro):
                    setattr(module, attribute, self.remember(value))


def _is_component_macro(name: str) -> bool:
    return name.startswith("nhsuk/components/") and name.endswith("/macro.jinja")


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
        # Every template stays compiled: the remembered components live on their modules.
        cache_size=-1,
    )
    env.filters["london"] = london
    env.filters["long_date"] = long_date
    env.filters["money"] = money
    env.filters["money_news"] = money_news
    env.globals["service_name"] = "Coprod"
    env.globals["base_url"] = settings.base_url
    if not env.auto_reload:
        # Remembered HTML would outlive an edited template, so not while editing them.
        RenderedComponents().install(env)
    return env
