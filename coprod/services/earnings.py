"""Earnings against benefit limits, the warnings that follow from them, and the annual
statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from coprod import clock
from coprod.config import get_settings
from coprod.domain import pay
from coprod.domain.payouts import money_for_representative
from coprod.domain.scheduling import london_date, london_midnight
from coprod.errors import NotFound
from coprod.integrations import csv_files
from coprod.integrations.csv_files import Money
from coprod.models import (
    SETTLED,
    Activity,
    Booking,
    BookingStatus,
    Claim,
    ClaimLine,
    ClaimStatus,
    LineKind,
    PaymentPreference,
    Representative,
    Role,
    TimeOption,
)
from coprod.services import audit, claims, rate_cards
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.services.representatives import on_behalf
from coprod.templating import money
from coprod.validation import Checker

# Claims whose fees and adjustments are earnings: a rejected claim is not, until it is sent
# again, and a failed payment is not money received.
EARNING = (
    ClaimStatus.DRAFT,
    ClaimStatus.SUBMITTED,
    ClaimStatus.APPROVED,
    *SETTLED,
)


# Beyond any benefit's earnings limit, and well inside the integer column.
LIMIT_MOST_POUNDS = 100_000


async def earnings_between(
    rep: Representative, start: dt.date, end: dt.date, *, leaving_out: int | None = None
) -> int:
    """Fees and corrections (not expenses, which are not income) on live claims, plus fees
    expected from confirmed bookings not yet claimed (apart from any on the activity
    `leaving_out`, whose fee the caller is adding)."""
    lines = await ClaimLine.filter(
        claim__representative=rep,
        claim__status__in=list(EARNING),
        day__gte=start,
        day__lte=end,
    ).values_list("day", "kind", "amount_pence")
    upcoming = (
        await Booking.filter(representative=rep, status=BookingStatus.CONFIRMED)
        .exclude(activity_id=leaving_out)
        .prefetch_related("activity")
    )
    card = await rate_cards.rate_card(rep.organisation_id)
    return _earned(rep, lines, upcoming, start, end, card)


def _earned(
    rep: Representative,
    lines: Iterable[tuple[Any, Any, Any]],
    bookings: Iterable[Booking],
    start: dt.date,
    end: dt.date,
    card: list[pay.Rates],
) -> int:
    """`earnings_between` from rows already read: claim lines as (day, kind, pence), and the
    person's bookings (only confirmed ones count) with their activities."""
    within = [(day, kind, pence) for day, kind, pence in lines if start <= day <= end]
    claimed = {day for day, kind, _ in within if kind == LineKind.FEE}
    expected = [
        (london_date(b.starts_at), b.activity.duration_minutes + b.activity.preparation_minutes)
        for b in bookings
        if b.status == BookingStatus.CONFIRMED
        and start <= london_date(b.starts_at) <= end
        and london_date(b.starts_at) not in claimed
    ]
    declined = rep.payment_preference == PaymentPreference.DECLINE
    fees = pay.daily_fees(expected, card, declined=declined)
    return sum(pence for _, _, pence in within) + sum(f.pence for f in fees)


OWN_LIMIT = "your own limit"


def limit_of(rep: Representative, day: dt.date | None = None) -> tuple[int, str, str] | None:
    """(pence, period, label) of the earnings limit the person asked us to watch, if any, as it
    stood for the week or month holding `day` (today if not given)."""
    if rep.earnings_limit_pence and rep.earnings_limit_period in ("week", "month"):
        return rep.earnings_limit_pence, rep.earnings_limit_period, OWN_LIMIT
    figure = pay.limit_in_force(
        [lim for lim in get_settings().earnings_limits if lim.code == rep.earnings_limit_code],
        day or clock.today(),
    )
    if figure is None:
        return None
    return figure.amount_pence, figure.period, figure.label


def _limit_name(label: str, to_person: bool) -> str:
    return "their own limit" if label == OWN_LIMIT and not to_person else label


