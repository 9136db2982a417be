"""API operations for the annual statement and a representative's earnings limit. The rules
live in coprod.services.earnings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request

from coprod.domain.pay import tax_year_bounds, tax_year_of
from coprod.errors import NotFound
from coprod.models import (
    Representative,
)
from coprod.services import access, earnings
from coprod.services.actor import Actor
from coprod.validation import Checker
from coprod.web.api.claims import (
    BOOL,
    CLAIMANTS,
    CLAIMS,
    DATE,
    NULL_INT,
    READERS,
    required,
)
from coprod.web.api.core import INT, STR, obj
from coprod.web.api.registry import api

STATEMENT_ROW = obj(
    claim_id=INT,
    paid_on=DATE,
    method={"enum": ["Bank transfer", "Payroll"]},
    fees_pence=INT,
    expenses_pence=INT,
    adjustments_pence=INT,
    total_pence=INT,
)
STATEMENT = obj(
    representative_id=INT,
    tax_year=INT,
    starts_on=DATE,
    ends_on=DATE,
    items={"type": "array", "items": STATEMENT_ROW},
)


def _tax_year_of(request: Request) -> int:
    raw = request.query_params.get("tax_year")
    if raw is None:
        return tax_year_of(dt.date.today())
    c = Checker({"tax_year": raw})
    year = c.integer("tax_year", "the tax year", minimum=2000, maximum=2100)
    c.done()
    assert year is not None
    return year


@api.operation(
    "GET",
    "/representatives/{id:int}/statement",
    summary="Payments made in a tax year (6 April to 5 April), for HMRC or DWP "
    "(the person, their involvement leads, finance)",
    tag=CLAIMS,
    roles=READERS,
    response=STATEMENT,
    query=[
        {
            "name": "tax_year",
            "in": "query",
            "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
            "description": "The year it starts, e.g. 2026 for 6 April 2026 to 5 April 2027; "
            "the current tax year if left out",
        }
    ],
)
async def get_statement(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    year = _tax_year_of(request)
    rep = await Representative.get_or_none(id=id, organisation_id=actor.organisation_id)
    if rep is None:
        raise NotFound
    rows = await earnings.statement(actor, rep, year)
    start, end = tax_year_bounds(year)
    return {
        "representative_id": rep.id,
        "tax_year": year,
        "starts_on": start.isoformat(),
        "ends_on": end.isoformat(),
        "items": [
            {
                "claim_id": r.claim_id,
                "paid_on": r.paid_on.isoformat(),
                "method": r.method,
                "fees_pence": r.fees_pence,
                "expenses_pence": r.expenses_pence,
                "adjustments_pence": r.adjustments_pence,
                "total_pence": r.fees_pence + r.expenses_pence + r.adjustments_pence,
            }
            for r in rows
        ],
    }


# ---------------------------------------------------------------------------- earnings limits


EARNINGS = obj(
    representative_id=INT,
    earnings_limit={
        **STR,
        "description": '"none", "own", or the code of a published limit (see config)',
    },
    own_amount_pence=NULL_INT,
    own_period={"enum": ["week", "month", None]},
    position={
        "type": ["object", "null"],
        "description": "Earnings (fees and corrections, not expenses) this week or month "
        "against the limit in force for it; null when no limit is watched",
        "properties": {
            "label": STR,
            "period": {"enum": ["week", "month"]},
            "starts_on": DATE,
            "ends_on": DATE,
            "earned_pence": INT,
            "limit_pence": INT,
            "over": BOOL,
        },
    },
)
EARNINGS_INPUT = required(
    obj(
        earnings_limit=EARNINGS["properties"]["earnings_limit"],
        own_amount={
            "type": ["string", "number"],
            "description": 'Their own limit in pounds, like "195.50"',
        },
        own_period={"enum": ["week", "month"]},
    ),
    "earnings_limit",
)


async def _earnings(rep: Representative) -> dict[str, Any]:
    position = await earnings.earnings_position(rep)
    own = bool(rep.earnings_limit_pence)
    return {
        "representative_id": rep.id,
        "earnings_limit": "own" if own else (rep.earnings_limit_code or "none"),
        "own_amount_pence": rep.earnings_limit_pence,
        "own_period": rep.earnings_limit_period if own else None,
        "position": None
        if position is None
        else {
            "label": position.label,
            "period": position.period,
            "starts_on": position.start.isoformat(),
            "ends_on": position.end.isoformat(),
            "earned_pence": position.earned_pence,
            "limit_pence": position.limit_pence,
            "over": position.over,
        },
    }


@api.operation(
    "GET",
    "/representatives/{id:int}/earnings-limit",
    summary="The earnings limit someone asked us to watch, with this week's or month's earnings",
    tag=CLAIMS,
    roles=CLAIMANTS,
    response=EARNINGS,
)
async def get_earnings_limit(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    return await _earnings(await access.representative_for(actor, id))


@api.operation(
    "PUT",
    "/representatives/{id:int}/earnings-limit",
    summary="Choose the earnings limit to watch: a published one, their own figure, or none. "
    "It brings warnings, never blocks",
    tag=CLAIMS,
    roles=CLAIMANTS,
    request=EARNINGS_INPUT,
    response=EARNINGS,
)
async def set_earnings_limit(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    rep = await access.representative_for(actor, id)
    return await _earnings(await earnings.set_earnings_limit(actor, rep, body))
