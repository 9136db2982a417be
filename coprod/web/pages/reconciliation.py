"""Finance's reconciliation pages: differences between Stripe's transfers and our claims, and
marking one resolved. The rules live in coprod.services.reconciliation."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.errors import Conflict
from coprod.models import Role
from coprod.services import reconciliation
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, signed_in
from coprod.web.pages.paged import paged
from coprod.web.render import as_page_errors, page, redirect


@signed_in(Role.FINANCE_OFFICER)
async def items(request: Request, actor: Actor) -> Response:
    notice = None
    errors = None
    if request.method == "POST":
        try:
            outcome = await reconciliation.run_now(actor)
        except Conflict as exc:
            errors = as_page_errors(exc)
        else:
            notice = (
                f"Checked against Stripe: {outcome.opened} new difference"
                f"{'s' if outcome.opened != 1 else ''}, {outcome.closed} closed because "
                "they had gone."
            )
    found = await paged(request, reconciliation.open_for(actor).order_by("-found_at", "-id"))
    return page(
        request,
        "claims/reconciliation.html",
        {
            "items": found,
            "notice": notice,
            "resolved": request.query_params.get("resolved"),
        },
        status_code=409 if errors else 200,
        errors=errors,
    )


@signed_in(Role.FINANCE_OFFICER)
async def item(request: Request, actor: Actor) -> Response:
    found = await reconciliation.item_for(actor, int(request.path_params["id"]))
    errors = None
    form: dict[str, str] = {}
    if request.method == "POST":
        form = {k: str(v) for k, v in form_values(await request.form()).items()}
        try:
            await reconciliation.resolve(actor, found, form)
            return redirect(f"/finance/reconciliation?resolved={found.id}")
        except ValidationFailed as exc:
            errors = exc
    await found.fetch_related("resolved_by")
    return page(
        request,
        "claims/reconciliation_item.html",
        {"item": found, "form": form},
        status_code=422 if errors else 200,
        errors=errors,
    )


routes = [
    Route("/finance/reconciliation", items, methods=["GET", "POST"]),
    Route("/finance/reconciliation/{id:int}", item, methods=["GET", "POST"]),
]
