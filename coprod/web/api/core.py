"""API operations of the foundation: who am I, teams, the audit log, the outbox, API tokens."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from coprod.errors import NotFound
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
from coprod.services import auth, outbox, payouts, people
from coprod.services.actor import Actor
from coprod.services.decisions import DecisionsNeeded
from coprod.validation import Checker
from coprod.web.api.registry import api
from coprod.web.render import page_number

STR = {"type": "string"}
INT = {"type": "integer"}
NULL_STR = {"type": ["string", "null"]}
DATETIME = {"type": "string", "format": "date-time"}


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def list_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"items": {"type": "array", "items": schema}}}


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


PAGE_QUERY = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}]


async def own_organisation(actor: Actor) -> Organisation:
    org = await Organisation.get_or_none(id=actor.organisation_id)
    if org is None:
        raise NotFound
    return org


@api.operation(
    "GET",
    "/me",
    summary="Who is signed in, in which organisation, with which roles",
    tag="core",
    response=obj(
        id=INT,
        email=STR,
        full_name=STR,
        organisation=obj(id=INT, name=STR),
        roles={"type": "array", "items": STR},
    ),
)
async def get_me(request: Request, actor: Actor) -> dict[str, Any]:
    assert actor.user is not None
    org = await Organisation.get_or_none(id=actor.organisation_id)
    return {
        "id": actor.user.id,
        "email": actor.user.email,
        "full_name": actor.user.full_name,
        "organisation": {"id": org.id, "name": org.name} if org else None,
        "roles": sorted(r.value for r in actor.roles),
    }


@api.operation(
    "GET",
    "/organisations/{id:int}",
    summary="Your organisation (another organisation's is a 404)",
    tag="core",
    response=obj(id=INT, name=STR, slug=STR),
)
async def get_organisation(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    if id != actor.organisation_id:
        raise NotFound
    org = await own_organisation(actor)
    return {"id": org.id, "name": org.name, "slug": org.slug}


TEAM = obj(id=INT, name=STR)


@api.operation(
    "GET",
    "/teams",
    summary="Teams and services in your organisation",
    tag="core",
    response=list_of(TEAM),
)
async def list_teams(request: Request, actor: Actor) -> dict[str, Any]:
    teams = await Team.filter(organisation_id=actor.organisation_id)
    return {"items": [{"id": t.id, "name": t.name} for t in teams]}


@api.operation(
    "POST",
    "/teams",
    summary="Add a team or service",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    request=obj(name=STR),
    response=TEAM,
    status=201,
)
async def create_team(request: Request, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    team = await people.create_team(
        actor, await own_organisation(actor), str(body.get("name") or "")
    )
    return {"id": team.id, "name": team.name}


AUDIT_EVENT = obj(
    id=INT,
    created_at=DATETIME,
    actor=STR,
    # Null when people act for themselves, and for events about no one record (a sign-in).
    on_behalf_of=NULL_STR,
    action=STR,
    entity_type=STR,
    entity_id=NULL_STR,
    before={"type": ["object", "null"]},
    after={"type": ["object", "null"]},
    via=STR,
)


@api.operation(
    "GET",
    "/audit-events",
    summary="Your organisation's audit log, newest first",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    response=list_of(AUDIT_EVENT),
    query=PAGE_QUERY,
)
async def list_audit_events(request: Request, actor: Actor) -> dict[str, Any]:
    number = page_number(request)
    events = (
        await AuditEvent.filter(organisation_id=actor.organisation_id)
        .offset((number - 1) * 100)
        .limit(100)
    )
    return {
        "items": [
            {
                "id": e.id,
                "created_at": iso(e.created_at),
                "actor": e.actor_label,
                "on_behalf_of": e.on_behalf_of,
                "action": e.action,
                "entity_type": e.entity_type,
                "entity_id": e.entity_id,
                "before": e.before,
                "after": e.after,
                "via": e.via,
            }
            for e in events
        ]
    }


OUTBOX_MESSAGE = obj(
    id=INT,
    to=STR,
    subject=STR,
    status=STR,
    attempts=INT,
    last_error=STR,
    created_at=DATETIME,
    sent_at=DATETIME,
    next_attempt_at=DATETIME,
)


def _message(m: OutboxMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "to": m.to_address,
        "subject": m.subject,
        "status": m.status.value,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "created_at": iso(m.created_at),
        "sent_at": iso(m.sent_at),
        "next_attempt_at": iso(m.next_attempt_at),
    }


@api.operation(
    "GET",
    "/outbox",
    summary="Your organisation's outgoing messages, by status",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    response=list_of(OUTBOX_MESSAGE),
    query=[{"name": "status", "in": "query", "schema": {"enum": [s.value for s in OutboxStatus]}}],
)
async def list_outbox(request: Request, actor: Actor) -> dict[str, Any] | JSONResponse:
    checker = Checker(request.query_params)
    status = (
        checker.choice("status", "a status", [s.value for s in OutboxStatus])
        if ("status" in request.query_params)
        else OutboxStatus.FAILED.value
    )
    checker.done()
    messages = await OutboxMessage.filter(
        organisation_id=actor.organisation_id, status=status
    ).limit(100)
    return {"items": [_message(m) for m in messages]}


@api.operation(
    "POST",
    "/outbox/{id:int}/retry",
    summary="Send a failed message again",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    request=obj(),
    response=OUTBOX_MESSAGE,
)
async def retry_outbox_message(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    message = await OutboxMessage.get_or_none(id=id, organisation_id=actor.organisation_id)
    if message is None:
        raise NotFound
    if message.status == OutboxStatus.FAILED:
        await outbox.retry(actor, message)
    return _message(message)


API_TOKEN = obj(
    id=INT,
    name=STR,
    role=STR,
    prefix=STR,
    created_at=DATETIME,
    last_used_at=DATETIME,
    revoked_at=DATETIME,
)


def _token(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "role": t.role.value,
        "prefix": t.prefix,
        "created_at": iso(t.created_at),
        "last_used_at": iso(t.last_used_at),
        "revoked_at": iso(t.revoked_at),
    }


@api.operation(
    "GET",
    "/api-tokens",
    summary="API tokens of your organisation",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    session_only=True,
    response=list_of(API_TOKEN),
)
async def list_api_tokens(request: Request, actor: Actor) -> dict[str, Any]:
    tokens = await ApiToken.filter(organisation_id=actor.organisation_id)
    return {"items": [_token(t) for t in tokens]}


@api.operation(
    "POST",
    "/api-tokens",
    summary="Create an API token; the secret is shown only in this reply",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    session_only=True,
    status=201,
    request=obj(name=STR, role={"enum": sorted(r.value for r in STAFF_ROLES)}),
    response={**API_TOKEN, "properties": {**API_TOKEN["properties"], "secret": STR}},
)
async def create_api_token(request: Request, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    checker = Checker(body)
    name = checker.text("name", "a name for the token")
    role = checker.choice("role", "what the token may do", [r.value for r in STAFF_ROLES])
    checker.done()
    token, secret = await auth.create_api_token(actor, name, Role(role))
    return {**_token(token), "secret": secret}


@api.operation(
    "POST",
    "/api-tokens/{id:int}/revoke",
    summary="Revoke an API token",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    session_only=True,
    request=obj(),
    response=API_TOKEN,
)
async def revoke_api_token(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    token = await ApiToken.get_or_none(id=id, organisation_id=actor.organisation_id)
    if token is None:
        raise NotFound
    if token.revoked_at is None:
        await auth.revoke_api_token(actor, token)
    return _token(token)


@api.operation(
    "GET",
    "/openapi.json",
    summary="This document",
    tag="core",
    public=True,
    response={"type": "object"},
)
async def get_openapi(request: Request, actor: Actor | None) -> dict[str, Any]:
    return api.openapi()


@api.operation(
    "POST",
    "/stripe/webhook",
    summary="Stripe's webhook. The signature is checked, then the object is read again from "
    "Stripe, and the change is applied once however often the event arrives.",
    tag="payments",
    public=True,
    response=obj(received=STR),
)
async def stripe_webhook(request: Request, actor: Actor | None) -> dict[str, Any]:
    outcome = await payouts.handle_webhook(
        await request.body(), request.headers.get("stripe-signature", "")
    )
    return {"received": outcome}


DECISIONS = {
    "type": "array",
    "description": "The lead's decision for each booking the change would leave breaking a rule "
    "(the 409 reply lists them): cancel it, or keep it with a reason",
    "items": {
        "type": "object",
        "properties": {
            "booking_id": {"type": "integer"},
            "decision": {"enum": ["cancel", "keep"]},
            "reason": {"type": "string", "description": "Why it is kept; needed to keep it"},
        },
        "required": ["booking_id", "decision"],
    },
}


def decisions_needed(exc: DecisionsNeeded) -> JSONResponse:
    """Who a change would leave breaking a rule, and why: 409 until the lead has decided for
    anyone, then 422 naming what is still missing."""
    return JSONResponse(
        {
            "errors": [e.as_dict() for e in exc.errors],
            "conflicts": [
                {
                    "booking_id": risk.booking.id,
                    "representative_id": risk.booking.representative_id,
                    "full_name": risk.booking.representative.full_name,
                    "starts_at": iso(risk.booking.starts_at),
                    "reasons": risk.reasons,
                }
                for risk in exc.at_risk
            ],
        },
        status_code=409 if exc.undecided else 422,
    )
