"""Attendance, rate cards, claims and expenses, approval, earnings against benefit limits, and
the annual statement."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from coprod.config import ROOT, get_settings
from coprod.domain import pay
from coprod.domain.pay import ExpenseType, Rates
from coprod.domain.scheduling import london_date
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import (
    SETTLED,
    Activity,
    Booking,
    BookingStatus,
    Claim,
    ClaimLine,
    ClaimStatus,
    Expense,
    FeeDay,
    Involvement,
    LineKind,
    PaymentPreference,
    RateCard,
    Representative,
    Role,
    TimeOption,
)
from coprod.services import audit
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.services.representatives import on_behalf
from coprod.templating import long_date, money
from coprod.validation import Checker, ValidationFailed

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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- attendance


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
    """Keep the flat row that reports count in step with attendance."""
    if booking.status != BookingStatus.ATTENDED:
        await Involvement.filter(booking_id=booking.id).delete()
        return
    activity = await booking.activity
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
    await Involvement.update_or_create(defaults=values, booking_id=booking.id)


def share(total: int, weights: list[int]) -> list[int]:
    """Split pence in proportion to weights, exactly: the remainder goes to the last share."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    parts = [total * w // sum(weights) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


async def _cost_involvements(claim: Claim) -> None:
    """On approval, spread each day's fee and expenses over that day's involvements, so that
    reports can show spend by category."""
    fees: dict[dt.date, int] = {}
    for line in await ClaimLine.filter(claim=claim, kind=LineKind.FEE):
        if line.day is not None:
            fees[line.day] = fees.get(line.day, 0) + line.amount_pence
    spent: dict[dt.date, int] = {}
    for e in await Expense.filter(claim=claim):
        paid = e.approved_pence if e.approved_pence is not None else e.amount_pence
        spent[e.day] = spent.get(e.day, 0) + paid
    for day in set(fees) | set(spent):
        rows = list(
            await Involvement.filter(representative_id=claim.representative_id, day=day).order_by(
                "id"
            )
        )
        weights = [r.minutes for r in rows]
        for row, fee, cost in zip(
            rows, share(fees.get(day, 0), weights), share(spent.get(day, 0), weights), strict=True
        ):
            row.fee_pence, row.expenses_pence = fee, cost
            await row.save(update_fields=["fee_pence", "expenses_pence"])


# --------------------------------------------------------------------------- rate cards


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
    if effective_from <= dt.date.today():
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


# --------------------------------------------------------------------------- claims


async def claim_for(actor: Actor, claim_id: int) -> Claim:
    claim = await Claim.get_or_none(
        id=claim_id, organisation_id=actor.organisation_id
    ).prefetch_related("representative")
    if claim is None:
        raise NotFound
    if not (
        is_lead(actor) or actor.has(Role.FINANCE_OFFICER) or is_self(actor, claim.representative)
    ):
        raise NotFound
    return claim


async def _claimed_days(rep: Representative) -> set[dt.date]:
    days = await FeeDay.filter(organisation_id=rep.organisation_id, representative=rep).values_list(
        "day", flat=True
    )
    return set(days)  # type: ignore[arg-type]


async def _take_days(claim: Claim, days: list[dt.date]) -> None:
    """Within the caller's transaction. If another claim holds one of the days, the unique key
    refuses the insert and the whole transaction goes back."""
    for day in days:
        await FeeDay.create(
            organisation_id=claim.organisation_id,
            representative_id=claim.representative_id,
            day=day,
            claim=claim,
        )


async def _day_taken(
    rep_id: int, organisation_id: int, days: list[dt.date], field: str
) -> Conflict:
    """What to tell someone whose claim lost a day to another claim (perhaps made at the same
    moment), against the form field that chose the day."""
    holder = (
        await FeeDay.filter(organisation_id=organisation_id, representative_id=rep_id, day__in=days)
        .order_by("day")
        .first()
    )
    if holder is None:  # the other claim was rejected meanwhile: trying again will work
        return Conflict(
            "Another claim was changing these days at the same moment. Try again", field
        )
    return Conflict(
        f"{long_date(holder.day)} is already on claim {holder.claim_id}, and a day is paid only "
        "once. Use that claim, or ask for it to be rejected first",
        field,
    )