async def earnings_warning(
    rep: Representative,
    day: dt.date,
    adding_pence: int,
    *,
    leaving_out: int | None = None,
    to_person: bool = False,
) -> str | None:
    """A plain warning when this would take them over their limit. It never blocks anything.
    Worded for their lead, or (`to_person`) for the person themselves."""
    limit = limit_of(rep, day)
    if limit is None or adding_pence <= 0:
        return None
    start, end = pay.period_of(day, limit[1])
    earned = await earnings_between(rep, start, end, leaving_out=leaving_out)
    return _warning_text(rep, limit, start, earned, adding_pence, to_person=to_person)


def _warning_text(
    rep: Representative,
    limit: tuple[int, str, str],
    start: dt.date,
    earned: int,
    adding_pence: int,
    *,
    to_person: bool,
) -> str | None:
    limit_pence, period, label = limit
    if not pay.over_limit(earned, adding_pence, limit_pence):
        return None
    whose, advice = (
        ("your", "This may affect your benefits. You can talk it over with your involvement lead.")
        if to_person
        else (
            f"{rep.full_name}'s",
            "This may affect their benefits. Talk with them before going ahead.",
        )
    )
    return (
        f"This would take {whose} earnings for the {period} starting {start.strftime('%-d %B')} "
        f"to {money(earned + adding_pence)}, over {_limit_name(label, to_person)} of "
        f"{money(limit_pence)}. {advice}"
    )


async def set_earnings_limit(
    actor: Actor, rep: Representative, data: Mapping[str, Any]
) -> Representative:
    """The person (or their lead for them) picks a published limit, their own figure, or none."""
    if not (is_lead(actor) or is_self(actor, rep)) or rep.organisation_id != actor.organisation_id:
        raise NotFound
    codes = [lim.code for lim in get_settings().earnings_limits]
    c = Checker(data)
    choice = c.choice("earnings_limit", "which limit to watch", ["none", "own", *codes])
    amount = None
    period = None
    if choice == "own" and c.raw("own_amount") == "" and c.raw("own_amount_pence"):
        # Callers holding pence (the API) give own_amount_pence; the page takes pounds.
        amount = c.integer(
            "own_amount_pence", "your limit in pence", minimum=1, maximum=LIMIT_MOST_POUNDS * 100
        )
    elif choice == "own":
        value = pay.pounds(c.raw("own_amount"))
        if value is None or value <= 0:
            c.fail("own_amount", "Enter your limit in pounds, like 195.50")
        elif value > LIMIT_MOST_POUNDS:
            c.fail("own_amount", f"Your limit must be £{LIMIT_MOST_POUNDS:,} or less")
        else:
            amount = int(value * 100)
    if choice == "own":
        period = c.choice("own_period", "whether the limit is weekly or monthly", ["week", "month"])
    c.done()
    async with in_transaction():
        rep.earnings_limit_code = choice if choice in codes else None
        rep.earnings_limit_pence = amount
        rep.earnings_limit_period = period
        await rep.save(
            update_fields=["earnings_limit_code", "earnings_limit_pence", "earnings_limit_period"]
        )
        await audit.record(
            actor,
            "earnings_limit.set",
            rep,
            after={"choice": choice, "pence": amount, "period": period},
            on_behalf_of=on_behalf(actor, rep),
        )
    return rep


@dataclass(frozen=True)
class EarningsPosition:
    label: str
    period: str
    start: dt.date
    end: dt.date
    earned_pence: int
    limit_pence: int

    @property
    def over(self) -> bool:
        return self.earned_pence > self.limit_pence


async def earnings_position(
    rep: Representative, day: dt.date | None = None
) -> EarningsPosition | None:
    """Earnings (fees, not expenses) this week or month against their limit."""
    day = day or clock.today()
    limit = limit_of(rep, day)
    if limit is None:
        return None
    limit_pence, period, label = limit
    start, end = pay.period_of(day, period)
    return EarningsPosition(
        label, period, start, end, await earnings_between(rep, start, end), limit_pence
    )


