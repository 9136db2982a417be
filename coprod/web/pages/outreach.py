"""Outreach pages: the organisation's outreach with its totals and the interest each brought
in, logging a new one, and correcting or removing one.

Any member of staff reaches them through `signed_in`; the service lets only involvement leads
through (403 for other staff) and finds only the organisation's own records (404)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.models import STAFF_ROLES, Outreach, Team
from coprod.services import outreach
from coprod.services.access import require_lead
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, signed_in
from coprod.web.pages.paged import paged
from coprod.web.render import page, redirect


async def _choices(actor: Actor) -> dict[str, Any]:
    teams = await Team.filter(organisation_id=actor.organisation_id).order_by("name")
    return {"kinds": outreach.KINDS, "teams": teams}


@signed_in(*STAFF_ROLES)
async def listing(request: Request, actor: Actor) -> Response:
    query = dict(request.query_params)
    errors = None
    try:
        chosen = outreach.filters(query)
    except ValidationFailed as exc:
        chosen, errors = outreach.Filters(), exc
    found = outreach.listing(actor, chosen)
    rows = await paged(request, found)
    return page(
        request,
        "recruitment/outreach_list.html",
        {
            "paged": rows,
            "totals": await outreach.totals(found),
            "interests": await outreach.interests_linked(rows.rows),
            "query": query,
            "deleted": "deleted" in request.query_params,
            **await _choices(actor),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


def _form_of(found: Outreach) -> dict[str, Any]:
    return {
        "kind": found.kind.value,
        "held_on[day]": str(found.held_on.day),
        "held_on[month]": str(found.held_on.month),
        "held_on[year]": str(found.held_on.year),
        "place": found.place,
        "people_reached": str(found.people_reached),
        "team_id": str(found.team_id or ""),
        "note": found.note or "",
    }


@signed_in(*STAFF_ROLES)
async def new(request: Request, actor: Actor) -> Response:
    require_lead(actor)
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            made = await outreach.create(actor, form)
            return redirect(f"/outreach/{made.id}?saved=1")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "recruitment/outreach_form.html",
        {"outreach": None, "form": form, "interests": 0, **await _choices(actor)},
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(*STAFF_ROLES)
async def detail(request: Request, actor: Actor) -> Response:
    found = await outreach.outreach_for(actor, request.path_params["id"])
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        if form.get("do") == "delete":
            await outreach.delete(actor, found)
            return redirect("/outreach?deleted=1")
        try:
            await outreach.update(actor, found, form)
            return redirect(f"/outreach/{found.id}?saved=1")
        except ValidationFailed as exc:
            errors = exc
    else:
        form = _form_of(found)
    linked = await outreach.interests_linked([found])
    return page(
        request,
        "recruitment/outreach_form.html",
        {
            "outreach": found,
            "form": form,
            "interests": linked[found.id],
            "saved": "saved" in request.query_params,
            **await _choices(actor),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


routes = [
    Route("/outreach", listing, methods=["GET"]),
    Route("/outreach/new", new, methods=["GET", "POST"]),
    Route("/outreach/{id:int}", detail, methods=["GET", "POST"]),
]
