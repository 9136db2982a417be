"""Organisation administration: teams, the audit log, the outbox, API tokens."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.errors import Forbidden
from coprod.models import (
    STAFF_ROLES,
    ApiToken,
    AuditEvent,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    Role,
    Team,
)
from coprod.services import actions, auth, outbox, payroll, people
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed, record_id
from coprod.web.guards import form_values, signed_in
from coprod.web.render import page, page_number, redirect

PAGE_SIZE = 50


async def _organisation(actor: Actor) -> Organisation:
    org = await Organisation.get_or_none(id=actor.organisation_id)
    if org is None:
        raise HTTPException(404)
    return org


@signed_in(*STAFF_ROLES)
async def own_details(request: Request, actor: Actor) -> Response:
    """Staff change their own name and phone number (representatives have their profile)."""
    assert actor.user is not None
    form: dict[str, str] = {"full_name": actor.user.full_name, "phone": actor.user.phone or ""}
    errors = None
    if request.method == "POST":
        form = {k: str(v) for k, v in form_values(await request.form()).items()}
        try:
            await people.update_own_details(actor, form)
            return redirect("/account?done=1")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "admin/account.html",
        {"form": form, "done": request.query_params.get("done")},
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)
async def teams(request: Request, actor: Actor) -> Response:
    """Administrators add teams and set cost centres; administrators and involvement leads
    choose each team's feedback champion."""
    org = await _organisation(actor)
    errors = None
    form: dict[str, str] = {}
    if request.method == "POST":
        form = {k: str(v) for k, v in form_values(await request.form()).items()}
        try:
            if "champion_team_id" in form:
                await actions.set_champion(actor, record_id(form["champion_team_id"]) or 0, form)
                return redirect("/admin/teams?champion=1")
            if not actor.has(Role.ORG_ADMIN):
                raise Forbidden  # leads choose champions; only administrators change teams
            if "team_id" in form:
                team = await payroll.team_for(actor, record_id(form["team_id"]) or 0)
                await payroll.set_cost_centre(actor, team, form)
                return redirect("/admin/teams?saved=1")
            await people.create_team(actor, org, form.get("name", ""))
            return redirect("/admin/teams?added=1")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "admin/teams.html",
        {
            "teams": await Team.filter(organisation=org),
            "staff": await actions.staff(actor),
            "is_admin": actor.has(Role.ORG_ADMIN),
            "form": form,
            "champion_saved": "champion" in request.query_params,
            "added": "added" in request.query_params,
            "saved": "saved" in request.query_params,
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.ORG_ADMIN)
async def audit_log(request: Request, actor: Actor) -> Response:
    number = page_number(request)
    query = AuditEvent.filter(organisation_id=actor.organisation_id)
    action = request.query_params.get("action", "").strip()
    if action:
        query = query.filter(action__startswith=action)
    total = await query.count()
    events = await query.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return page(
        request,
        "admin/audit.html",
        {
            "events": events,
            "action": action,
            "page_number": number,
            "has_next": number * PAGE_SIZE < total,
            "total": total,
        },
    )


@signed_in(Role.ORG_ADMIN)
async def outbox_list(request: Request, actor: Actor) -> Response:
    status = request.query_params.get("status", OutboxStatus.FAILED.value)
    if status not in {s.value for s in OutboxStatus}:
        status = OutboxStatus.FAILED.value
    messages = await OutboxMessage.filter(
        organisation_id=actor.organisation_id, status=status
    ).limit(PAGE_SIZE)
    return page(
        request,
        "admin/outbox.html",
        {
            "messages": messages,
            "status": status,
            "statuses": [s.value for s in OutboxStatus],
            "retried": "retried" in request.query_params,
        },
    )


@signed_in(Role.ORG_ADMIN)
async def outbox_retry(request: Request, actor: Actor) -> Response:
    message = await OutboxMessage.get_or_none(
        id=request.path_params["id"], organisation_id=actor.organisation_id
    )
    if message is None:
        raise HTTPException(404)
    if message.status != OutboxStatus.FAILED:
        return redirect(f"/admin/outbox?status={message.status.value}")
    await outbox.retry(actor, message)
    return redirect("/admin/outbox?retried=1")


@signed_in(Role.ORG_ADMIN)
async def api_tokens(request: Request, actor: Actor) -> Response:
    errors = None
    created_secret = None
    form: dict[str, str] = {}
    if request.method == "POST":
        form = {k: str(v) for k, v in form_values(await request.form()).items()}
        try:
            role = form.get("role", "")
            if role not in {r.value for r in STAFF_ROLES}:
                raise ValidationFailed.one("role", "Select what the token may do")
            _, created_secret = await auth.create_api_token(actor, form.get("name", ""), Role(role))
            form = {}
        except ValidationFailed as exc:
            errors = exc
    tokens = await ApiToken.filter(organisation_id=actor.organisation_id).prefetch_related(
        "created_by"
    )
    return page(
        request,
        "admin/api_tokens.html",
        {
            "tokens": tokens,
            "created_secret": created_secret,
            "roles": sorted(STAFF_ROLES, key=lambda r: r.value),
            "form": form,
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.ORG_ADMIN)
async def api_token_revoke(request: Request, actor: Actor) -> Response:
    token = await ApiToken.get_or_none(
        id=request.path_params["id"], organisation_id=actor.organisation_id
    )
    if token is None:
        raise HTTPException(404)
    if token.revoked_at is None:
        await auth.revoke_api_token(actor, token)
    return redirect("/admin/api-tokens")


routes = [
    Route("/account", own_details, methods=["GET", "POST"]),
    Route("/admin/teams", teams, methods=["GET", "POST"]),
    Route("/admin/audit", audit_log, methods=["GET"]),
    Route("/admin/outbox", outbox_list, methods=["GET"]),
    Route("/admin/outbox/{id:int}/retry", outbox_retry, methods=["POST"]),
    Route("/admin/api-tokens", api_tokens, methods=["GET", "POST"]),
    Route("/admin/api-tokens/{id:int}/revoke", api_token_revoke, methods=["POST"]),
]