async def activity_warning(
    rep: Representative,
    starts_at: dt.datetime,
    minutes: int,
    *,
    activity_id: int | None = None,
    to_person: bool = False,
) -> str | None:
    """Warn (never block) when taking part would take someone over their earnings limit: the
    extra fee is the change in that day's band, not the activity's own rate. A booking they
    already have on the activity is left out, so the warning is the same before and after
    they are booked."""
    found = await _activity_warnings(
        [rep], starts_at, minutes, activity_id=activity_id, to_person=to_person
    )
    return found.get(rep.id)


async def _activity_warnings(
    reps: Iterable[Representative],
    starts_at: dt.datetime,
    minutes: int,
    *,
    activity_id: int | None,
    to_person: bool,
) -> dict[int, str]:
    """`activity_warning` for many people, by representative id, in the same few queries
    however many there are and whoever among them has a limit (so a page costs the same)."""
    people = list(reps)
    if not people:
        return {}
    watched = [
        rep
        for rep in people
        if limit_of(rep) is not None and rep.payment_preference != PaymentPreference.DECLINE
    ]
    day = london_date(starts_at)
    limits = {rep.id: limit for rep in watched if (limit := limit_of(rep, day)) is not None}
    periods = {rep_id: pay.period_of(day, limit[1]) for rep_id, limit in limits.items()}
    ids = [rep.id for rep in watched]
    # Only the days that can count: the activity's own day and everyone's limit periods (a
    # week or a month), not each person's whole history of bookings.
    first = min((start for start, _ in periods.values()), default=day)
    last = max((end for _, end in periods.values()), default=day)
    held = (
        await Booking.filter(
            representative_id__in=ids,
            status__in=[BookingStatus.CONFIRMED, BookingStatus.ATTENDED],
            starts_at__gte=london_midnight(min(first, day)),
            starts_at__lt=london_midnight(max(last, day) + dt.timedelta(days=1)),
        )
        .exclude(activity_id=activity_id)
        .select_related("activity")
    )
    lines = await ClaimLine.filter(
        claim__representative_id__in=list(periods),
        claim__status__in=list(EARNING),
        day__gte=first,
        day__lte=last,
    ).values_list("claim__representative_id", "day", "kind", "amount_pence")
    cards = {
        org_id: await rate_cards.rate_card(org_id)
        for org_id in {rep.organisation_id for rep in people}
    }
    # Grouped by person once: a scan of everyone's rows for each person grows with the square
    # of the organisation.
    held_by: dict[int, list[Booking]] = {}
    for b in held:
        held_by.setdefault(b.representative_id, []).append(b)
    lines_by: dict[int, list[tuple[Any, Any, Any]]] = {}
    for rid, d, k, p in lines:
        lines_by.setdefault(int(rid), []).append((d, k, p))
    found = {}
    for rep in watched:
        theirs = held_by.get(rep.id, [])
        already = sum(
            (b.attended_minutes or 0) + (b.preparation_minutes or 0)
            if b.status == BookingStatus.ATTENDED
            else b.activity.duration_minutes + b.activity.preparation_minutes
            for b in theirs
            if london_date(b.starts_at) == day
        )
        card = cards[rep.organisation_id]
        rates = pay.rates_on(day, card)
        extra = (
            pay.fee_for_day(day, already + minutes, rates).pence
            - pay.fee_for_day(day, already, rates).pence
        )
        if rep.id not in limits or extra <= 0:
            continue
        start, end = periods[rep.id]
        earned = _earned(
            rep,
            lines_by.get(rep.id, []),
            theirs,
            start,
            end,
            card,
        )
        if warning := _warning_text(rep, limits[rep.id], start, earned, extra, to_person=to_person):
            found[rep.id] = warning
    return found


