"""Recording who attended a booking, and sharing an approved claim's fees and expenses
across the involvements it pays for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.transactions import in_transaction

from coprod import db
from coprod.domain.scheduling import london_date
from coprod.errors import Conflict, NotFound
from coprod.models import (
    Activity,
    Booking,
    BookingStatus,
    Claim,
    ClaimStatus,
    FeeDay,
    Involvement,
    Kind,
    LineKind,
)
from coprod.services import activity_feedback, audit, claims, contracts, courses, rollups
from coprod.services.access import is_lead
from coprod.services.actor import Actor
from coprod.validation import Checker


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def record_attendance(actor: Actor, booking: Booking, data: Mapping[str, Any]) -> Booking:
    """Attended (with minutes) or did not attend. Minutes default to the scheduled length and
    preparation to the activity's agreed preparation time."""
    activity = await booking.activity
    if not is_lead(actor) or activity.organisation_id != actor.organisation_id:
        raise NotFound
    if booking.status not in (
        BookingStatus.CONFIRMED,
        BookingStatus.ATTENDED,
        BookingStatus.NO_SHOW,
    ):
        raise Conflict("Attendance can be recorded only for a confirmed booking", "attended")
    if booking.starts_at > _now():
        raise Conflict("Attendance can be recorded once the activity has started", "attended")
    c = Checker(data)
    attended = c.choice("attended", "whether they attended", ["yes", "no"])
    minutes = (
        c.integer("attended_minutes", "minutes attended", minimum=0, maximum=1440)
        if c.raw("attended_minutes")
        else activity.duration_minutes
    )
    preparation = (
        c.integer("preparation_minutes", "preparation minutes", minimum=0, maximum=1440)
        if c.raw("preparation_minutes")
        else activity.preparation_minutes
    )
    c.done()
    claimed = (
        await FeeDay.filter(
            representative_id=booking.representative_id,
            organisation_id=activity.organisation_id,
            day=london_date(booking.starts_at),
        )
        .exclude(claim__status=ClaimStatus.DRAFT)
        .exists()
    )
    if claimed:
        raise Conflict(
            "This day is already on a submitted claim. Correct it with an adjustment instead",
            "attended",
        )
    before = {"status": booking.status.value, "attended_minutes": booking.attended_minutes}
    async with in_transaction():
        booking.status = BookingStatus.ATTENDED if attended == "yes" else BookingStatus.NO_SHOW
        booking.attended_minutes = minutes if attended == "yes" else 0
        booking.preparation_minutes = preparation if attended == "yes" else 0
        booking.attendance_recorded_at = _now()
        await booking.save(
            update_fields=[
                "status",
                "attended_minutes",
                "preparation_minutes",
                "attendance_recorded_at",
            ]
        )
        await _record_involvement(booking)
        await courses.attended(booking, activity)
        if activity.kind == Kind.CATCH_UP:
            await contracts.refresh_catch_ups_of(booking.representative_id)
        elif booking.status == BookingStatus.ATTENDED:
            await activity_feedback.invite(booking, activity)
        await audit.record(
            actor,
            "booking.attendance",
            booking,
            before=before,
            after={
                "status": booking.status.value,
                "attended_minutes": booking.attended_minutes,
                "preparation_minutes": booking.preparation_minutes,
            },
        )
    return booking


async def _record_involvement(booking: Booking) -> None:
    """Keep the flat row that reports count, and its roll-ups, in step with attendance."""
    # The activity is locked first, so a lead correcting its details
    # (`activities.update_activity`) either waits for this row or finds it.
    await db.lock(Activity.filter(id=booking.activity_id))
    before = await Involvement.filter(booking_id=booking.id).values(*rollups.ROW)
    if booking.status != BookingStatus.ATTENDED:
        await Involvement.filter(booking_id=booking.id).delete()
        await rollups.involvement_changed(before, [])
        return
    activity = await Activity.get(id=booking.activity_id)
    rep = await booking.representative
    values = {
        "organisation_id": activity.organisation_id,
        "activity_id": activity.id,
        "project_id": activity.project_id,
        "team_id": activity.team_id,
        "representative_id": rep.id,
        "representative_type": rep.representative_type.value,
        "category": activity.category.value if activity.category else None,
        "kind": activity.kind.value,
        "mode": booking.mode,
        "day": london_date(booking.starts_at),
        "minutes": (booking.attended_minutes or 0) + (booking.preparation_minutes or 0),
    }
    row, _ = await Involvement.update_or_create(defaults=values, booking_id=booking.id)
    await rollups.involvement_changed(
        before, [{**values, "fee_pence": row.fee_pence, "expenses_pence": row.expenses_pence}]
    )


def share(total: int, weights: list[int]) -> list[int]:
    """Split pence in proportion to weights, exactly: the remainder goes to the last share."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    parts = [total * w // sum(weights) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


async def cost_involvements(
    found: Sequence[Claim],
    *,
    went_out: bool = True,
    money: Mapping[int, claims.ClaimMoney] | None = None,
) -> None:
    """Once the claims' money has gone out (see money_states.money_went_out), spread each
    day's fee and expenses over that day's involvements, so that reports can show spend by
    category. With went_out=False the money came back: the same involvements cost nothing
    again. `money` has the claims' lines and expenses, by claim id, when the caller has read
    them. However many claims, their involvements are read and written in one statement each."""
    money = dict(money or {})
    if unread := [claim for claim in found if claim.id not in money]:
        money |= await claims.money_for(unread)
    charges: list[tuple[int, dict[dt.date, int], dict[dt.date, int]]] = []
    for claim in found:
        fees: dict[dt.date, int] = {}
        for line in money[claim.id].lines:
            if line.kind == LineKind.FEE and line.day is not None:
                fees[line.day] = fees.get(line.day, 0) + line.amount_pence
        spent: dict[dt.date, int] = {}
        for e in money[claim.id].expenses:
            paid = e.approved_pence if e.approved_pence is not None else e.amount_pence
            spent[e.day] = spent.get(e.day, 0) + paid
        charges.append((claim.representative_id, fees, spent))
    people = {person for person, fees, spent in charges if fees or spent}
    days = {day for _, fees, spent in charges for day in (*fees, *spent)}
    if not days:
        return
    rows: dict[tuple[int, dt.date], list[Involvement]] = {}
    # Everyone's rows on any of the days, of which each person's own days are kept: one read.
    # Locked: the roll-ups are moved by what these rows hold, which a lead correcting an
    # activity's details could otherwise change in between.
    on_days = Involvement.filter(representative_id__in=list(people), day__in=list(days))
    for row in await on_days.select_for_update().order_by("id"):
        rows.setdefault((row.representative_id, row.day), []).append(row)
    costed: dict[int, Involvement] = {}
    before: dict[int, dict[str, Any]] = {}
    for person, fees, spent in charges:
        for day in set(fees) | set(spent):
            on_day = rows.get((person, day), [])
            weights = [r.minutes for r in on_day]
            for row, fee, cost in zip(
                on_day,
                share(fees.get(day, 0), weights),
                share(spent.get(day, 0), weights),
                strict=True,
            ):
                before.setdefault(row.id, rollups.values_of(row))
                row.fee_pence, row.expenses_pence = (fee, cost) if went_out else (0, 0)
                costed[row.id] = row
    if costed:
        await Involvement.bulk_update(list(costed.values()), fields=["fee_pence", "expenses_pence"])
    after = [rollups.values_of(r) for r in costed.values()]
    await rollups.involvement_changed(list(before.values()), after)
