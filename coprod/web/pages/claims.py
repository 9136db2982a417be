"""Claims, expenses and receipts, finance (pay runs, failures, payroll), payment set-up,
annual statements and the rate card."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod import clock
from coprod.config import get_settings
from coprod.domain.pay import ExpenseType, month_of, tax_year_of
from coprod.domain.scheduling import london_date
from coprod.errors import Conflict, NotFound
from coprod.models import (
    MONEY_TROUBLE,
    AttemptStatus,
    Claim,
    ClaimLine,
    ClaimStatus,
    Expense,
    PaymentAttempt,
    PayrollExport,
    RateCard,
    Representative,
    Role,
)
from coprod.services import (
    access,
    claims,
    earnings,
    payouts,
    payroll,
    rate_cards,
    reconciliation,
    stripe_webhooks,
)
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, signed_in
from coprod.web.pages.paged import paged
from coprod.web.pages.representatives import date_parts
from coprod.web.render import as_page_errors, csv_download, page, private_file, redirect


def _base(actor: Actor, claim: Claim) -> str:
    return (
        f"/my/claims/{claim.id}"
        if access.is_self(actor, claim.representative)
        else f"/claims/{claim.id}"
    )


async def _claim_page(
    request: Request,
    actor: Actor,
    claim: Claim,
    errors: ValidationFailed | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> Response:
    rep = claim.representative
    t = await claims.totals(claim)
    lines = await ClaimLine.filter(claim=claim)
    warning = (
        await earnings.claim_warning(claim, to_person=access.is_self(actor, rep))
        if claim.status in (ClaimStatus.DRAFT, ClaimStatus.SUBMITTED)
        else None
    )
    self_view = access.is_self(actor, rep)
    return page(
        request,
        "claims/detail.html",
        {
            "claim": claim,
            "rep": rep,
            "lines": lines,
            "expenses": await Expense.filter(claim=claim),
            "totals": t,
            "attempts": await PaymentAttempt.filter(claim=claim),
            "self_view": self_view,
            "lead_view": access.is_lead(actor),
            "finance_view": actor.has(Role.FINANCE_OFFICER),
            "base": _base(actor, claim),
            "expense_types": list(ExpenseType),
            "warning": warning,
            "form": form or {"day": ""},
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
        errors=errors,
    )


@signed_in()
async def claim_detail(request: Request, actor: Actor) -> Response:
    return await _claim_page(
        request, actor, await claims.claim_for(actor, request.path_params["id"])
    )


@signed_in()
async def claim_action(request: Request, actor: Actor) -> Response:
    claim = await claims.claim_for(actor, request.path_params["id"])
    form = await request.form()
    data = form_values(form)
    action = request.path_params["action"]
    try:
        if action == "expenses":
            upload = form.get("receipt")
            receipt = None
            if isinstance(upload, UploadFile) and upload.filename:
                receipt = claims.Upload(upload.filename, await upload.read())
            await claims.add_expense(actor, claim, data, receipt)
        elif action == "submit":
            await claims.submit(actor, claim)
        elif action == "approve":
            await claims.approve(actor, claim, data)
        elif action == "reject":
            await claims.reject(actor, claim, data)
        elif action == "correct":
            correction = await claims.correct(actor, claim, data)
            return redirect(f"/claims/{correction.id}?done=correct")
        elif action == "retry":
            await payouts.retry(actor, claim)
        else:
            raise NotFound
    except (ValidationFailed, Conflict) as exc:
        claim = await claims.claim_for(actor, claim.id)
        return await _claim_page(
            request,
            actor,
            claim,
            as_page_errors(exc),
            409 if isinstance(exc, Conflict) else 422,
            {k: v for k, v in data.items() if isinstance(v, str)},
        )
    return redirect(f"{_base(actor, claim)}?done={action}")


@signed_in()
async def receipt(request: Request, actor: Actor) -> Response:
    return private_file(*await claims.receipt_for(actor, request.path_params["id"]))


@signed_in(Role.INVOLVEMENT_LEAD)
async def claim_list(request: Request, actor: Actor) -> Response:
    errors = None
    status = 422
    if request.method == "POST":
        data = form_values(await request.form())
        try:
            rep = await access.representative_for(
                actor, int(str(data.get("representative_id") or 0))
            )
            claim = await claims.generate_draft(actor, rep, data)
            return redirect(f"/claims/{claim.id}?done=created")
        except NotFound:
            errors = ValidationFailed.one("representative_id", "Select a person from the list")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
            status = 409 if isinstance(exc, Conflict) else 422
    in_org = Claim.filter(organisation_id=actor.organisation_id).prefetch_related("representative")
    order = ("-period_start", "-id")
    waiting = await paged(request, in_org.filter(status=ClaimStatus.SUBMITTED).order_by(*order))
    others = await paged(
        request,
        in_org.exclude(status=ClaimStatus.SUBMITTED).order_by(*order),
        param="others",
    )
    today = clock.today()
    start, end = month_of(today.replace(day=1) - dt.timedelta(days=1))
    return page(
        request,
        "claims/list.html",
        {
            "waiting": waiting,
            "others": others,
            "reps": await Representative.filter(
                organisation_id=actor.organisation_id, archived_at__isnull=True
            ),
            "form": date_parts("period_start", start) | date_parts("period_end", end),
        },
        status_code=status if errors else 200,
        errors=errors,
    )


@signed_in(Role.REPRESENTATIVE)
async def my_claims(request: Request, actor: Actor) -> Response:
    rep = await access.own_representative(actor)
    errors = None
    status = 422
    if request.method == "POST":
        try:
            claim = await claims.generate_draft(actor, rep, form_values(await request.form()))
            return redirect(f"/my/claims/{claim.id}?done=created")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
            status = 409 if isinstance(exc, Conflict) else 422
    start, end = await claims.suggested_period(rep, london_date(dt.datetime.now(dt.UTC)))
    return page(
        request,
        "claims/mine.html",
        {
            "claims": await paged(
                request, Claim.filter(representative=rep).order_by("-period_start", "-id")
            ),
            "rep": rep,
            "form": date_parts("period_start", start) | date_parts("period_end", end),
        },
        status_code=status if errors else 200,
        errors=errors,
    )


@signed_in(Role.FINANCE_OFFICER)
async def finance(request: Request, actor: Actor) -> Response:
    notice = None
    not_paid: list[payouts.NotPaid] = []
    errors = None
    data: dict[str, Any] = {}
    if request.method == "POST":
        data = form_values(await request.form())
        try:
            if data.get("action") == "pay_run":
                run = await payouts.pay_run(actor)
                plural = "s" if len(run.queued) != 1 else ""
                notice = (
                    f"{len(run.queued)} payment{plural} queued. They go out in the next minute."
                )
                not_paid = run.not_paid
            elif data.get("action") == "payroll":
                export = await payroll.export_payroll(actor, data)
                return redirect(f"/finance?exported={export.id}")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    in_org = Claim.filter(organisation_id=actor.organisation_id).prefetch_related("representative")
    order = ("-period_start", "-id")
    approved = await paged(request, in_org.filter(status=ClaimStatus.APPROVED).order_by(*order))
    failed = await paged(
        request, in_org.filter(status=ClaimStatus.FAILED).order_by(*order), param="failed"
    )
    # The latest failed attempt of each claim on this page, in one query; newest first, so the
    # first seen for a claim is kept.
    last_failure: dict[int, PaymentAttempt] = {}
    for attempt in await PaymentAttempt.filter(
        claim_id__in=[c.id for c in failed.rows], status=AttemptStatus.FAILED
    ).order_by("-created_at", "-id"):
        last_failure.setdefault(attempt.claim_id, attempt)
    attention = await paged(
        request,
        in_org.filter(money__in=list(MONEY_TROUBLE)).order_by("-money_changed_at", "-id"),
        param="attention",
    )
    exports = await paged(
        request,
        PayrollExport.filter(organisation_id=actor.organisation_id).order_by("-created_at", "-id"),
        param="exports",
    )
    not_ready = await paged(
        request,
        payroll.not_ready(actor.organisation_id).order_by(*order),
        param="not_ready",
    )
    return page(
        request,
        "claims/finance.html",
        {
            "approved": approved,
            "failed": failed,
            "failures": last_failure,
            "attention": attention,
            "exports": exports,
            "notice": notice,
            "not_paid": not_paid,
            "configuration_problems": payouts.configuration_problems(),
            "exported": request.query_params.get("exported"),
            "not_ready": not_ready,
            "not_ready_reason": payroll.not_ready_reason,
            "differences": await reconciliation.open_for(actor).count(),
            "form": data if errors else date_parts("payment_date", clock.today()),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.FINANCE_OFFICER)
async def export_csv(request: Request, actor: Actor) -> Response:
    export, text = await payroll.download(actor, request.path_params["id"])
    return csv_download(text, f"payroll-{export.id}.csv")


@signed_in(Role.REPRESENTATIVE)
async def my_payments(request: Request, actor: Actor) -> Response:
    rep = await access.own_representative(actor)
    errors = None
    if request.method == "POST":
        data = form_values(await request.form())
        try:
            if data.get("action") == "stripe":
                return redirect(await payouts.onboarding_link(actor, rep))
            if data.get("action") == "limit":
                await earnings.set_earnings_limit(actor, rep, data)
                return redirect("/my/payments?done=1")
            await payouts.set_payout_method(actor, rep, data)
            return redirect("/my/payments?done=1")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    if request.method == "GET" and request.query_params.get("returned"):
        # Back from Stripe's onboarding: ask Stripe now rather than wait for its webhook.
        rep = await stripe_webhooks.refresh_on_return(actor, rep)
    return page(
        request,
        "claims/payments.html",
        {
            "rep": rep,
            "done": request.query_params.get("done"),
            "returned": request.query_params.get("returned"),
            "position": await earnings.earnings_position(rep),
            "limits": get_settings().earnings_limits,
            "stripe_ready": payouts.stripe_ready(),
            "stripe_not_ready": payouts.STRIPE_NOT_READY_FOR_YOU,
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _statement(request: Request, actor: Actor, rep: Representative) -> Response:
    raw = request.query_params.get("tax_year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else tax_year_of(clock.today())
    rows = await earnings.statement(actor, rep, year)
    if request.query_params.get("format") == "csv":
        text = earnings.statement_csv(rows)
        return csv_download(text, f"statement-{year}-{year + 1}.csv")
    return page(
        request,
        "claims/statement.html",
        {
            "rep": rep,
            "rows": rows,
            "year": year,
            "years": list(range(tax_year_of(clock.today()), 2019, -1)),
            "fees": sum(r.fees_pence + r.adjustments_pence for r in rows),
            "expenses": sum(r.expenses_pence for r in rows),
        },
    )


@signed_in(Role.REPRESENTATIVE)
async def my_statement(request: Request, actor: Actor) -> Response:
    return await _statement(request, actor, await access.own_representative(actor))


@signed_in(Role.INVOLVEMENT_LEAD, Role.FINANCE_OFFICER)
async def rep_statement(request: Request, actor: Actor) -> Response:
    rep = await Representative.get_or_none(
        id=request.path_params["id"], organisation_id=actor.organisation_id
    )
    if rep is None:
        raise NotFound
    return await _statement(request, actor, rep)


@signed_in(Role.ORG_ADMIN, Role.FINANCE_OFFICER)
async def rates(request: Request, actor: Actor) -> Response:
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await rate_cards.add_rates(actor, form)
            return redirect("/admin/rates?done=1")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "claims/rates.html",
        {
            "card": await rate_cards.rate_card(actor.organisation_id or 0),
            "form": form,
            "saved": await RateCard.filter(organisation_id=actor.organisation_id).exists(),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


routes = [
    Route("/claims", claim_list, methods=["GET", "POST"]),
    Route("/claims/{id:int}", claim_detail, methods=["GET"]),
    Route("/claims/{id:int}/{action}", claim_action, methods=["POST"]),
    Route("/my/claims", my_claims, methods=["GET", "POST"]),
    Route("/my/claims/{id:int}", claim_detail, methods=["GET"]),
    Route("/receipts/{id:int}", receipt, methods=["GET"]),
    Route("/finance", finance, methods=["GET", "POST"]),
    Route("/finance/exports/{id:int}.csv", export_csv, methods=["GET"]),
    Route("/my/payments", my_payments, methods=["GET", "POST"]),
    Route("/my/statement", my_statement, methods=["GET"]),
    Route("/representatives/{id:int}/statement", rep_statement, methods=["GET"]),
    Route("/admin/rates", rates, methods=["GET", "POST"]),
]
