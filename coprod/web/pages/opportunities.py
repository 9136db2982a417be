"""Opportunities: the lead's pages for writing, publishing and withdrawing them, and the public
pages at /join: an organisation's open opportunities, one opportunity with its easy-read and
large-print prints and QR code, and a network's open opportunities across its members.

The staff pages let any member of staff through `signed_in`: the service decides, so an
administrator reaches them and other staff get a 403.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.domain import opportunities as rules
from coprod.errors import Conflict
from coprod.models import STAFF_ROLES, Kind
from coprod.models.recruitment import Opportunity
from coprod.services import opportunities
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, signed_in
from coprod.web.qr import qr_file, qr_svg
from coprod.web.render import as_page_errors, page, redirect

LABELS: dict[str, Any] = {
    "kinds": {k.value: k.label for k in Kind},
    "modes": rules.MODE_LABELS,
    "modes_easy_read": rules.MODE_EASY_READ,
}


def _form(form: FormData) -> dict[str, Any]:
    """The form's fields, with every way to take part ticked (none when nothing is)."""
    return form_values(form) | {"modes": form.getlist("modes")}


def _form_of(opportunity: Opportunity) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(opportunity, name) or ""
        for name in opportunities.FIELDS
        if name != "closes_on"
    }
    day = opportunity.closes_on
    values |= {
        "closes_on[day]": str(day.day) if day else "",
        "closes_on[month]": str(day.month) if day else "",
        "closes_on[year]": str(day.year) if day else "",
    }
    return values


def _editor(
    request: Request,
    form: dict[str, Any],
    errors: ValidationFailed | None,
    opportunity: Opportunity | None = None,
) -> Response:
    return page(
        request,
        "recruitment/opportunity_form.html",
        {"form": form, "opportunity": opportunity} | LABELS,
        status_code=422 if errors else 200,
        errors=errors,
    )


# ---------------------------------------------------------------------------- for leads


@signed_in(*STAFF_ROLES)
async def opportunity_list(request: Request, actor: Actor) -> Response:
    return page(
        request,
        "recruitment/opportunity_list.html",
        {"listed": await opportunities.for_lead(actor)} | LABELS,
    )


@signed_in(*STAFF_ROLES)
async def new_opportunity(request: Request, actor: Actor) -> Response:
    if request.method == "POST":
        form = _form(await request.form())
        try:
            made = await opportunities.create(actor, form)
            return redirect(f"/opportunities/{made.id}?done=created")
        except ValidationFailed as exc:
            return _editor(request, form, exc)
    return _editor(request, await opportunities.new_form(actor), None)


async def _detail(
    request: Request, actor: Actor, opportunity: Opportunity, errors: ValidationFailed | None = None
) -> Response:
    interest = await opportunities.interest_counts([opportunity.id])
    return page(
        request,
        "recruitment/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "stage": opportunities.stage_of(opportunity),
            "interest": interest.get(opportunity.id, 0),
            "public_path": opportunities.public_path(opportunity.organisation, opportunity),
            "url": opportunities.public_url(opportunity.organisation, opportunity),
            "done": request.query_params.get("done", ""),
        }
        | LABELS,
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(*STAFF_ROLES)
async def opportunity_detail(request: Request, actor: Actor) -> Response:
    found = await opportunities.opportunity_for(actor, request.path_params["id"])
    return await _detail(request, actor, found)


@signed_in(*STAFF_ROLES)
async def edit_opportunity(request: Request, actor: Actor) -> Response:
    found = await opportunities.opportunity_for(actor, request.path_params["id"])
    if request.method == "POST":
        form = _form(await request.form())
        try:
            await opportunities.update(actor, found, form)
            return redirect(f"/opportunities/{found.id}?done=saved")
        except ValidationFailed as exc:
            return _editor(request, form, exc, found)
    return _editor(request, _form_of(found), None, found)


@signed_in(*STAFF_ROLES)
async def publish(request: Request, actor: Actor) -> Response:
    found = await opportunities.opportunity_for(actor, request.path_params["id"])
    try:
        await opportunities.publish(actor, found)
    except ValidationFailed as exc:
        return await _detail(request, actor, found, exc)
    return redirect(f"/opportunities/{found.id}?done=published")


