"""Payroll set-up pages: how a representative is paid (set by their lead or finance, with their
National Insurance number) and the organisation's pay element codes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.domain.pay import PAY_ELEMENTS
from coprod.errors import Conflict
from coprod.models import Role
from coprod.services import payouts, payroll
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, signed_in
from coprod.web.render import as_page_errors, page, redirect


@signed_in(Role.INVOLVEMENT_LEAD, Role.FINANCE_OFFICER)
async def payee(request: Request, actor: Actor) -> Response:
    """The staff side of /my/payments, for everyone, including people with no email address
    who never sign in."""
    rep = await payouts.payee_for(actor, request.path_params["id"])
    errors = None
    form: dict[str, Any] = {
        "payout_method": rep.payout_method or "",
        "payroll_reference": rep.payroll_reference or "",
    }
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await payouts.set_payout_method(actor, rep, form)
            return redirect(f"/representatives/{rep.id}/payments?done=1")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
        form.pop(payroll.NI_FIELD, None)  # never sent back to the browser
    return page(
        request,
        "claims/payee.html",
        {"rep": rep, "form": form, "done": request.query_params.get("done")},
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.FINANCE_OFFICER)
async def pay_elements(request: Request, actor: Actor) -> Response:
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await payroll.set_pay_settings(actor, form)
            return redirect("/finance/pay-elements?done=1")
        except ValidationFailed as exc:
            errors = as_page_errors(exc)
    else:
        settings = await payroll.pay_settings(actor.organisation_id)
        form = {**settings.codes, "default_cost_centre": settings.default_cost_centre or ""}
    return page(
        request,
        "claims/pay_elements.html",
        {"elements": PAY_ELEMENTS, "form": form, "done": request.query_params.get("done")},
        status_code=422 if errors else 200,
        errors=errors,
    )


routes = [
    Route("/representatives/{id:int}/payments", payee, methods=["GET", "POST"]),
    Route("/finance/pay-elements", pay_elements, methods=["GET", "POST"]),
]
