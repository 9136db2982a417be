"""Claims and their expenses: drafting from attended days, receipts, submitting, and approval,
rejection and correction."""

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
from coprod.domain.pay import ExpenseType
from coprod.domain.scheduling import london_date
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import (
    SETTLED,
    Booking,
    BookingStatus,
    Claim,
    ClaimLine,
    ClaimStatus,
    Expense,
    FeeDay,
    LineKind,
    PaymentPreference,
    Representative,
    Role,
)
from coprod.services import audit, rate_cards
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.services.representatives import on_behalf
from coprod.templating import long_date
from coprod.validation import Checker, ValidationFailed


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


async def suggested_period(rep: Representative, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day to offer for someone's next claim from attendance."""
    attended = await Booking.filter(representative=rep, status=BookingStatus.ATTENDED).values_list(
        "starts_at", flat=True
    )
    taken = await _claimed_days(rep)
    days = {london_date(starts_at) for starts_at in attended}  # type: ignore[arg-type]
    return pay.claim_period(days - taken, today)


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
        await rate_cards.rate_card(rep.organisation_id),
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
    # The page takes pounds as people type them; callers holding pence give amount_pence.
    amount_field = "amount_pence" if c.raw("amount") == "" and c.raw("amount_pence") else "amount"
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
    elif kind and amount_field == "amount_pence":
        # Beyond £10,000 is beyond any real expense, and beyond the integer column.
        amount = c.integer("amount_pence", "the amount in pence", maximum=10_000_00) or 0
    elif kind:
        raw = c.raw("amount").replace("£", "").replace(",", "")
        try:
            value = Decimal(raw)
            # NaN and Infinity have no numeric exponent: refuse them before comparing it.
            if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
                raise InvalidOperation
            if value > 10_000:
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
            c.fail(amount_field if field == "amount" else field, message)
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


@dataclass(frozen=True)
class ClaimMoney:
    """A claim's lines and expenses, read once for both what it pays and what it cost."""

    lines: list[ClaimLine]
    expenses: list[Expense]

    @property
    def totals(self) -> Totals:
        return _totals(self.lines, self.expenses)


async def money_for(claims: Iterable[Claim]) -> dict[int, ClaimMoney]:
    """Each claim's lines and expenses in two queries, by claim id."""
    ids = [claim.id for claim in claims]
    found = {i: ClaimMoney([], []) for i in ids}
    if ids:
        for line in await ClaimLine.filter(claim_id__in=ids):
            found[line.claim_id].lines.append(line)
        for expense in await Expense.filter(claim_id__in=ids):
            found[expense.claim_id].expenses.append(expense)
    return found


async def totals(claim: Claim) -> Totals:
    return (await totals_for([claim]))[claim.id]


async def totals_for(claims: Iterable[Claim]) -> dict[int, Totals]:
    """`totals` for many claims in two queries, by claim id: lists show a total on every row."""
    return {i: money.totals for i, money in (await money_for(claims)).items()}


def _totals(lines: list[ClaimLine], expenses: list[Expense]) -> Totals:
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
