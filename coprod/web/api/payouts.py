"""API operations for pay runs and payroll exports. The rules live in coprod.services.payouts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from coprod.models import (
    AttemptStatus,
    PaymentAttempt,
    PayrollExport,
)
from coprod.services import payouts
from coprod.services.actor import Actor
from coprod.validation import Checker
from coprod.web.api.claims import (
    BOOL,
    FINANCE,
    NULL_STR,
    PAYMENTS,
)
from coprod.web.api.core import DATETIME, INT, STR, iso, list_of, obj
from coprod.web.api.registry import api

ATTEMPT = obj(
    id=INT,
    claim_id=INT,
    representative_id=INT,
    amount_pence=INT,
    status={"enum": [s.value for s in AttemptStatus]},
    failure_reason=NULL_STR,
    retryable=BOOL,
    created_at=DATETIME,
    updated_at=DATETIME,
)
# An approved claim a pay run left unpaid: why, and what to do next.
NOT_PAID = obj(claim_id=INT, representative_id=INT, reason=STR)
PAYROLL_EXPORT = obj(
    id=INT,
    created_at=DATETIME,
    claim_count=INT,
    reason=NULL_STR,
    csv={"type": "string", "description": "The CSV text"},
)
EXPORT_INPUT = obj(
    export_id={**INT, "description": "Export these claims again (needs a reason)"},
    reason=STR,
)


def _attempt(a: PaymentAttempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "claim_id": a.claim_id,
        "representative_id": a.claim.representative_id,
        "amount_pence": a.amount_pence,
        "status": AttemptStatus(a.status).value,
        "failure_reason": a.failure_reason,
        "retryable": a.retryable,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
    }


def _export(e: PayrollExport) -> dict[str, Any]:
    return {
        "id": e.id,
        "created_at": iso(e.created_at),
        "claim_count": e.claim_count,
        "reason": e.reason,
        "csv": e.csv,
    }


@api.operation(
    "GET",
    "/pay-runs",
    summary="Payment attempts for the organisation's claims, newest first, with any failure",
    tag=PAYMENTS,
    roles=FINANCE,
    response=list_of(ATTEMPT),
    query=[{"name": "status", "in": "query", "schema": {"enum": [s.value for s in AttemptStatus]}}],
)
async def list_pay_runs(request: Request, actor: Actor) -> dict[str, Any]:
    c = Checker(request.query_params)
    status = (
        c.choice("status", "a status", [s.value for s in AttemptStatus])
        if request.query_params.get("status")
        else ""
    )
    c.done()
    query = PaymentAttempt.filter(claim__organisation_id=actor.organisation_id)
    if status:
        query = query.filter(status=status)
    found = await query.limit(500).prefetch_related("claim")
    return {"items": [_attempt(a) for a in found]}


@api.operation(
    "POST",
    "/pay-runs",
    summary="Queue a payment for each approved claim of people paid by Stripe; the worker "
    "makes the transfers, and a claim is never paid twice",
    tag=PAYMENTS,
    roles=FINANCE,
    request=obj(),
    response=obj(
        items={"type": "array", "items": ATTEMPT},
        not_paid={"type": "array", "items": NOT_PAID},
    ),
    status=201,
)
async def start_pay_run(request: Request, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    run = await payouts.pay_run(actor)
    found = await PaymentAttempt.filter(id__in=[a.id for a in run.queued]).prefetch_related("claim")
    return {
        "items": [_attempt(a) for a in found],
        "not_paid": [
            {
                "claim_id": n.claim.id,
                "representative_id": n.claim.representative_id,
                "reason": n.reason,
            }
            for n in run.not_paid
        ],
    }


@api.operation(
    "GET",
    "/payroll-exports",
    summary="Payroll exports made, newest first",
    tag=PAYMENTS,
    roles=FINANCE,
    response=list_of(PAYROLL_EXPORT),
)
async def list_payroll_exports(request: Request, actor: Actor) -> dict[str, Any]:
    found = await PayrollExport.filter(organisation_id=actor.organisation_id)
    return {"items": [_export(e) for e in found]}


@api.operation(
    "POST",
    "/payroll-exports",
    summary="Export approved claims of people paid through payroll as CSV, each claim once; "
    "with export_id and a reason, export the same claims again",
    tag=PAYMENTS,
    roles=FINANCE,
    request=EXPORT_INPUT,
    response=PAYROLL_EXPORT,
    status=201,
)
async def create_payroll_export(
    request: Request, actor: Actor, body: dict[str, Any]
) -> dict[str, Any]:
    return _export(await payouts.export_payroll(actor, body))
