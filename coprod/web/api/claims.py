"""API operations for attendance, claims and corrections; the declarations shared with
api/expenses.py, api/payouts.py and api/earnings.py.

Handlers only translate between JSON and the services: every rule (pay bands, the rate card,
separation of duties, who may see what) lives in coprod.services.attendance and
coprod.services.claims. Money is always integer pence.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request

from coprod.domain.pay import ExpenseType
from coprod.errors import NotFound
from coprod.models import (
    Booking,
    BookingStatus,
    Claim,
    ClaimLine,
    ClaimStatus,
    Expense,
    LineKind,
    MoneyState,
    Role,
)
from coprod.services import access, attendance, bookings, claims, earnings
from coprod.services.actor import Actor
from coprod.validation import FieldError, ValidationFailed
from coprod.web.api.activities import EarningsWarning, warnings_of
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, NoBody, Page, Paging, Reply, text

CLAIMS = "claims"
PAYMENTS = "payments"
LEADS = (Role.INVOLVEMENT_LEAD,)
FINANCE = (Role.FINANCE_OFFICER,)
CLAIMANTS = (Role.INVOLVEMENT_LEAD, Role.REPRESENTATIVE)
READERS = (Role.INVOLVEMENT_LEAD, Role.FINANCE_OFFICER, Role.REPRESENTATIVE)


def pounds_of(pence: int) -> str:
    """Pence as the pounds a page's form would hold, for services that read pounds as people
    type them (exact: no float on the way)."""
    return f"{Decimal(pence) / 100:.2f}"


# ---------------------------------------------------------------------------- declarations


class AttendanceInput(Body):
    attended: Literal["yes", "no"] = Field(title="whether they attended")
    attended_minutes: int | None = Field(
        None,
        title="minutes attended",
        description="Minutes they took part, 0 to 1440; the scheduled length if left out",
    )
    preparation_minutes: int | None = Field(
        None,
        title="preparation minutes",
        description="Paid preparation, 0 to 1440; the activity's agreed preparation if left out",
    )


class AttendanceReply(Reply):
    id: int
    activity_id: int
    representative_id: int
    status: BookingStatus
    starts_at: DateTime
    attended_minutes: int | None
    preparation_minutes: int | None
    attendance_recorded_at: DateTime | None


class Totals(Reply):
    fees_pence: int
    expenses_pence: int
    adjustments_pence: int
    total_pence: int


class LineReply(Reply):
    id: int
    kind: LineKind
    day: dt.date | None = Field(
        description="The Europe/London day of a fee, or the day a correction puts right"
    )
    minutes: int = Field(description="Attended plus preparation minutes that day")
    band: str | None
    amount_pence: int
    needs_review: bool = Field(description="Over the day band's top: paid as a day, to check")
    description: str


class ReceiptReply(Reply):
    name: str
    type: Literal["application/pdf", "image/jpeg", "image/png"]
    url: str = Field(description="The API operation that serves it to people who may see the claim")


class ExpenseReply(Reply):
    id: int
    claim_id: int
    kind: ExpenseType
    day: dt.date
    description: str | None
    miles: str | None = Field(description='Miles to one decimal place, like "12.5"')
    amount_pence: int
    approved_pence: int | None
    adjustment_reason: str | None
    agreed_beforehand: bool
    receipt: ReceiptReply | None


WARNINGS_DESCRIPTION = (
    "Earnings-limit warnings, the same as the pages show: this may affect someone's benefits. "
    "They never stop anything"
)


class ClaimSummary(Reply):
    id: int
    representative_id: int
    representative_name: str
    status: ClaimStatus
    period_start: dt.date
    period_end: dt.date
    submitted_at: DateTime | None
    decided_at: DateTime | None
    paid_at: DateTime | None = Field(
        description="When the money was transferred or sent to payroll"
    )
    total_pence: int
    money: MoneyState = Field(
        description="Where a bank transfer's money is, as Stripe last told us: none (not sent), "
        "held (their Stripe account cannot receive it yet), transferred (in their Stripe "
        "account), paid_out (in their bank), payout_failed (their bank returned it; it waits "
        "in their Stripe balance), reversed (taken back: pay again)"
    )
    money_reason: str | None = Field(
        description="Why the money is held or came back, and what to do about it"
    )
    money_changed_at: DateTime | None = Field(description="When the money last moved")


class ClaimReply(ClaimSummary):
    submitted_by_id: int | None
    decided_by_id: int | None
    rejection_reason: str | None
    totals: Totals
    lines: list[LineReply]
    expenses: list[ExpenseReply]
    earnings_warning: str | None = Field(
        description="Set when the claim takes them over an earnings limit they asked us to "
        "watch. It never stops the claim"
    )
    warnings: list[EarningsWarning] = Field(description=WARNINGS_DESCRIPTION)


class ClaimsQuery(Paging):
    status: ClaimStatus | None = Field(None, title="a status")
    money: MoneyState | None = Field(None, title="where the money is")
    representative_id: Id | None = Field(None, title="a person", description="Whose claims")


class CreateClaim(Body):
    representative_id: Id | None = Field(
        None,
        title="the person claiming",
        description="Whose claim; a representative may leave it out for their own",
    )
    period_start: dt.date = Field(title="the first day of the claim")
    period_end: dt.date = Field(title="the last day of the claim")


class Adjustment(Body):
    expense_id: Id = Field(title="an expense")
    approved_pence: int = Field(
        title="the approved amount in pence", description="At most the amount claimed"
    )
    reason: str | None = text(
        500,
        required=False,
        default=None,
        title="the reason for the change",
        description="Needed when the approved amount differs",
    )


class ApproveInput(Body):
    adjustments: list[Adjustment] = Field(
        default_factory=list, max_length=200, title="the expense adjustments"
    )


class RejectInput(Body):
    reason: str = text(2000, title="the reason, so they can put it right")


class CorrectionInput(Body):
    amount_pence: int = Field(
        title="the correction in pence (negative to take back)",
        description="Negative to take back; at most £10,000 either way",
    )
    reason: str = text(400, title="the reason for the correction")


# ---------------------------------------------------------------------------- replies


def attendance_reply(booking: Booking) -> AttendanceReply:
    return AttendanceReply(
        id=booking.id,
        activity_id=booking.activity_id,
        representative_id=booking.representative_id,
        status=booking.status,
        starts_at=booking.starts_at,
        attended_minutes=booking.attended_minutes,
        preparation_minutes=booking.preparation_minutes,
        attendance_recorded_at=booking.attendance_recorded_at,
    )


def expense_reply(e: Expense) -> ExpenseReply:
    receipt = None
    if e.receipt_path:
        receipt = ReceiptReply(
            name=e.receipt_name or "receipt",
            type=e.receipt_type,  # type: ignore[arg-type]
            url=f"{api.prefix}/expenses/{e.id}/receipt",
        )
    return ExpenseReply(
        id=e.id,
        claim_id=e.claim_id,
        kind=ExpenseType(e.kind),
        day=e.day,
        description=e.description,
        miles=str(Decimal(e.miles_tenths) / 10) if e.miles_tenths is not None else None,
        amount_pence=e.amount_pence,
        approved_pence=e.approved_pence,
        adjustment_reason=e.adjustment_reason,
        agreed_beforehand=e.agreed_beforehand,
        receipt=receipt,
    )


def _line(line: ClaimLine) -> LineReply:
    return LineReply(
        id=line.id,
        kind=line.kind,
        day=line.day,
        minutes=line.minutes,
        band=line.band,
        amount_pence=line.amount_pence,
        needs_review=line.needs_review,
        description=line.description,
    )


def _summary_fields(claim: Claim, t: claims.Totals) -> dict[str, Any]:
    return {
        "id": claim.id,
        "representative_id": claim.representative_id,
        "representative_name": claim.representative.full_name,
        "status": claim.status,
        "period_start": claim.period_start,
        "period_end": claim.period_end,
        "submitted_at": claim.submitted_at,
        "decided_at": claim.decided_at,
        "paid_at": claim.paid_at,
        "total_pence": t.total_pence,
        "money": claim.money,
        "money_reason": claim.money_reason,
        "money_changed_at": claim.money_changed_at,
    }


async def claim_reply(claim: Claim) -> ClaimReply:
    t = await claims.totals(claim)
    open_ = claim.status in (ClaimStatus.DRAFT, ClaimStatus.SUBMITTED)
    warning = await earnings.claim_warning(claim) if open_ else None
    return ClaimReply(
        **_summary_fields(claim, t),
        submitted_by_id=claim.submitted_by_id,  # type: ignore[attr-defined]
        decided_by_id=claim.decided_by_id,  # type: ignore[attr-defined]
        rejection_reason=claim.rejection_reason,
        totals=Totals(
            fees_pence=t.fees_pence,
            expenses_pence=t.expenses_pence,
            adjustments_pence=t.adjustments_pence,
            total_pence=t.total_pence,
        ),
        lines=[_line(line) for line in await ClaimLine.filter(claim=claim)],
        expenses=[expense_reply(e) for e in await Expense.filter(claim=claim)],
        earnings_warning=warning,
        warnings=warnings_of({claim.representative_id: warning} if warning else {}),
    )


# ---------------------------------------------------------------------------- attendance


@api.operation(
    "POST",
    "/bookings/{id:int}/attendance",
    summary="Record whether someone attended, with the minutes and preparation to pay for",
    tag=CLAIMS,
    roles=LEADS,
    body=AttendanceInput,
    reply=AttendanceReply,
)
async def record_attendance(
    request: Request, actor: Actor, id: int, body: AttendanceInput
) -> AttendanceReply:
    booking = await bookings.booking_for(actor, id)
    return attendance_reply(await attendance.record_attendance(actor, booking, body.data()))


# ---------------------------------------------------------------------------- claims


@api.operation(
    "GET",
    "/claims",
    summary="Claims, latest period first: leads and finance see the organisation's, a "
    "representative their own",
    tag=CLAIMS,
    roles=READERS,
    query=ClaimsQuery,
    reply=Page[ClaimSummary],
)
async def list_claims(request: Request, actor: Actor, query: ClaimsQuery) -> Page[ClaimSummary]:
    found = Claim.filter(organisation_id=actor.organisation_id)
    if not (access.is_lead(actor) or actor.has(Role.FINANCE_OFFICER)):
        try:  # a representative: their own claims only
            rep = await access.own_representative(actor)
        except NotFound:
            return Page(items=[], next_cursor=None)
        found = found.filter(representative=rep)
    if query.status is not None:
        found = found.filter(status=query.status)
    if query.money is not None:
        found = found.filter(money=query.money)
    if query.representative_id is not None:
        found = found.filter(representative_id=query.representative_id)
    rows, cursor = await keyset_page(found, query, ("-period_start", "-id"))
    await Claim.fetch_for_list(rows, "representative")
    totals = await claims.totals_for(rows)
    return Page(
        items=[ClaimSummary(**_summary_fields(c, totals[c.id])) for c in rows],
        next_cursor=cursor,
    )


@api.operation(
    "POST",
    "/claims",
    summary="Draft a claim from attendance: one fee per Europe/London day not yet claimed",
    tag=CLAIMS,
    roles=CLAIMANTS,
    body=CreateClaim,
    reply=ClaimReply,
    status=201,
)
async def create_claim(request: Request, actor: Actor, body: CreateClaim) -> ClaimReply:
    if body.representative_id is None:
        if access.is_lead(actor):
            raise ValidationFailed.one("representative_id", "Select the person claiming")
        rep = await access.own_representative(actor)
    else:
        rep = await access.representative_for(actor, body.representative_id)
    claim = await claims.generate_draft(actor, rep, body.data())
    return await claim_reply(await claims.claim_for(actor, claim.id))


@api.operation(
    "GET",
    "/claims/{id:int}",
    summary="One claim with its fee lines, expenses, totals and any earnings warning",
    tag=CLAIMS,
    roles=READERS,
    reply=ClaimReply,
)
async def get_claim(request: Request, actor: Actor, id: int) -> ClaimReply:
    return await claim_reply(await claims.claim_for(actor, id))


@api.operation(
    "POST",
    "/claims/{id:int}/submit",
    summary="Submit a draft (or rejected) claim for approval",
    tag=CLAIMS,
    roles=CLAIMANTS,
    body=NoBody,
    reply=ClaimReply,
)
async def submit_claim(request: Request, actor: Actor, id: int, body: NoBody) -> ClaimReply:
    claim = await claims.claim_for(actor, id)
    return await claim_reply(await claims.submit(actor, claim))


def _approval_data(body: ApproveInput) -> tuple[dict[str, Any], dict[int, int]]:
    """`adjustments` as the service's `approved_<id>`/`reason_<id>` keys (in pounds, as
    approvers type them on the page), and where in the list each expense was given (to name
    the field of an error)."""
    data: dict[str, Any] = {}
    where: dict[int, int] = {}
    for i, adjustment in enumerate(body.adjustments):
        data[f"approved_{adjustment.expense_id}"] = pounds_of(adjustment.approved_pence)
        data[f"reason_{adjustment.expense_id}"] = adjustment.reason
        where[adjustment.expense_id] = i
    return data, where


def _adjustment_field(field: str, where: dict[int, int]) -> str:
    """`approved_7` becomes `adjustments.0.approved_pence`, `reason_7` `adjustments.0.reason`."""
    name, _, expense_id = field.partition("_")
    if expense_id.isdigit() and int(expense_id) in where:
        part = "approved_pence" if name == "approved" else "reason"
        return f"adjustments.{where[int(expense_id)]}.{part}"
    return field


@api.operation(
    "POST",
    "/claims/{id:int}/approve",
    summary="Approve a submitted claim, optionally paying less for some expenses (with reasons). "
    "Nobody approves a claim they made or submitted",
    tag=CLAIMS,
    roles=LEADS,
    body=ApproveInput,
    reply=ClaimReply,
)
async def approve_claim(request: Request, actor: Actor, id: int, body: ApproveInput) -> ClaimReply:
    claim = await claims.claim_for(actor, id)
    data, where = _approval_data(body)
    on_claim = {e.id for e in await Expense.filter(claim=claim)}
    strangers = [i for expense_id, i in where.items() if expense_id not in on_claim]
    if strangers:
        raise ValidationFailed(
            FieldError(f"adjustments.{i}.expense_id", "This expense is not on the claim")
            for i in strangers
        )
    try:
        approved = await claims.approve(actor, claim, data)
    except ValidationFailed as exc:
        raise ValidationFailed(
            FieldError(_adjustment_field(e.field, where), e.message) for e in exc.errors
        ) from None
    return await claim_reply(approved)


@api.operation(
    "POST",
    "/claims/{id:int}/reject",
    summary="Send a submitted claim back with a reason, so it can be put right",
    tag=CLAIMS,
    roles=LEADS,
    body=RejectInput,
    reply=ClaimReply,
)
async def reject_claim(request: Request, actor: Actor, id: int, body: RejectInput) -> ClaimReply:
    claim = await claims.claim_for(actor, id)
    return await claim_reply(await claims.reject(actor, claim, body.data()))


@api.operation(
    "POST",
    "/claims/{id:int}/correct",
    summary="Correct a paid claim: a paid claim never changes, so this makes a new claim with "
    "one adjustment line, which goes through approval like any other. Replies with it",
    tag=CLAIMS,
    roles=LEADS,
    body=CorrectionInput,
    reply=ClaimReply,
    status=201,
)
async def correct_claim(
    request: Request, actor: Actor, id: int, body: CorrectionInput
) -> ClaimReply:
    claim = await claims.claim_for(actor, id)
    correction = await claims.correct(actor, claim, body.data())
    return await claim_reply(await claims.claim_for(actor, correction.id))
