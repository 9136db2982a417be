"""API operations for attendance, and claims with their expenses; the schemas shared with
api/payouts.py and api/earnings.py.

Handlers only translate between JSON and the services: every rule (pay bands, the rate card,
receipt checks, separation of duties, who may see what) lives in coprod.services.attendance and
coprod.services.claims. Money is always integer pence.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any

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
    Role,
)
from coprod.services import access, attendance, bookings, claims, earnings
from coprod.services.actor import Actor
from coprod.validation import Checker, FieldError, ValidationFailed
from coprod.web.api.core import DATETIME, INT, STR, iso, list_of, obj
from coprod.web.api.registry import api

CLAIMS = "claims"
PAYMENTS = "payments"
LEADS = (Role.INVOLVEMENT_LEAD,)
FINANCE = (Role.FINANCE_OFFICER,)
CLAIMANTS = (Role.INVOLVEMENT_LEAD, Role.REPRESENTATIVE)
READERS = (Role.INVOLVEMENT_LEAD, Role.FINANCE_OFFICER, Role.REPRESENTATIVE)

BOOL = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
NULL_DATE = {"type": ["string", "null"], "format": "date"}
NULL_DATETIME = {"type": ["string", "null"], "format": "date-time"}
CLAIM_STATUS = {"enum": [s.value for s in ClaimStatus]}


def required(schema: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**schema, "required": list(names)}


# ---------------------------------------------------------------------------- schemas

ATTENDANCE_INPUT = required(
    obj(
        attended={"enum": ["yes", "no"]},
        attended_minutes={
            **INT,
            "description": "Minutes they took part; the scheduled length if left out",
        },
        preparation_minutes={
            **INT,
            "description": "Paid preparation; the activity's agreed preparation if left out",
        },
    ),
    "attended",
)
ATTENDANCE = obj(
    id=INT,
    activity_id=INT,
    representative_id=INT,
    status={"enum": [s.value for s in BookingStatus]},
    starts_at=DATETIME,
    attended_minutes=NULL_INT,
    preparation_minutes=NULL_INT,
    attendance_recorded_at=NULL_DATETIME,
)
TOTALS = obj(fees_pence=INT, expenses_pence=INT, adjustments_pence=INT, total_pence=INT)
LINE = obj(
    id=INT,
    kind={"enum": [k.value for k in LineKind]},
    day={
        **NULL_DATE,
        "description": "The Europe/London day of a fee, or the day a correction puts right",
    },
    minutes={**INT, "description": "Attended plus preparation minutes that day"},
    band=NULL_STR,
    amount_pence=INT,
    needs_review={**BOOL, "description": "Over the day band's top: paid as a day, to check"},
    description=STR,
)
RECEIPT = {
    "type": ["object", "null"],
    "properties": {
        "name": STR,
        "type": {"enum": ["application/pdf", "image/jpeg", "image/png"]},
        "url": {**STR, "description": "Served only to people who may see the claim"},
    },
}
EXPENSE = obj(
    id=INT,
    claim_id=INT,
    kind={"enum": [t.value for t in ExpenseType]},
    day=DATE,
    description=NULL_STR,
    miles=NULL_STR,
    amount_pence=INT,
    approved_pence=NULL_INT,
    adjustment_reason=NULL_STR,
    agreed_beforehand=BOOL,
    receipt=RECEIPT,
)
CLAIM_SUMMARY = obj(
    id=INT,
    representative_id=INT,
    representative_name=STR,
    status=CLAIM_STATUS,
    period_start=DATE,
    period_end=DATE,
    submitted_at=NULL_DATETIME,
    decided_at=NULL_DATETIME,
    paid_at=NULL_DATETIME,
    total_pence=INT,
)
WARNINGS = {
    "type": "array",
    "items": obj(representative_id=INT, message=STR),
    "description": "Earnings-limit warnings, the same as the pages show: this may affect "
    "someone's benefits. They never stop anything",
}
CLAIM = obj(
    **CLAIM_SUMMARY["properties"],
    submitted_by_id=NULL_INT,
    decided_by_id=NULL_INT,
    rejection_reason=NULL_STR,
    totals=TOTALS,
    lines={"type": "array", "items": LINE},
    expenses={"type": "array", "items": EXPENSE},
    earnings_warning={
        **NULL_STR,
        "description": "Set when the claim takes them over an earnings limit they asked us to "
        "watch. It never stops the claim",
    },
    warnings=WARNINGS,
)
CREATE_CLAIM = required(
    obj(
        representative_id={
            **INT,
            "description": "Whose claim; a representative may leave it out for their own",
        },
        period_start=DATE,
        period_end=DATE,
    ),
    "period_start",
    "period_end",
)
ADJUSTMENT = required(
    obj(
        expense_id=INT,
        approved_pence={
            **INT,
            "description": "In pence (the page takes pounds), at most the amount claimed",
        },
        reason={**STR, "description": "Needed when the approved amount differs"},
    ),
    "expense_id",
    "approved_pence",
)
APPROVE_INPUT = obj(adjustments={"type": "array", "items": ADJUSTMENT})
REJECT_INPUT = required(obj(reason=STR), "reason")
EXPENSE_INPUT = required(
    obj(
        kind={"enum": [t.value for t in ExpenseType]},
        day=DATE,
        miles={
            "type": ["string", "number"],
            "description": "For mileage: miles to one decimal place",
        },
        amount={"type": "string", "description": 'In pounds, like "3.80"'},
        amount_pence={**INT, "description": "Instead of amount"},
        description=STR,
        agreed_beforehand={**BOOL, "description": "Taxis are paid only if agreed beforehand"},
        receipt=required(
            obj(
                filename=STR,
                content_base64={**STR, "description": "A PDF, JPEG or PNG, up to 5 MB"},
            ),
            "content_base64",
        ),
    ),
    "kind",
    "day",
)
# ---------------------------------------------------------------------------- serialising


def _attendance(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "activity_id": booking.activity_id,
        "representative_id": booking.representative_id,
        "status": BookingStatus(booking.status).value,
        "starts_at": iso(booking.starts_at),
        "attended_minutes": booking.attended_minutes,
        "preparation_minutes": booking.preparation_minutes,
        "attendance_recorded_at": iso(booking.attendance_recorded_at),
    }


def _expense(e: Expense) -> dict[str, Any]:
    return {
        "id": e.id,
        "claim_id": e.claim_id,
        "kind": e.kind,
        "day": e.day.isoformat(),
        "description": e.description,
        "miles": str(Decimal(e.miles_tenths) / 10) if e.miles_tenths is not None else None,
        "amount_pence": e.amount_pence,
        "approved_pence": e.approved_pence,
        "adjustment_reason": e.adjustment_reason,
        "agreed_beforehand": e.agreed_beforehand,
        "receipt": (
            {"name": e.receipt_name, "type": e.receipt_type, "url": f"/receipts/{e.id}"}
            if e.receipt_path
            else None
        ),
    }


def _line(line: ClaimLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "kind": LineKind(line.kind).value,
        "day": line.day.isoformat() if line.day else None,
        "minutes": line.minutes,
        "band": line.band,
        "amount_pence": line.amount_pence,
        "needs_review": line.needs_review,
        "description": line.description,
    }


def _summary(claim: Claim, t: claims.Totals) -> dict[str, Any]:
    return {
        "id": claim.id,
        "representative_id": claim.representative_id,
        "representative_name": claim.representative.full_name,
        "status": ClaimStatus(claim.status).value,
        "period_start": claim.period_start.isoformat(),
        "period_end": claim.period_end.isoformat(),
        "submitted_at": iso(claim.submitted_at),
        "decided_at": iso(claim.decided_at),
        "paid_at": iso(claim.paid_at),
        "total_pence": t.total_pence,
    }


async def _claim(claim: Claim) -> dict[str, Any]:
    t = await claims.totals(claim)
    open_ = claim.status in (ClaimStatus.DRAFT, ClaimStatus.SUBMITTED)
    warning = await earnings.claim_warning(claim) if open_ else None
    return {
        **_summary(claim, t),
        "submitted_by_id": claim.submitted_by_id,  # type: ignore[attr-defined]
        "decided_by_id": claim.decided_by_id,  # type: ignore[attr-defined]
        "rejection_reason": claim.rejection_reason,
        "totals": {
            "fees_pence": t.fees_pence,
            "expenses_pence": t.expenses_pence,
            "adjustments_pence": t.adjustments_pence,
            "total_pence": t.total_pence,
        },
        "lines": [_line(line) for line in await ClaimLine.filter(claim=claim)],
        "expenses": [_expense(e) for e in await Expense.filter(claim=claim)],
        "earnings_warning": warning,
        "warnings": warnings_json({claim.representative_id: warning} if warning else {}),
    }


def warnings_json(found: dict[int, str]) -> list[dict[str, Any]]:
    return [{"representative_id": k, "message": v} for k, v in sorted(found.items())]


# ---------------------------------------------------------------------------- reading input


def _pounds_of(body: dict[str, Any]) -> dict[str, Any]:
    """`amount_pence` is another way to give `amount`: the service reads pounds."""
    if "amount_pence" not in body or body["amount_pence"] in (None, ""):
        return body
    if body.get("amount") not in (None, ""):
        raise ValidationFailed.one("amount_pence", "Give amount or amount_pence, not both")
    c = Checker(body)
    pence = c.integer("amount_pence", "the amount in pence")
    c.done()
    assert pence is not None
    return {**body, "amount": str(Decimal(pence).scaleb(-2))}


def _upload_of(body: dict[str, Any]) -> claims.Upload | None:
    raw = body.get("receipt")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("content_base64"), str):
        raise ValidationFailed.one("receipt", 'Send the receipt as {"filename", "content_base64"}')
    try:
        data = base64.b64decode("".join(raw["content_base64"].split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.one("receipt", "The receipt must be base64-encoded") from None
    filename = str(raw.get("filename") or "").strip() or "receipt"
    return claims.Upload(filename, data)


def _adjustments_of(body: dict[str, Any]) -> tuple[dict[str, Any], dict[int, int]]:
    """`adjustments` as the service's `approved_<id>`/`reason_<id>` keys, and where in the list
    each expense was given (to name the field of an error)."""
    raw = body.get("adjustments")
    if raw is None:
        return {}, {}
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise ValidationFailed.one("adjustments", "Send a list of expense adjustments")
    data: dict[str, Any] = {}
    where: dict[int, int] = {}
    errors = []
    for i, adjustment in enumerate(raw):
        expense_id = adjustment.get("expense_id")
        if isinstance(expense_id, bool) or not isinstance(expense_id, int):
            errors.append(FieldError(f"adjustments.{i}.expense_id", "Select an expense"))
            continue
        if adjustment.get("approved_pence") in (None, ""):
            errors.append(
                FieldError(f"adjustments.{i}.approved_pence", "Enter the approved amount in pence")
            )
            continue
        pence = adjustment.get("approved_pence")
        if isinstance(pence, bool) or not isinstance(pence, int):
            errors.append(
                FieldError(
                    f"adjustments.{i}.approved_pence",
                    "Enter the approved amount in pence, as a whole number",
                )
            )
            continue
        # The API speaks pence, like every amount it returns; the service reads pounds as
        # approvers type them on the page.
        data[f"approved_{expense_id}"] = str(Decimal(pence).scaleb(-2))
        data[f"reason_{expense_id}"] = adjustment.get("reason")
        where[expense_id] = i
    if errors:
        raise ValidationFailed(errors)
    return data, where


def _adjustment_field(field: str, where: dict[int, int]) -> str:
    """`approved_7` becomes `adjustments.0.approved_pence`, `reason_7` `adjustments.0.reason`."""
    name, _, expense_id = field.partition("_")
    if expense_id.isdigit() and int(expense_id) in where:
        part = "approved_pence" if name == "approved" else "reason"
        return f"adjustments.{where[int(expense_id)]}.{part}"
    return field


# ---------------------------------------------------------------------------- attendance


@api.operation(
    "POST",
    "/bookings/{id:int}/attendance",
    summary="Record whether someone attended, with the minutes and preparation to pay for",
    tag=CLAIMS,
    roles=LEADS,
    request=ATTENDANCE_INPUT,
    response=ATTENDANCE,
)
async def record_attendance(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    booking = await bookings.booking_for(actor, id)
    return _attendance(await attendance.record_attendance(actor, booking, body))


# ---------------------------------------------------------------------------- claims


@api.operation(
    "GET",
    "/claims",
    summary="Claims: leads and finance see the organisation's, a representative their own",
    tag=CLAIMS,
    roles=READERS,
    response=list_of(CLAIM_SUMMARY),
    query=[{"name": "status", "in": "query", "schema": CLAIM_STATUS}],
)
async def list_claims(request: Request, actor: Actor) -> dict[str, Any]:
    c = Checker(request.query_params)
    status = (
        c.choice("status", "a status", [s.value for s in ClaimStatus])
        if request.query_params.get("status")
        else ""
    )
    c.done()
    query = Claim.filter(organisation_id=actor.organisation_id)
    if not (access.is_lead(actor) or actor.has(Role.FINANCE_OFFICER)):
        try:  # a representative: their own claims only
            rep = await access.own_representative(actor)
        except NotFound:
            return {"items": []}
        query = query.filter(representative=rep)
    if status:
        query = query.filter(status=status)
    found = await query.prefetch_related("representative")
    return {"items": [_summary(claim, await claims.totals(claim)) for claim in found]}


@api.operation(
    "POST",
    "/claims",
    summary="Draft a claim from attendance: one fee per Europe/London day not yet claimed",
    tag=CLAIMS,
    roles=CLAIMANTS,
    request=CREATE_CLAIM,
    response=CLAIM,
    status=201,
)
async def create_claim(request: Request, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("representative_id") in (None, ""):
        if access.is_lead(actor):
            raise ValidationFailed.one("representative_id", "Select the person claiming")
        rep = await access.own_representative(actor)
    else:
        c = Checker(body)
        rep_id = c.integer("representative_id", "the person claiming", minimum=1)
        c.done()
        assert rep_id is not None
        rep = await access.representative_for(actor, rep_id)
    claim = await claims.generate_draft(actor, rep, body)
    return await _claim(await claims.claim_for(actor, claim.id))


@api.operation(
    "GET",
    "/claims/{id:int}",
    summary="One claim with its fee lines, expenses, totals and any earnings warning",
    tag=CLAIMS,
    roles=READERS,
    response=CLAIM,
)
async def get_claim(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    return await _claim(await claims.claim_for(actor, id))


@api.operation(
    "POST",
    "/claims/{id:int}/submit",
    summary="Submit a draft (or rejected) claim for approval",
    tag=CLAIMS,
    roles=CLAIMANTS,
    request=obj(),
    response=CLAIM,
)
async def submit_claim(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    claim = await claims.claim_for(actor, id)
    return await _claim(await claims.submit(actor, claim))


@api.operation(
    "POST",
    "/claims/{id:int}/approve",
    summary="Approve a submitted claim, optionally paying less for some expenses (with reasons). "
    "Nobody approves a claim they made or submitted",
    tag=CLAIMS,
    roles=LEADS,
    request=APPROVE_INPUT,
    response=CLAIM,
)
async def approve_claim(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    claim = await claims.claim_for(actor, id)
    data, where = _adjustments_of(body)
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
    return await _claim(approved)


@api.operation(
    "POST",
    "/claims/{id:int}/reject",
    summary="Send a submitted claim back with a reason, so it can be put right",
    tag=CLAIMS,
    roles=LEADS,
    request=REJECT_INPUT,
    response=CLAIM,
)
async def reject_claim(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    claim = await claims.claim_for(actor, id)
    return await _claim(await claims.reject(actor, claim, body))


# ---------------------------------------------------------------------------- expenses


@api.operation(
    "GET",
    "/claims/{id:int}/expenses",
    summary="The expenses on a claim",
    tag=CLAIMS,
    roles=READERS,
    response=list_of(EXPENSE),
)
async def list_expenses(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    claim = await claims.claim_for(actor, id)
    return {"items": [_expense(e) for e in await Expense.filter(claim=claim)]}


@api.operation(
    "POST",
    "/claims/{id:int}/expenses",
    summary="Add an expense to a draft or rejected claim; bus, train and taxi fares need a "
    "receipt (PDF, JPEG or PNG, sent base64)",
    tag=CLAIMS,
    roles=CLAIMANTS,
    request=EXPENSE_INPUT,
    response=EXPENSE,
    status=201,
)
async def add_expense(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    claim = await claims.claim_for(actor, id)
    data = _pounds_of(body)
    try:
        expense = await claims.add_expense(actor, claim, data, _upload_of(body))
    except ValidationFailed as exc:
        if data is body:
            raise
        # The amount was given in pence: name that field in any error about it.
        raise ValidationFailed(
            FieldError("amount_pence" if e.field == "amount" else e.field, e.message)
            for e in exc.errors
        ) from None
    return _expense(expense)
