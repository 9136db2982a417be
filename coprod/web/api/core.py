"""API operations of the foundation: who am I, teams, the audit log, the outbox, API tokens."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from coprod.domain.notifications import Channel
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
from coprod.services import auth, outbox, people, stripe_webhooks
from coprod.services.actor import Actor
from coprod.services.decisions import DecisionsNeeded
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import (
    Body,
    BookingAtRisk,
    DateTime,
    ErrorItem,
    Errors,
    Id,
    NoBody,
    Page,
    Paging,
    Reply,
    text,
)


async def own_organisation(actor: Actor) -> Organisation:
    org = await Organisation.get_or_none(id=actor.organisation_id)
    if org is None:
        raise NotFound
    return org


class OrganisationReply(Reply):
    id: int
    name: str


class OrganisationDetail(OrganisationReply):
    slug: str


class Me(Reply):
    id: int
    email: str | None = Field(
        description="None for a representative who signs in with a code sent to their mobile"
    )
    full_name: str
    phone: str | None = Field(
        description="Staff's number, given to representatives so they can phone rather than write"
    )
    organisation: OrganisationReply
    roles: list[str]


class OwnDetailsChanges(Body):
    full_name: str = text(200, title="your full name", default=None)
    phone: str | None = text(40, required=False, default=None, title="your phone number")


@api.operation(
    "GET",
    "/me",
    summary="Who is signed in, in which organisation, with which roles",
    tag="core",
    reply=Me,
)
async def get_me(request: Request, actor: Actor) -> Me:
    assert actor.user is not None
    org = await own_organisation(actor)
    return Me(
        id=actor.user.id,
        email=actor.user.email,
        full_name=actor.user.full_name,
        phone=actor.user.phone,
        organisation=OrganisationReply(id=org.id, name=org.name),
        roles=sorted(r.value for r in actor.roles),
    )


@api.operation(
    "PATCH",
    "/me",
    summary="Change your own name or phone number (staff; representatives change their profile)",
    tag="core",
    roles=tuple(sorted(STAFF_ROLES)),
    body=OwnDetailsChanges,
    reply=Me,
)
async def update_me(request: Request, actor: Actor, body: OwnDetailsChanges) -> Me:
    # The service takes the whole form the /account page sends, so fields left out keep
    # their current values.
    current = (
        {"full_name": actor.user.full_name, "phone": actor.user.phone or ""} if actor.user else {}
    )
    await people.update_own_details(actor, {**current, **body.data()})
    return await get_me(request, actor)


@api.operation(
    "GET",
    "/organisations/{id:int}",
    summary="Your organisation (another organisation's is a 404)",
    tag="core",
    reply=OrganisationDetail,
)
async def get_organisation(request: Request, actor: Actor, id: int) -> OrganisationDetail:
    if id != actor.organisation_id:
        raise NotFound
    org = await own_organisation(actor)
    return OrganisationDetail(id=org.id, name=org.name, slug=org.slug)


class TeamReply(Reply):
    id: int
    name: str
    cost_centre: str | None = Field(None, description="Where payroll charges money earned for it")


class TeamInput(Body):
    name: str = text(100, title="the team's name")


@api.operation(
    "GET",
    "/teams",
    summary="Teams and services in your organisation, by name",
    tag="core",
    query=Paging,
    reply=Page[TeamReply],
)
async def list_teams(request: Request, actor: Actor, query: Paging) -> Page[TeamReply]:
    teams, cursor = await keyset_page(
        Team.filter(organisation_id=actor.organisation_id), query, ("name", "id")
    )
    return Page(
        items=[TeamReply(id=t.id, name=t.name, cost_centre=t.cost_centre) for t in teams],
        next_cursor=cursor,
    )


@api.operation(
    "POST",
    "/teams",
    summary="Add a team or service",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    body=TeamInput,
    reply=TeamReply,
    status=201,
)
async def create_team(request: Request, actor: Actor, body: TeamInput) -> TeamReply:
    team = await people.create_team(actor, await own_organisation(actor), body.name)
    return TeamReply(id=team.id, name=team.name, cost_centre=team.cost_centre)


class AuditEventReply(Reply):
    id: int
    created_at: DateTime
    actor: str
    on_behalf_of: str | None = Field(
        description="Null when people act for themselves, and for events about no one "
        "record (a sign-in)"
    )
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    via: str


@api.operation(
    "GET",
    "/audit-events",
    summary="Your organisation's audit log, newest first",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    query=Paging,
    reply=Page[AuditEventReply],
)
async def list_audit_events(request: Request, actor: Actor, query: Paging) -> Page[AuditEventReply]:
    events, cursor = await keyset_page(
        AuditEvent.filter(organisation_id=actor.organisation_id), query, ("-created_at", "-id")
    )
    return Page(
        items=[
            AuditEventReply(
                id=e.id,
                created_at=e.created_at,
                actor=e.actor_label,
                on_behalf_of=e.on_behalf_of,
                action=e.action,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
                before=e.before,
                after=e.after,
                via=e.via,
            )
            for e in events
        ],
        next_cursor=cursor,
    )


class OutboxMessageReply(Reply):
    id: int
    channel: Channel = Field(description="How it travels: email, text or letter")
    notification: str | None = Field(
        description="The notification kind, e.g. booking_confirmed (None for older emails)"
    )
    to: str = Field(description="An email address, a mobile number, or a letter's addressee")
    subject: str
    status: OutboxStatus
    delivery_status: str | None = Field(
        description="What GOV.UK Notify last said of it (e.g. delivered, permanent-failure)"
    )
    attempts: int
    last_error: str | None
    created_at: DateTime
    sent_at: DateTime | None
    next_attempt_at: DateTime | None


class OutboxQuery(Paging):
    status: OutboxStatus = Field(OutboxStatus.FAILED, title="a status")


def _message(m: OutboxMessage) -> OutboxMessageReply:
    return OutboxMessageReply(
        id=m.id,
        channel=Channel(m.kind),
        notification=m.notification,
        to=m.to_address,
        subject=m.subject,
        status=m.status,
        delivery_status=m.delivery_status,
        attempts=m.attempts,
        last_error=m.last_error,
        created_at=m.created_at,
        sent_at=m.sent_at,
        next_attempt_at=m.next_attempt_at,
    )


@api.operation(
    "GET",
    "/outbox",
    summary="Your organisation's outgoing messages with one status (failed unless you say), "
    "newest first",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    query=OutboxQuery,
    reply=Page[OutboxMessageReply],
)
async def list_outbox(
    request: Request, actor: Actor, query: OutboxQuery
) -> Page[OutboxMessageReply]:
    messages, cursor = await keyset_page(
        OutboxMessage.filter(organisation_id=actor.organisation_id, status=query.status),
        query,
        ("-created_at", "-id"),
    )
    return Page(items=[_message(m) for m in messages], next_cursor=cursor)


@api.operation(
    "POST",
    "/outbox/{id:int}/retry",
    summary="Send a failed message again",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    body=NoBody,
    reply=OutboxMessageReply,
)
async def retry_outbox_message(
    request: Request, actor: Actor, id: int, body: NoBody
) -> OutboxMessageReply:
    message = await OutboxMessage.get_or_none(id=id, organisation_id=actor.organisation_id)
    if message is None:
        raise NotFound
    if message.status == OutboxStatus.FAILED:
        await outbox.retry(actor, message)
    return _message(message)


class ApiTokenReply(Reply):
    id: int
    name: str
    role: Role
    prefix: str
    created_at: DateTime
    last_used_at: DateTime | None
    revoked_at: DateTime | None


class NewApiToken(ApiTokenReply):
    secret: str = Field(description="Shown only in this reply: keep it safe")


# A Literal built from the roles, so the schema lists exactly the roles a token may have.
StaffRole = Literal[tuple(sorted(r.value for r in STAFF_ROLES))]  # type: ignore[valid-type]


class ApiTokenInput(Body):
    name: str = text(100, title="a name for the token")
    role: StaffRole = Field(title="what the token may do")  # type: ignore[valid-type]


def _token(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "prefix": t.prefix,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
    }


@api.operation(
    "GET",
    "/api-tokens",
    summary="API tokens of your organisation, newest first",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    session_only=True,
    query=Paging,
    reply=Page[ApiTokenReply],
)
async def list_api_tokens(request: Request, actor: Actor, query: Paging) -> Page[ApiTokenReply]:
    tokens, cursor = await keyset_page(
        ApiToken.filter(organisation_id=actor.organisation_id), query, ("-id",)
    )
    return Page(items=[ApiTokenReply(**_token(t)) for t in tokens], next_cursor=cursor)


@api.operation(
    "POST",
    "/api-tokens",
    summary="Create an API token; the secret is shown only in this reply",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    session_only=True,
    status=201,
    body=ApiTokenInput,
    reply=NewApiToken,
)
async def create_api_token(request: Request, actor: Actor, body: ApiTokenInput) -> NewApiToken:
    token, secret = await auth.create_api_token(actor, body.name, Role(body.role))
    return NewApiToken(**_token(token), secret=secret)


@api.operation(
    "POST",
    "/api-tokens/{id:int}/revoke",
    summary="Revoke an API token",
    tag="core",
    roles=(Role.ORG_ADMIN,),
    session_only=True,
    body=NoBody,
    reply=ApiTokenReply,
)
async def revoke_api_token(request: Request, actor: Actor, id: int, body: NoBody) -> ApiTokenReply:
    token = await ApiToken.get_or_none(id=id, organisation_id=actor.organisation_id)
    if token is None:
        raise NotFound
    if token.revoked_at is None:
        await auth.revoke_api_token(actor, token)
    return ApiTokenReply(**_token(token))


class OpenApiDocument(Reply):
    """The OpenAPI 3.1 document itself."""

    model_config = {"extra": "allow"}

    openapi: str
    paths: dict[str, Any]


@api.operation(
    "GET",
    "/openapi.json",
    summary="This document",
    tag="core",
    public=True,
    reply=OpenApiDocument,
)
async def get_openapi(request: Request, actor: Actor | None) -> dict[str, Any]:
    return api.openapi()


class WebhookReceived(Reply):
    received: str = Field(description="What became of the event")


@api.operation(
    "POST",
    "/stripe/webhook",
    summary="Stripe's webhook. The signature is checked, then the object is read again from "
    "Stripe, and the change is applied once however often the event arrives.",
    tag="payments",
    public=True,
    reply=WebhookReceived,
)
async def stripe_webhook(request: Request, actor: Actor | None) -> WebhookReceived:
    outcome = await stripe_webhooks.handle_webhook(
        await request.body(), request.headers.get("stripe-signature", "")
    )
    return WebhookReceived(received=outcome)


class Decision(Body):
    booking_id: Id
    decision: Literal["cancel", "keep"] = Field(title="cancel or keep")
    reason: str | None = text(
        500, required=False, default=None, description="Why it is kept; needed to keep it"
    )


DECISIONS_FIELD: Any = Field(
    None,
    description="The lead's decision for each booking the change would leave breaking a rule "
    "(the 409 reply lists them): cancel it, or keep it with a reason",
)


def decisions_needed(exc: DecisionsNeeded) -> JSONResponse:
    """Who a change would leave breaking a rule, and why: 409 until the lead has decided for
    anyone, then 422 naming what is still missing."""
    reply = Errors(
        errors=[ErrorItem(field=e.field, message=e.message) for e in exc.errors],
        conflicts=[
            BookingAtRisk(
                booking_id=risk.booking.id,
                representative_id=risk.booking.representative_id,
                full_name=risk.booking.representative.full_name,
                starts_at=risk.booking.starts_at,
                reasons=risk.reasons,
            )
            for risk in exc.at_risk
        ],
    )
    return JSONResponse(reply.model_dump(mode="json"), status_code=409 if exc.undecided else 422)
