"""API operations for what people earn: the organisation's rate card, the annual statement,
and the earnings limit someone asks us to watch. The rules live in coprod.services.rate_cards
and coprod.services.earnings."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from coprod import clock
from coprod.config import get_settings
from coprod.domain.pay import Rates, tax_year_bounds, tax_year_of
from coprod.errors import NotFound
from coprod.models import RateCard, Representative, Role
from coprod.services import access, earnings, rate_cards
from coprod.services.actor import Actor
from coprod.web.api.claims import CLAIMANTS, CLAIMS, READERS
from coprod.web.api.paging import list_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Page, Paging, Query, Reply, text
from coprod.web.render import csv_download

Period = Literal["week", "month"]

# ---------------------------------------------------------------------------- rate card

RATE_CARD_EDITORS = (Role.ORG_ADMIN, Role.FINANCE_OFFICER)


class RatesReply(Reply):
    effective_from: dt.date = Field(description="These rates apply from this day until the next")
    day_pence: int
    half_day_pence: int
    half_day_max_minutes: int = Field(description="Up to this many minutes a day is a half day")
    day_max_minutes: int = Field(description="Over this many minutes a day is flagged to check")


class RatesInput(Body):
    effective_from: dt.date = Field(
        title="the date the new rates start",
        description="A future day, so that no past day changes",
    )
    day_pence: int = Field(title="the day rate in pence")
    half_day_pence: int = Field(title="the half-day rate in pence")


def _rates(r: Rates | RateCard) -> RatesReply:
    return RatesReply(
        effective_from=r.effective_from,
        day_pence=r.day_pence,
        half_day_pence=r.half_day_pence,
        half_day_max_minutes=r.half_day_max_minutes,
        day_max_minutes=r.day_max_minutes,
    )


@api.operation(
    "GET",
    "/rate-card",
    summary="Your organisation's fee rates, oldest first, each from the day it takes effect "
    "(the standard rates until your own are added)",
    tag=CLAIMS,
    roles=RATE_CARD_EDITORS,
    query=Paging,
    reply=Page[RatesReply],
)
async def list_rates(request: Request, actor: Actor, query: Paging) -> Page[RatesReply]:
    card = await rate_cards.rate_card(actor.organisation_id or 0)
    rows, cursor = list_page(card, query)
    return Page(items=[_rates(r) for r in rows], next_cursor=cursor)


@api.operation(
    "POST",
    "/rate-card",
    summary="Add rates that take effect from a future day; days before it keep the old rates",
    tag=CLAIMS,
    roles=RATE_CARD_EDITORS,
    body=RatesInput,
    reply=RatesReply,
    status=201,
)
async def add_rates(request: Request, actor: Actor, body: RatesInput) -> RatesReply:
    return _rates(await rate_cards.add_rates(actor, body.data()))


# ---------------------------------------------------------------------------- statements


class StatementRowReply(Reply):
    claim_id: int
    paid_on: dt.date = Field(description="The Europe/London day it was paid")
    method: Literal["Bank transfer", "Payroll"]
    fees_pence: int
    expenses_pence: int
    adjustments_pence: int
    total_pence: int


class Statement(Reply):
    representative_id: int
    tax_year: int
    starts_on: dt.date
    ends_on: dt.date
    items: list[StatementRowReply]


class StatementQuery(Query):
    tax_year: int | None = Field(
        None,
        ge=2000,
        le=2100,
        title="the tax year",
        description="The year it starts, e.g. 2026 for 6 April 2026 to 5 April 2027; "
        "the current tax year if left out",
    )


async def _statement(
    actor: Actor, id: int, query: StatementQuery
) -> tuple[int, list[earnings.StatementRow]]:
    year = query.tax_year or tax_year_of(clock.today())
    rep = await Representative.get_or_none(id=id, organisation_id=actor.organisation_id)
    if rep is None:
        raise NotFound
    return year, await earnings.statement(actor, rep, year)


@api.operation(
    "GET",
    "/representatives/{id:int}/statement",
    summary="Payments made in a tax year (6 April to 5 April), for HMRC or DWP "
    "(the person, their involvement leads, finance)",
    tag=CLAIMS,
    roles=READERS,
    query=StatementQuery,
    reply=Statement,
)
async def get_statement(
    request: Request, actor: Actor, id: int, query: StatementQuery
) -> Statement:
    year, rows = await _statement(actor, id, query)
    start, end = tax_year_bounds(year)
    return Statement(
        representative_id=id,
        tax_year=year,
        starts_on=start,
        ends_on=end,
        items=[
            StatementRowReply(
                claim_id=r.claim_id,
                paid_on=r.paid_on,
                method=r.method,  # type: ignore[arg-type]
                fees_pence=r.fees_pence,
                expenses_pence=r.expenses_pence,
                adjustments_pence=r.adjustments_pence,
                total_pence=r.fees_pence + r.expenses_pence + r.adjustments_pence,
            )
            for r in rows
        ],
    )


@api.operation(
    "GET",
    "/representatives/{id:int}/statement/csv",
    summary="The same statement as the CSV file people download (amounts in pounds)",
    tag=CLAIMS,
    roles=READERS,
    query=StatementQuery,
    content_type="text/csv",
)
async def download_statement(
    request: Request, actor: Actor, id: int, query: StatementQuery
) -> Response:
    year, rows = await _statement(actor, id, query)
    return csv_download(earnings.statement_csv(rows), f"statement-{year}-{year + 1}.csv")


# ---------------------------------------------------------------------------- earnings limits


class Position(Reply):
    label: str
    period: Period
    starts_on: dt.date
    ends_on: dt.date
    earned_pence: int
    limit_pence: int
    over: bool


class EarningsLimitReply(Reply):
    representative_id: int
    earnings_limit: str = Field(
        description='"none", "own", or the code of a published limit (GET /earnings-limits)'
    )
    own_amount_pence: int | None
    own_period: Period | None
    position: Position | None = Field(
        description="Earnings (fees and corrections, not expenses) this week or month against "
        "the limit in force for it; null when no limit is watched"
    )


class EarningsLimitInput(Body):
    earnings_limit: str = text(
        50,
        title="which limit to watch",
        description='"none", "own", or the code of a published limit (GET /earnings-limits)',
    )
    own_amount_pence: int | None = Field(
        None, title="your limit in pence", description='Their own limit, with "own"'
    )
    own_period: Period | None = Field(
        None, title="whether the limit is weekly or monthly", description='With "own"'
    )


class PublishedLimit(Reply):
    code: str
    label: str
    period: Period
    amount_pence: int
    applies_from: dt.date


async def _earnings(rep: Representative) -> EarningsLimitReply:
    position = await earnings.earnings_position(rep)
    own = bool(rep.earnings_limit_pence)
    return EarningsLimitReply(
        representative_id=rep.id,
        earnings_limit="own" if own else (rep.earnings_limit_code or "none"),
        own_amount_pence=rep.earnings_limit_pence,
        own_period=rep.earnings_limit_period if own else None,  # type: ignore[arg-type]
        position=None
        if position is None
        else Position(
            label=position.label,
            period=position.period,  # type: ignore[arg-type]
            starts_on=position.start,
            ends_on=position.end,
            earned_pence=position.earned_pence,
            limit_pence=position.limit_pence,
            over=position.over,
        ),
    )


@api.operation(
    "GET",
    "/earnings-limits",
    summary="The published earnings limits people may ask us to watch (for benefits), each "
    "from the day it applies",
    tag=CLAIMS,
    roles=CLAIMANTS,
    query=Paging,
    reply=Page[PublishedLimit],
)
async def list_earnings_limits(
    request: Request, actor: Actor, query: Paging
) -> Page[PublishedLimit]:
    rows, cursor = list_page(get_settings().earnings_limits, query)
    return Page(
        items=[
            PublishedLimit(
                code=lim.code,
                label=lim.label,
                period=lim.period,  # type: ignore[arg-type]
                amount_pence=lim.amount_pence,
                applies_from=lim.applies_from,
            )
            for lim in rows
        ],
        next_cursor=cursor,
    )


@api.operation(
    "GET",
    "/representatives/{id:int}/earnings-limit",
    summary="The earnings limit someone asked us to watch, with this week's or month's earnings",
    tag=CLAIMS,
    roles=CLAIMANTS,
    reply=EarningsLimitReply,
)
async def get_earnings_limit(request: Request, actor: Actor, id: int) -> EarningsLimitReply:
    return await _earnings(await access.representative_for(actor, id))


@api.operation(
    "PUT",
    "/representatives/{id:int}/earnings-limit",
    summary="Choose the earnings limit to watch: a published one, their own figure, or none. "
    "It brings warnings, never blocks",
    tag=CLAIMS,
    roles=CLAIMANTS,
    body=EarningsLimitInput,
    reply=EarningsLimitReply,
)
async def set_earnings_limit(
    request: Request, actor: Actor, id: int, body: EarningsLimitInput
) -> EarningsLimitReply:
    rep = await access.representative_for(actor, id)
    return await _earnings(await earnings.set_earnings_limit(actor, rep, body.data()))