async def activity_warnings(
    activity: Activity, reps: Iterable[Representative], *, to_person: bool = False
) -> dict[int, str]:
    """Each person's earnings warning for taking part in an activity, by representative id:
    one answer for the pages and the API, at invitation, booking and finalising."""
    moment = activity.starts_at
    if moment is None:
        first = await TimeOption.filter(activity=activity).order_by("starts_at").first()
        moment = first.starts_at if first else None
    if moment is None:
        return {}
    minutes = activity.duration_minutes + activity.preparation_minutes
    return await _activity_warnings(
        reps, moment, minutes, activity_id=activity.id, to_person=to_person
    )


async def claim_warning(claim: Claim, *, to_person: bool = False) -> str | None:
    """Does this claim take them over their earnings limit in any week or month it covers?"""
    rep = await claim.representative
    days = {line.day for line in await ClaimLine.filter(claim=claim) if line.day is not None}
    # Each week or month against the figure that applied to it.
    periods: dict[tuple[dt.date, dt.date], tuple[int, str, str]] = {}
    for day in days:
        if (limit := limit_of(rep, day)) is not None:
            periods[pay.period_of(day, limit[1])] = limit
    for (start, end), (limit_pence, period, label) in sorted(periods.items()):
        earned = await earnings_between(rep, start, end)
        if earned > limit_pence:
            whose = "Your earnings" if to_person else f"{rep.full_name}'s earnings"
            return (
                f"{whose} for the {period} starting {start.strftime('%-d %B %Y')} come to "
                f"{money(earned)}, over {_limit_name(label, to_person)} of {money(limit_pence)}. "
                f"This may affect {'your' if to_person else 'their'} benefits. "
                "It does not stop the claim."
            )
    return None


@dataclass(frozen=True)
class StatementRow:
    claim_id: int
    paid_on: dt.date
    fees_pence: int
    expenses_pence: int
    adjustments_pence: int
    method: str
    # Where a bank transfer's money is now, in words for them ("Paid into your bank on ...").
    whereabouts: str = ""


async def statement(actor: Actor, rep: Representative, tax_year: int) -> list[StatementRow]:
    """Every payment made in a tax year (6 April to 5 April), for HMRC or DWP."""
    if (
        not (is_lead(actor) or actor.has(Role.FINANCE_OFFICER) or is_self(actor, rep))
        or rep.organisation_id != actor.organisation_id
    ):
        raise NotFound
    start, end = pay.tax_year_bounds(tax_year)
    rows = []
    settled = await Claim.filter(representative=rep, status__in=list(SETTLED)).order_by("paid_at")
    totals = await claims.totals_for(settled)
    for claim in settled:
        if claim.paid_at is None:
            continue
        paid_on = london_date(claim.paid_at)
        if not start <= paid_on <= end:
            continue
        t = totals[claim.id]
        rows.append(
            StatementRow(
                claim.id,
                paid_on,
                t.fees_pence,
                t.expenses_pence,
                t.adjustments_pence,
                "Payroll" if claim.status == ClaimStatus.SENT_TO_PAYROLL else "Bank transfer",
                money_for_representative(
                    claim.money.value,
                    sent_on=paid_on,
                    changed_on=london_date(claim.money_changed_at)
                    if claim.money_changed_at
                    else None,
                )
                or "",
            )
        )
    await audit.record(actor, "statement.view", rep, after={"tax_year": tax_year})
    return rows


STATEMENT_HEADER = ["paid_on", "claim", "method", "fees", "expenses", "adjustments", "total"]


def statement_csv(rows: Iterable[StatementRow]) -> str:
    """A statement as the CSV file people download for HMRC or DWP."""
    return csv_files.write(
        STATEMENT_HEADER,
        (
            [
                r.paid_on,
                r.claim_id,
                r.method,
                Money(r.fees_pence),
                Money(r.expenses_pence),
                Money(r.adjustments_pence),
                Money(r.fees_pence + r.expenses_pence + r.adjustments_pence),
            ]
            for r in rows
        ),
    )