async def generate_draft(actor: Actor, rep: Representative, data: Mapping[str, Any]) -> Claim:
    """A draft from attendance: one fee line per Europe/London day not already claimed."""
    if not (is_lead(actor) or is_self(actor, rep)) or rep.organisation_id != actor.organisation_id:
        raise NotFound
    c = Checker(data)
    start = c.date("period_start", "the first day of the claim")
    end = c.date("period_end", "the last day of the claim")
    c.done()
    assert start is not None and end is not None
    if end < start:
        raise ValidationFailed.one("period_end", "The last day must be on or after the first day")
    attended = await Booking.filter(
        representative=rep, status=BookingStatus.ATTENDED
    ).prefetch_related("activity")
    taken = await _claimed_days(rep)
    sessions: dict[dt.date, list[Booking]] = {}
    for booking in attended:
        day = london_date(booking.starts_at)  # a booking belongs to the day it starts
        if start <= day <= end and day not in taken:
            sessions.setdefault(day, []).append(booking)
    fees = pay.daily_fees(
        [
            (day, (b.attended_minutes or 0) + (b.preparation_minutes or 0))
            for day, items in sessions.items()
            for b in items
        ],
        await rate_card(rep.organisation_id),
        declined=rep.payment_preference == PaymentPreference.DECLINE,
    )
    try:
        async with in_transaction():
            claim = await _write_draft(actor, rep, start, end, fees, sessions)
    except IntegrityError:
        days = [fee.day for fee in fees]
        raise await _day_taken(rep.id, rep.organisation_id, days, "period_start") from None
    return claim


async def _write_draft(
    actor: Actor,
    rep: Representative,
    start: dt.date,
    end: dt.date,
    fees: list[pay.DayFee],
    sessions: dict[dt.date, list[Booking]],
) -> Claim:
    """Within the caller's transaction, so a day another claim holds leaves nothing behind."""
    claim = await Claim.create(
        organisation_id=rep.organisation_id,
        representative=rep,
        period_start=start,
        period_end=end,
    )
    await _take_days(claim, [fee.day for fee in fees])
    for fee in fees:
        titles = ", ".join(b.activity.title for b in sessions[fee.day])
        declined = (
            " (payment declined)" if rep.payment_preference == PaymentPreference.DECLINE else ""
        )
        await ClaimLine.create(
            claim=claim,
            kind=LineKind.FEE,
            day=fee.day,
            minutes=fee.minutes,
            band=fee.band.value,
            amount_pence=fee.pence,
            needs_review=fee.needs_review,
            description=f"{fee.band.label}{declined}: {titles}"[:500],
        )
    await audit.record(
        actor,
        "claim.create",
        claim,
        after={"days": len(fees), "fees_pence": sum(f.pence for f in fees)},
        on_behalf_of=on_behalf(actor, rep),
    )
    return claim


def _has_editable(claim: Claim) -> None:
    if claim.status not in (ClaimStatus.DRAFT, ClaimStatus.REJECTED):
        raise Conflict(
            f"This claim is {claim.status.label.lower()} and can no longer be changed", "status"
        )


