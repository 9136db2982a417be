"""The personal calendar feed: a secret link a representative subscribes to."""

from __future__ import annotations

import datetime as dt

from coprod.errors import NotFound
from coprod.integrations import calendar
from coprod.models import (
    HOLDING,
    Booking,
    BookingStatus,
    Representative,
)
from coprod.security import new_secret
from coprod.services import audit, invites
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.services.representatives import on_behalf


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def reset_calendar_token(actor: Actor, rep: Representative) -> str:
    if rep.organisation_id != actor.organisation_id or not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    rep.calendar_token = new_secret()
    await rep.save(update_fields=["calendar_token"])
    await audit.record(actor, "calendar_feed.reset", rep, on_behalf_of=on_behalf(actor, rep))
    return rep.calendar_token


async def feed(rep: Representative) -> bytes:
    bookings = await Booking.filter(
        representative=rep,
        status__in=(*HOLDING, BookingStatus.CANCELLED, BookingStatus.ATTENDED),
        starts_at__gt=_now() - dt.timedelta(days=90),
    )
    events = [await invites.calendar_event(b) for b in bookings]
    return calendar.feed(events, f"Coprod: {rep.full_name}")


async def feed_by_token(token: str) -> bytes:
    rep = (
        await Representative.get_or_none(calendar_token=token, archived_at__isnull=True)
        if token
        else None
    )
    if rep is None:
        raise NotFound
    return await feed(rep)
