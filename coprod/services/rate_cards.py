"""Rate cards: an organisation's fee and expense rates, each from the day it takes effect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tortoise.transactions import in_transaction

from coprod import clock
from coprod.config import get_settings
from coprod.domain.pay import Rates
from coprod.errors import Forbidden
from coprod.models import (
    RateCard,
    Role,
)
from coprod.services import audit
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed


async def rate_card(organisation_id: int) -> list[Rates]:
    rows = await RateCard.filter(organisation_id=organisation_id)
    if rows:
        return [
            Rates(
                r.effective_from,
                r.day_pence,
                r.half_day_pence,
                r.half_day_max_minutes,
                r.day_max_minutes,
            )
            for r in rows
        ]
    s = get_settings()
    return [
        Rates(
            dt.date(2000, 1, 1),
            s.day_rate_pence,
            s.half_day_rate_pence,
            s.half_day_max_minutes,
            s.day_max_minutes,
        )
    ]


async def add_rates(actor: Actor, data: Mapping[str, Any]) -> RateCard:
    """A new row takes effect from its date: days before it keep the old rates."""
    if not actor.has(Role.ORG_ADMIN, Role.FINANCE_OFFICER):
        raise Forbidden
    c = Checker(data)
    effective_from = c.date("effective_from", "the date the new rates start")
    day = c.integer("day_pence", "the day rate in pence", minimum=1, maximum=10_000_00)
    half = c.integer("half_day_pence", "the half-day rate in pence", minimum=1, maximum=10_000_00)
    c.done()
    assert effective_from is not None and day is not None and half is not None
    if effective_from <= clock.today():
        raise ValidationFailed.one(
            "effective_from", "New rates must start in the future, so that no past day changes"
        )
    if await RateCard.filter(
        organisation_id=actor.organisation_id, effective_from=effective_from
    ).exists():
        raise ValidationFailed.one(
            "effective_from", "There are already rates starting on this date"
        )
    async with in_transaction():
        if not await RateCard.filter(organisation_id=actor.organisation_id).exists():
            # Write down the rates used so far, so the card is complete history.
            s = get_settings()
            await RateCard.create(
                organisation_id=actor.organisation_id,
                effective_from=dt.date(2000, 1, 1),
                day_pence=s.day_rate_pence,
                half_day_pence=s.half_day_rate_pence,
            )
        card = await RateCard.create(
            organisation_id=actor.organisation_id,
            effective_from=effective_from,
            day_pence=day,
            half_day_pence=half,
        )
        await audit.record(actor, "rate_card.add", card, after=audit.snapshot(card))
    return card
