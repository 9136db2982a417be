"""Network pages: the networks a person's organisation is in or invited to, setting one up,
answering an invitation, and a network's members for its administrators to invite more. The
rules are in coprod.services.networks, which the API uses too."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.errors import Conflict, Forbidden
from coprod.models import STAFF_ROLES, Network, NetworkRole, Role
from coprod.services import networks
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, signed_in
from coprod.web.render import as_page_errors, page, redirect

STAFF = tuple(sorted(STAFF_ROLES))
MOST = 200  # networks are few; a page this long is never reached in practice


def _forbidden(request: Request) -> Response:
    return page(request, "errors/403.html", status_code=403)


@signed_in(*STAFF)
async def network_list(request: Request, actor: Actor) -> Response:
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            network = await networks.create_network(actor, form)
            return redirect(f"/networks/{network.id}?created=1")
        except ValidationFailed as exc:
            errors = exc
        except Forbidden:
            return _forbidden(request)
    found = await networks.yours(actor).order_by("name", "id").limit(MOST)
    return page(
        request,
        "networks/list.html",
        {
            "views": await networks.views(actor, list(found)),
            "form": form,
            "is_admin": actor.has(Role.ORG_ADMIN),
            "answered": request.query_params.get("answered"),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(*STAFF)
async def network_detail(request: Request, actor: Actor) -> Response:
    network_id: int = request.path_params["id"]
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await networks.invite(actor, network_id, form)
            return redirect(f"/networks/{network_id}?invited=1")
        except ValidationFailed as exc:
            return await _network_page(request, actor, invite_form=form, errors=exc)
        except Forbidden:
            return _forbidden(request)
    return await _network_page(request, actor)


@signed_in(*STAFF)
async def give_role(request: Request, actor: Actor) -> Response:
    network_id: int = request.path_params["id"]
    form = form_values(await request.form())
    try:
        await networks.give_role(actor, network_id, form)
    except ValidationFailed as exc:
        return await _network_page(request, actor, role_form=form, errors=exc)
    except Forbidden:
        return _forbidden(request)
    return redirect(f"/networks/{network_id}?given=1")


@signed_in(*STAFF)
async def take_role(request: Request, actor: Actor) -> Response:
    network_id: int = request.path_params["id"]
    try:
        await networks.take_role(actor, network_id, request.path_params["member_id"])
    except Forbidden:
        return _forbidden(request)
    except Conflict as exc:
        return await _network_page(request, actor, errors=as_page_errors(exc), status_code=409)
    return redirect(f"/networks/{network_id}?taken=1")


async def _network_page(
    request: Request,
    actor: Actor,
    *,
    invite_form: dict[str, Any] | None = None,
    role_form: dict[str, Any] | None = None,
    errors: ValidationFailed | None = None,
    status_code: int = 422,
) -> Response:
    network_id: int = request.path_params["id"]
    # Not found unless the network is visible to the actor.
    memberships = await (await networks.members(actor, network_id)).order_by("id").limit(MOST)
    (view,) = await networks.views(actor, [await Network.get(id=network_id)])
    administers = NetworkRole.NETWORK_ADMIN in view.roles
    people = (
        await (await networks.people(actor, network_id)).order_by("role", "id").limit(MOST)
        if administers
        else []
    )
    return page(
        request,
        "networks/network.html",
        {
            "view": view,
            "memberships": memberships,
            "people": people,
            "role_labels": networks.ROLE_LABELS,
            "administers": administers,
            "reports": network_id in actor.network_ids,
            "invite_form": invite_form or {},
            "role_form": role_form or {},
            "notice": next(
                (
                    key
                    for key in ("created", "invited", "given", "taken")
                    if key in request.query_params
                ),
                None,
            ),
        },
        status_code=status_code if errors else 200,
        errors=errors,
    )


async def _answer(request: Request, actor: Actor, accept: bool) -> Response:
    try:
        membership = await networks.respond(actor, request.path_params["id"], accept)
    except Forbidden:
        return _forbidden(request)
    except Conflict:
        # Answered already (perhaps in another tab): the list shows the answer that stands.
        return redirect("/networks")
    return redirect(f"/networks?answered={membership.status.value}")


@signed_in(Role.ORG_ADMIN)
async def accept(request: Request, actor: Actor) -> Response:
    return await _answer(request, actor, accept=True)


@signed_in(Role.ORG_ADMIN)
async def decline(request: Request, actor: Actor) -> Response:
    return await _answer(request, actor, accept=False)


routes = [
    Route("/networks", network_list, methods=["GET", "POST"]),
    Route("/networks/{id:int}", network_detail, methods=["GET", "POST"]),
    Route("/networks/{id:int}/accept", accept, methods=["POST"]),
    Route("/networks/{id:int}/decline", decline, methods=["POST"]),
    Route("/networks/{id:int}/people", give_role, methods=["POST"]),
    Route("/networks/{id:int}/people/{member_id:int}/remove", take_role, methods=["POST"]),
]
