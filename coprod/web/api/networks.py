"""API operations for networks of organisations: setting one up, inviting organisations, an
organisation accepting or declining, and listing networks and their members. The rules live in
coprod.services.networks; the network's figures are in api/reports.py."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request

from coprod.models import (
    MembershipStatus,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    Organisation,
    Role,
)
from coprod.services import networks
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, NoBody, Page, Paging, Reply, text

TAG = "networks"
STAFF = (Role.REPORTER, Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN, Role.FINANCE_OFFICER)


class OrganisationName(Reply):
    id: int
    name: str
    slug: str


class NetworkReply(Reply):
    id: int
    name: str
    host_organisation: OrganisationName | None = Field(
        description="The organisation that set the network up; null for older networks"
    )
    your_organisation: MembershipStatus | None = Field(
        description="Your organisation's place in the network: invited, accepted (a member, "
        "counted in its figures) or declined; null if it has none"
    )
    your_roles: list[NetworkRole] = Field(
        description="Your own roles on the network: a network_admin invites organisations; "
        "both roles see the network's report"
    )


class NetworkMemberReply(Reply):
    network_id: int
    organisation: OrganisationName
    status: MembershipStatus = Field(
        description="Only accepted members count in the network's figures"
    )
    invited_at: DateTime
    responded_at: DateTime | None = Field(description="When the organisation answered")


class NetworksQuery(Paging):
    status: MembershipStatus | None = Field(
        None,
        title="a status",
        description="Only networks your organisation has this place in: `invited` lists the "
        "invitations waiting for your answer",
    )


class MembersQuery(Paging):
    status: MembershipStatus | None = Field(
        None, title="a status", description="Only members (or invitations) in this state"
    )


class NetworkInput(Body):
    name: str = text(200, title="the network's name")


class InvitationInput(Body):
    organisation: int | str = Field(
        title="the organisation's short name or number",
        union_mode="left_to_right",
        description="The organisation to invite: its short name (slug), or its number",
    )


class NetworkPersonReply(Reply):
    id: int = Field(description="The role's number, to remove it by")
    network_id: int
    name: str
    email: str
    role: NetworkRole = Field(
        description="network_reporter sees the network's report; network_admin also invites "
        "organisations and gives roles"
    )


class RoleInput(Body):
    email: str = text(254, title="an email address")
    role: NetworkRole = Field(title="the role to give")


def _person(member: NetworkMember) -> NetworkPersonReply:
    return NetworkPersonReply(
        id=member.id,
        network_id=member.network_id,
        name=member.user.full_name,
        email=member.user.work_email,
        role=member.role,
    )


def _organisation(org: Organisation) -> OrganisationName:
    return OrganisationName(id=org.id, name=org.name, slug=org.slug)


def _member(membership: NetworkMembership) -> NetworkMemberReply:
    return NetworkMemberReply(
        network_id=membership.network_id,
        organisation=_organisation(membership.organisation),
        status=membership.status,
        invited_at=membership.created_at,
        responded_at=membership.responded_at,
    )


async def _networks(actor: Actor, found: list[Network]) -> list[NetworkReply]:
    return [
        NetworkReply(
            id=view.network.id,
            name=view.network.name,
            host_organisation=_organisation(view.host) if view.host else None,
            your_organisation=view.place,
            your_roles=view.roles,
        )
        for view in await networks.views(actor, found)
    ]


@api.operation(
    "GET",
    "/networks",
    summary="Networks you hold a role on or your organisation belongs to, is invited to or "
    "declined, by name",
    tag=TAG,
    roles=STAFF,
    query=NetworksQuery,
    reply=Page[NetworkReply],
)
async def list_networks(request: Request, actor: Actor, query: NetworksQuery) -> Page[NetworkReply]:
    found, cursor = await keyset_page(networks.yours(actor, query.status), query, ("name", "id"))
    return Page(items=await _networks(actor, found), next_cursor=cursor)


@api.operation(
    "POST",
    "/networks",
    summary="Set up a network: your organisation is its first member and you its administrator",
    tag=TAG,
    roles=(Role.ORG_ADMIN,),
    body=NetworkInput,
    reply=NetworkReply,
    status=201,
)
async def create_network(request: Request, actor: Actor, body: NetworkInput) -> NetworkReply:
    network = await networks.create_network(actor, body.data())
    (reply,) = await _networks(actor, [network])
    return reply


@api.operation(
    "GET",
    "/networks/{id:int}/members",
    summary="A network's member organisations, oldest first. Its administrators see the "
    "invitations and declined ones too; an invited organisation sees its own invitation",
    tag=TAG,
    roles=STAFF,
    query=MembersQuery,
    reply=Page[NetworkMemberReply],
)
async def list_network_members(
    request: Request, actor: Actor, id: int, query: MembersQuery
) -> Page[NetworkMemberReply]:
    found, cursor = await keyset_page(
        await networks.members(actor, id, query.status), query, ("id",)
    )
    return Page(items=[_member(m) for m in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/networks/{id:int}/invitations",
    summary="Invite an organisation to join the network (network administrators). Its "
    "administrators are emailed, and it joins only when one of them accepts",
    tag=TAG,
    body=InvitationInput,
    reply=NetworkMemberReply,
    status=201,
)
async def invite_to_network(
    request: Request, actor: Actor, id: int, body: InvitationInput
) -> NetworkMemberReply:
    membership = await networks.invite(actor, id, body.data())
    await membership.fetch_related("organisation")
    return _member(membership)


async def _respond(actor: Actor, id: int, accept: bool) -> NetworkMemberReply:
    membership = await networks.respond(actor, id, accept)
    await membership.fetch_related("organisation")
    return _member(membership)


@api.operation(
    "POST",
    "/networks/{id:int}/accept",
    summary="Accept your organisation's invitation: it joins the network, and its figures "
    "(never personal data) count in the network's report",
    tag=TAG,
    roles=(Role.ORG_ADMIN,),
    body=NoBody,
    reply=NetworkMemberReply,
)
async def accept_network_invitation(
    request: Request, actor: Actor, id: int, body: NoBody
) -> NetworkMemberReply:
    return await _respond(actor, id, accept=True)


@api.operation(
    "POST",
    "/networks/{id:int}/decline",
    summary="Decline your organisation's invitation to the network",
    tag=TAG,
    roles=(Role.ORG_ADMIN,),
    body=NoBody,
    reply=NetworkMemberReply,
)
async def decline_network_invitation(
    request: Request, actor: Actor, id: int, body: NoBody
) -> NetworkMemberReply:
    return await _respond(actor, id, accept=False)


@api.operation(
    "GET",
    "/networks/{id:int}/people",
    summary="Who holds a role on the network (network administrators)",
    tag=TAG,
    roles=STAFF,
    query=Paging,
    reply=Page[NetworkPersonReply],
)
async def list_network_people(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[NetworkPersonReply]:
    found, cursor = await keyset_page(await networks.people(actor, id), query, ("id",))
    return Page(items=[_person(m) for m in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/networks/{id:int}/people",
    summary="Give a staff member of a member organisation a role on the network (network "
    "administrators). They are emailed",
    tag=TAG,
    roles=STAFF,
    body=RoleInput,
    reply=NetworkPersonReply,
    status=201,
)
async def give_network_role(
    request: Request, actor: Actor, id: int, body: RoleInput
) -> NetworkPersonReply:
    return _person(await networks.give_role(actor, id, body.data()))


@api.operation(
    "DELETE",
    "/networks/{id:int}/people/{member_id:int}",
    summary="Take a role away (network administrators); never the last administrator's",
    tag=TAG,
    roles=STAFF,
    reply=NetworkPersonReply,
)
async def take_network_role(
    request: Request, actor: Actor, id: int, member_id: int
) -> NetworkPersonReply:
    member = await networks.take_role(actor, id, member_id)
    await member.fetch_related("user")
    return _person(member)
