"""Access arrangements: the checklist a booking makes from the person's needs (Braille papers,
an interpreter, transport, a tech test, ...), ticking items off, and the overdue list."""

from __future__ import annotations

import datetime as dt

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.domain import scheduling
from coprod.errors import Forbidden, NotFound
from coprod.models import HOLDING, AccessArrangement, Booking, Representative
from coprod.services import audit, rollups
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor


async def make_checklist(booking: Booking, rep: Representative) -> None:
    """The arrangements this booking needs, each due a set time before the day (once each)."""
    for item in scheduling.access_checklist(
        activity_day=scheduling.london_date(booking.starts_at),
        mode=booking.mode,
        formats=rep.formats or [],
        translated_language=rep.translated_language,
        interpreter_language=rep.interpreter_language,
        needs_transport=rep.needs_transport,
        wants_tech_test=rep.wants_tech_test,
    ):
        await AccessArrangement.get_or_create(
            booking=booking, kind=item.kind, defaults={"label": item.label, "due_on": item.due_on}
        )


async def remake_checklist(booking: Booking, rep: Representative) -> None:
    """After the day or the way of joining changes: what is done stays done, the rest is
    made again with new due dates."""
    await AccessArrangement.filter(booking=booking, done_at__isnull=True).delete()
    await make_checklist(booking, rep)


async def tick(actor: Actor, arrangement: AccessArrangement, done: bool) -> None:
    booking = await Booking.get(id=arrangement.booking_id).prefetch_related(
        "activity", "representative"
    )
    if booking.activity.organisation_id != actor.organisation_id:
        raise NotFound
    if not is_lead(actor):
        # The person may see their own booking, but only a lead ticks its arrangements.
        raise Forbidden if is_self(actor, booking.representative) else NotFound
    now = dt.datetime.now(dt.UTC)
    async with in_transaction():
        access = await rollups.access_of([booking.id])
        arrangement.done_at = now if done else None
        arrangement.done_on_time = done and scheduling.london_date(now) <= arrangement.due_on
        arrangement.done_by = actor.user if done else None
        await arrangement.save(update_fields=["done_at", "done_by_id", "done_on_time"])
        await rollups.access_changed(access, await rollups.access_of([booking.id]))
        await audit.record(
            actor,
            "arrangement.tick",
            arrangement,
            after={"done": done, "label": arrangement.label},
            organisation_id=actor.organisation_id,
        )


def _overdue(actor: Actor) -> QuerySet[AccessArrangement]:
    if not is_lead(actor):
        raise Forbidden
    return AccessArrangement.filter(
        booking__activity__organisation_id=actor.organisation_id,
        booking__status__in=HOLDING,
        done_at__isnull=True,
        due_on__lt=clock.today(),
    )


def overdue_query(actor: Actor) -> QuerySet[AccessArrangement]:
    """The overdue arrangements, as a query so that a page can read one page of it."""
    return (
        _overdue(actor)
        .order_by("due_on", "id")
        .prefetch_related("booking__representative", "booking__activity")
    )


async def overdue(actor: Actor) -> list[AccessArrangement]:
    return list(await overdue_query(actor))


async def overdue_count(actor: Actor) -> int:
    return await _overdue(actor).count()