@signed_in(*STAFF_ROLES)
async def withdraw(request: Request, actor: Actor) -> Response:
    found = await opportunities.opportunity_for(actor, request.path_params["id"])
    try:
        await opportunities.withdraw(actor, found)
    except Conflict as exc:
        return await _detail(request, actor, found, as_page_errors(exc))
    return redirect(f"/opportunities/{found.id}?done=withdrawn")


# ---------------------------------------------------------------------------- for the public


def _interest_path(slug: str, opportunity: Opportunity | None = None) -> str:
    path = f"/join/{slug}/interest"
    return f"{path}?opportunity={opportunity.id}" if opportunity else path


async def join(request: Request) -> Response:
    organisation = await opportunities.organisation_by_slug(request.path_params["org_slug"])
    return page(
        request,
        "recruitment/join_organisation.html",
        {
            "organisation": organisation,
            "opportunities": await opportunities.open_at(organisation),
            "interest_path": _interest_path(organisation.slug),
        }
        | LABELS,
    )


async def public_opportunity(request: Request) -> Response:
    slug = request.path_params["org_slug"]
    found = await opportunities.for_public(slug, request.path_params["id"])
    context = {
        "organisation": found.organisation,
        "opportunity": found.opportunity,
        "interest_path": _interest_path(slug, found.opportunity),
    } | LABELS
    if found.stage == opportunities.Stage.CLOSED:
        # Not an error for the person reading it: they may still say they are interested.
        return page(request, "recruitment/join_closed.html", context, status_code=404)
    return page(request, "recruitment/join_opportunity.html", context)


async def _print(request: Request, template: str) -> Response:
    found = await opportunities.open_for_public(
        request.path_params["org_slug"], request.path_params["id"]
    )
    url = opportunities.public_url(found.organisation, found.opportunity)
    return page(
        request,
        template,
        {
            "organisation": found.organisation,
            "opportunity": found.opportunity,
            "url": url,
            "qr": qr_svg(url, leads_to="this opportunity", scale=8),
            "page_path": opportunities.public_path(found.organisation, found.opportunity),
        }
        | LABELS,
    )


async def easy_read(request: Request) -> Response:
    return await _print(request, "recruitment/join_easy_read.html")


async def large_print(request: Request) -> Response:
    return await _print(request, "recruitment/join_large_print.html")


async def qr_code(request: Request) -> Response:
    found = await opportunities.open_for_public(
        request.path_params["org_slug"], request.path_params["id"]
    )
    return qr_file(
        opportunities.public_url(found.organisation, found.opportunity),
        title=f"QR code for the opportunity: {found.opportunity.title}",
    )


async def network(request: Request) -> Response:
    found = await opportunities.open_in_network(request.path_params["network_id"])
    return page(
        request,
        "recruitment/join_network.html",
        {"network": found.network, "members": found.members} | LABELS,
    )


routes = [
    Route("/opportunities", opportunity_list, methods=["GET"]),
    Route("/opportunities/new", new_opportunity, methods=["GET", "POST"]),
    Route("/opportunities/{id:int}", opportunity_detail, methods=["GET"]),
    Route("/opportunities/{id:int}/edit", edit_opportunity, methods=["GET", "POST"]),
    Route("/opportunities/{id:int}/publish", publish, methods=["POST"]),
    Route("/opportunities/{id:int}/withdraw", withdraw, methods=["POST"]),
    Route("/join/networks/{network_id:int}", network, methods=["GET"]),
    Route("/join/{org_slug}", join, methods=["GET"]),
    Route("/join/{org_slug}/opportunities/{id:int}", public_opportunity, methods=["GET"]),
    Route("/join/{org_slug}/opportunities/{id:int}/easy-read", easy_read, methods=["GET"]),
    Route("/join/{org_slug}/opportunities/{id:int}/large-print", large_print, methods=["GET"]),
    Route("/join/{org_slug}/opportunities/{id:int}/qr.svg", qr_code, methods=["GET"]),
]