def sniff_receipt(content: bytes) -> str | None:
    """The real type of an upload, from its first bytes, whatever its name says."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def receipts_dir() -> Path:
    path = Path(get_settings().receipts_dir)
    return path if path.is_absolute() else ROOT / path


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


async def add_expense(
    actor: Actor, claim: Claim, data: Mapping[str, Any], receipt: Upload | None = None
) -> Expense:
    rep = await claim.representative
    if not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    _has_editable(claim)
    settings = get_settings()
    c = Checker(data)
    kind = c.choice("kind", "the type of expense", [t.value for t in ExpenseType])
    day = c.date("day", "the date of the expense")
    description = c.text("description", "what it was for", required=False, max_length=500)
    agreed = c.boolean("agreed_beforehand")
    miles_tenths = None
    amount = 0
    if kind == ExpenseType.MILEAGE.value:
        try:
            miles = Decimal(c.raw("miles"))
            if miles <= 0 or miles > 1000 or miles.as_tuple().exponent < -1:  # type: ignore[operator]
                raise InvalidOperation
            miles_tenths = int(miles * 10)
            amount = pay.mileage_pence(miles, settings.mileage_pence_per_mile)
        except (InvalidOperation, ValueError):
            c.fail("miles", "Enter the miles as a number, like 12 or 12.5")
    elif kind:
        raw = c.raw("amount").replace("£", "").replace(",", "")
        try:
            value = Decimal(raw)
            # NaN and Infinity have no numeric exponent: refuse them before comparing it.
            if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
                raise InvalidOperation
            if value > 10_000:  # beyond any real expense, and beyond the integer column
                c.fail("amount", "The amount must be £10,000 or less")
            amount = int(value * 100)
        except (InvalidOperation, ValueError):
            c.fail("amount", "Enter the amount in pounds, like 3.80")
    receipt_type = None
    if receipt is not None and receipt.content:
        if len(receipt.content) > settings.receipt_max_bytes:
            c.fail(
                "receipt",
                f"The receipt must be smaller than {settings.receipt_max_bytes // 1_048_576} MB",
            )
        receipt_type = sniff_receipt(receipt.content)
        if receipt_type is None:
            c.fail("receipt", "The receipt must be a PDF, JPEG or PNG file")
    if kind and not c.errors:
        for field, message in pay.expense_problems(
            ExpenseType(kind),
            amount,
            has_receipt=receipt_type is not None,
            agreed_beforehand=agreed,
            subsistence_cap_pence=settings.subsistence_cap_pence,
        ):
            c.fail(field, message)
    c.done()
    assert day is not None
    if not claim.period_start <= day <= claim.period_end:
        raise ValidationFailed.one("day", "The date must be within the claim's dates")
    stored = None
    if receipt_type is not None and receipt is not None:
        folder = receipts_dir() / str(claim.organisation_id)
        folder.mkdir(parents=True, exist_ok=True)
        stored = f"{claim.organisation_id}/{uuid.uuid4().hex}"
        (receipts_dir() / stored).write_bytes(receipt.content)
    async with in_transaction():
        expense = await Expense.create(
            claim=claim,
            kind=kind,
            day=day,
            description=description or None,
            miles_tenths=miles_tenths,
            amount_pence=amount,
            agreed_beforehand=agreed,
            receipt_path=stored,
            receipt_type=receipt_type,
            receipt_name=(receipt.filename[:200] if receipt and stored else None),
        )
        await audit.record(
            actor,
            "expense.add",
            expense,
            after=audit.snapshot(expense, exclude={"receipt_path"}),
            organisation_id=claim.organisation_id,
            on_behalf_of=on_behalf(actor, rep),
        )
    return expense


async def receipt_for(actor: Actor, expense_id: int) -> tuple[Path, str, str]:
    expense = await Expense.get_or_none(id=expense_id)
    if expense is None or not expense.receipt_path:
        raise NotFound
    await claim_for(actor, expense.claim_id)  # the same people who may see the claim
    return (
        receipts_dir() / expense.receipt_path,
        expense.receipt_type or "application/octet-stream",
        expense.receipt_name or "receipt",
    )


async def remove_expense(actor: Actor, expense: Expense) -> None:
    claim = await claim_for(actor, expense.claim_id)
    _has_editable(claim)
    async with in_transaction():
        await expense.delete()
        await audit.record(
            actor, "expense.remove", ("Expense", expense.id), organisation_id=claim.organisation_id
        )


@dataclass(frozen=True)
class Totals:
    fees_pence: int
    expenses_pence: int
    adjustments_pence: int

    @property
    def total_pence(self) -> int:
        return self.fees_pence + self.expenses_pence + self.adjustments_pence


async def totals(claim: Claim) -> Totals:
    lines = await ClaimLine.filter(claim=claim)
    expenses = await Expense.filter(claim=claim)
    return Totals(
        fees_pence=sum(line.amount_pence for line in lines if line.kind == LineKind.FEE),
        expenses_pence=sum(
            e.approved_pence if e.approved_pence is not None else e.amount_pence for e in expenses
        ),
        adjustments_pence=sum(
            line.amount_pence for line in lines if line.kind == LineKind.ADJUSTMENT
        ),
    )


async def submit(actor: Actor, claim: Claim) -> Claim:
    rep = await claim.representative
    if not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound
    _has_editable(claim)
    if (
        not await ClaimLine.filter(claim=claim).exists()
        and not await Expense.filter(claim=claim).exists()
    ):
        raise ValidationFailed.one("claim", "There is nothing on this claim to submit")
    # A rejected claim gave its days back: sent again, it takes them again, if still free.
    retaking = (
        [
            line.day
            for line in await ClaimLine.filter(claim=claim, kind=LineKind.FEE)
            if line.day is not None
        ]
        if claim.status == ClaimStatus.REJECTED
        else []
    )
    try:
        async with in_transaction():
            await _take_days(claim, retaking)
            claim.status = ClaimStatus.SUBMITTED
            claim.submitted_at = _now()
            claim.submitted_by = actor.user
            claim.rejection_reason = None  # type: ignore[assignment]
            await claim.save(
                update_fields=["status", "submitted_at", "submitted_by_id", "rejection_reason"]
            )
            await audit.record(
                actor,
                "claim.submit",
                claim,
                after={"status": "submitted"},
                on_behalf_of=on_behalf(actor, rep),
            )
    except IntegrityError:
        raise await _day_taken(rep.id, claim.organisation_id, retaking, "claim") from None
    return claim


def _separation_of_duties(actor: Actor, claim: Claim, rep: Representative) -> None:
    """Nobody decides a claim they made: the claimant, or the lead who submitted it for them."""
    if not is_lead(actor):
        raise Forbidden
    if is_self(actor, rep) or (actor.user is not None and claim.submitted_by_id == actor.user.id):  # type: ignore[attr-defined]
        raise Conflict(
            "Another involvement lead must decide this claim, not the person who made it", "claim"
        )


async def approve(actor: Actor, claim: Claim, data: Mapping[str, Any]) -> Claim:
    """Approve, optionally adjusting expense amounts (`approved_<expense id>` in pounds, as the
    approver types them, with `reason_<expense id>`)."""
    rep = await claim.representative
    _separation_of_duties(actor, claim, rep)
    if claim.status != ClaimStatus.SUBMITTED:
        raise Conflict("Only a submitted claim can be approved", "status")
    c = Checker(data)
    changes: dict[int, tuple[int, str]] = {}
    for expense in await Expense.filter(claim=claim):
        key = f"approved_{expense.id}"
        if c.raw(key) == "":
            continue
        value = c.pounds(key, "the approved amount", minimum=0, maximum=expense.amount_pence)
        if value is not None and value != expense.amount_pence:
            reason = c.text(f"reason_{expense.id}", "the reason for the change", max_length=500)
            changes[expense.id] = (value, reason)
    c.done()
    async with in_transaction():
        for expense_id, (value, reason) in changes.items():
            await Expense.filter(id=expense_id).update(
                approved_pence=value, adjustment_reason=reason
            )
        claim.status = ClaimStatus.APPROVED
        claim.decided_at = _now()
        claim.decided_by = actor.user
        await claim.save(update_fields=["status", "decided_at", "decided_by_id"])
        await _cost_involvements(claim)
        await audit.record(
            actor,
            "claim.approve",
            claim,
            after={
                "status": "approved",
                "adjusted": {str(k): v[0] for k, v in changes.items()},
                "total_pence": (await totals(claim)).total_pence,
            },
        )
    return claim


async def reject(actor: Actor, claim: Claim, data: Mapping[str, Any]) -> Claim:
    rep = await claim.representative
    _separation_of_duties(actor, claim, rep)
    if claim.status != ClaimStatus.SUBMITTED:
        raise Conflict("Only a submitted claim can be rejected", "status")
    c = Checker(data)
    reason = c.text("reason", "the reason, so they can put it right", max_length=2000)
    c.done()
    async with in_transaction():
        claim.status = ClaimStatus.REJECTED
        claim.decided_at = _now()
        claim.decided_by = actor.user
        claim.rejection_reason = reason
        await claim.save(
            update_fields=["status", "decided_at", "decided_by_id", "rejection_reason"]
        )
        # Its days are free for another claim; if it is sent again it must take them back.
        await FeeDay.filter(claim=claim).delete()
        await audit.record(
            actor, "claim.reject", claim, after={"status": "rejected", "reason": reason}
        )
    return claim


async def correct(actor: Actor, claim: Claim, data: Mapping[str, Any]) -> Claim:
    """A paid claim never changes: a correction is a new claim with an adjustment line, which
    goes through approval like any other. It takes no day, so it is never refused as a day
    already paid."""
    if not is_lead(actor):
        raise Forbidden
    if claim.status not in SETTLED:
        raise Conflict("Only a paid claim needs a correction. Change this one directly", "status")
    c = Checker(data)
    # The page takes pounds as a lead types them; callers holding pence may give amount_pence.
    field = "amount_pence" if c.raw("amount") == "" and c.raw("amount_pence") else "amount"
    if field == "amount":
        amount = c.pounds("amount", "the correction", minimum=-10_000_00, maximum=10_000_00)
    else:
        amount = c.integer(
            "amount_pence",
            "the correction in pence (negative to take back)",
            minimum=-10_000_00,
            maximum=10_000_00,
        )
    reason = c.text("reason", "the reason for the correction", max_length=400)
    c.done()
    if not amount:
        raise ValidationFailed.one(field, "Enter a correction other than 0")
    # The correction counts towards earnings in the week or month of the day it puts right.
    fee_days = [
        line.day
        for line in await ClaimLine.filter(claim=claim, kind=LineKind.FEE)
        if line.day is not None
    ]
    async with in_transaction():
        correction = await Claim.create(
            organisation_id=claim.organisation_id,
            representative_id=claim.representative_id,
            period_start=claim.period_start,
            period_end=claim.period_end,
        )
        await ClaimLine.create(
            claim=correction,
            kind=LineKind.ADJUSTMENT,
            day=max(fee_days, default=claim.period_end),
            amount_pence=amount,
            description=f"Correction to claim {claim.id}: {reason}",
            created_by=actor.user,
        )
        await audit.record(
            actor,
            "claim.correct",
            correction,
            before={"claim_id": claim.id},
            after={"amount_pence": amount, "reason": reason},
        )
    return correction


# --------------------------------------------------------------------------- earnings, statements


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
    )
    claimed = {line.day for line in lines if line.kind == LineKind.FEE}
    upcoming = (
        await Booking.filter(representative=rep, status=BookingStatus.CONFIRMED)
        .exclude(activity_id=leaving_out)
        .prefetch_related("activity")
    )
    expected = [
        (london_date(b.starts_at), b.activity.duration_minutes + b.activity.preparation_minutes)
        for b in upcoming
        if start <= london_date(b.starts_at) <= end and london_date(b.starts_at) not in claimed
    ]
    declined = rep.payment_preference == PaymentPreference.DECLINE
    fees = pay.daily_fees(expected, await rate_card(rep.organisation_id), declined=declined)
    return sum(line.amount_pence for line in lines) + sum(f.pence for f in fees)


OWN_LIMIT = "your own limit"


def limit_of(rep: Representative, day: dt.date | None = None) -> tuple[int, str, str] | None:
    """(pence, period, label) of the earnings limit the person asked us to watch, if any, as it
    stood for the week or month holding `day` (today if not given)."""
    if rep.earnings_limit_pence and rep.earnings_limit_period in ("week", "month"):
        return rep.earnings_limit_pence, rep.earnings_limit_period, OWN_LIMIT
    figure = pay.limit_in_force(
        [lim for lim in get_settings().earnings_limits if lim.code == rep.earnings_limit_code],
        day or dt.date.today(),
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
    limit_pence, period, label = limit
    start, end = pay.period_of(day, period)
    earned = await earnings_between(rep, start, end, leaving_out=leaving_out)
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
    if choice == "own":
        value = pay.pounds(c.raw("own_amount"))
        if value is None or value <= 0:
            c.fail("own_amount", "Enter your limit in pounds, like 195.50")
        elif value > LIMIT_MOST_POUNDS:
            c.fail("own_amount", f"Your limit must be £{LIMIT_MOST_POUNDS:,} or less")
        else:
            amount = int(value * 100)
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
    day = day or dt.date.today()
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
    if limit_of(rep) is None or rep.payment_preference == PaymentPreference.DECLINE:
        return None
    day = london_date(starts_at)
    same_day = (
        await Booking.filter(
            representative=rep, status__in=[BookingStatus.CONFIRMED, BookingStatus.ATTENDED]
        )
        .exclude(activity_id=activity_id)
        .prefetch_related("activity")
    )
    already = sum(
        (b.attended_minutes or 0) + (b.preparation_minutes or 0)
        if b.status == BookingStatus.ATTENDED
        else b.activity.duration_minutes + b.activity.preparation_minutes
        for b in same_day
        if london_date(b.starts_at) == day
    )
    rates = pay.rates_on(day, await rate_card(rep.organisation_id))
    extra = (
        pay.fee_for_day(day, already + minutes, rates).pence
        - pay.fee_for_day(day, already, rates).pence
    )
    return await earnings_warning(rep, day, extra, leaving_out=activity_id, to_person=to_person)


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
    found = {}
    for rep in reps:
        if warning := await activity_warning(
            rep, moment, minutes, activity_id=activity.id, to_person=to_person
        ):
            found[rep.id] = warning
    return found


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


async def statement(actor: Actor, rep: Representative, tax_year: int) -> list[StatementRow]:
    """Every payment made in a tax year (6 April to 5 April), for HMRC or DWP."""
    if (
        not (is_lead(actor) or actor.has(Role.FINANCE_OFFICER) or is_self(actor, rep))
        or rep.organisation_id != actor.organisation_id
    ):
        raise NotFound
    start, end = pay.tax_year_bounds(tax_year)
    rows = []
    for claim in await Claim.filter(representative=rep, status__in=list(SETTLED)).order_by(
        "paid_at"
    ):
        if claim.paid_at is None:
            continue
        paid_on = london_date(claim.paid_at)
        if not start <= paid_on <= end:
            continue
        t = await totals(claim)
        rows.append(
            StatementRow(
                claim.id,
                paid_on,
                t.fees_pence,
                t.expenses_pence,
                t.adjustments_pence,
                "Payroll" if claim.status == ClaimStatus.SENT_TO_PAYROLL else "Bank transfer",
            )
        )
    await audit.record(actor, "statement.view", rep, after={"tax_year": tax_year})
    return rows
