"""Networks of organisations (a quality network, an ICB) that roll their figures up together.

An organisation administrator sets a network up: their organisation is its first member and
they become its administrator. The administrator invites other organisations; an organisation
joins only when its own administrator accepts, since joining sends its figures (never anyone's
personal data) outside it. Only accepted members count in the network's report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod.config import get_settings
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import (
    STAFF_ROLES,
    Membership,
    MembershipStatus,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    Organisation,
    Role,
    User,
)
from coprod.services import audit, outbox
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed, record_id

NAME_TAKEN = "There is already a network with this name: choose another"
ALREADY_INVITED = "This organisation has already been invited"
UNKNOWN_ORGANISATION = "Enter the short name (slug) or number of an organisation on Coprod"
NOT_STAFF_OF_A_MEMBER = (
    "Enter the email address of a staff member of one of the network's member organisations"
)
ALREADY_HOLDS = "This person already has this role on the network"
LAST_ADMINISTRATOR = (
    "A network needs at least one administrator: give someone else the role before removing it"
)
ROLE_LABELS = {
    NetworkRole.NETWORK_REPORTER: "Network reporter",
    NetworkRole.NETWORK_ADMIN: "Network administrator",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _organisation_admin(actor: Actor) -> int:
    if actor.organisation_id is None or actor.user is None or not actor.has(Role.ORG_ADMIN):
        raise Forbidden
    return actor.organisation_id


async def create_network(actor: Actor, data: Mapping[str, Any]) -> Network:
    """A new network hosted by the actor's organisation, which is its first member; the actor
    becomes its administrator."""
    organisation_id = _organisation_admin(actor)
    c = Checker(data)
    name = c.text("name", "the network's name", max_length=200)
    c.done()
    if await Network.exists(name=name):
        raise ValidationFailed.one("name", NAME_TAKEN)
    try:
        async with in_transaction():
            network = await Network.create(name=name, host_organisation_id=organisation_id)
            await NetworkMembership.create(
                network=network,
                organisation_id=organisation_id,
                status=MembershipStatus.ACCEPTED,
                responded_at=_now(),
            )
            await NetworkMember.create(
                user=actor.user, network=network, role=NetworkRole.NETWORK_ADMIN
            )
            await audit.record(actor, "network.create", network, after=audit.snapshot(network))
    except IntegrityError:  # the same name taken at the same moment
        raise ValidationFailed.one("name", NAME_TAKEN) from None
    return network


async def administered(actor: Actor, network_id: int) -> Network:
    """The network, if the actor administers it: 404 if they have no part in it, 403 if they
    only report on it or their organisation is only a member."""
    network = await visible(actor, network_id)
    if not await administers(actor, network_id):
        raise Forbidden
    return network


async def administers(actor: Actor, network_id: int) -> bool:
    return actor.user is not None and await NetworkMember.exists(
        user_id=actor.user.id, network_id=network_id, role=NetworkRole.NETWORK_ADMIN
    )


async def _organisation_named(value: str) -> Organisation | None:
    """An organisation by its slug or its number, as an administrator would know it."""
    number = record_id(value)
    if number is not None:
        found = await Organisation.get_or_none(id=number)
        if found is not None:
            return found
    return await Organisation.get_or_none(slug=value.strip().lower())


async def invite(actor: Actor, network_id: int, data: Mapping[str, Any]) -> NetworkMembership:
    """Invite an organisation (by slug or number) to join; its administrators are emailed.
    An organisation that declined may be invited again."""
    network = await administered(actor, network_id)
    c = Checker(data)
    named = c.text("organisation", "the organisation's short name or number", max_length=80)
    c.done()
    organisation = await _organisation_named(named)
    if organisation is None:
        raise ValidationFailed.one("organisation", UNKNOWN_ORGANISATION)
    try:
        async with in_transaction():
            membership = await (
                NetworkMembership.filter(network=network, organisation=organisation)
                .select_for_update()
                .first()
            )
            if membership is not None and membership.status == MembershipStatus.ACCEPTED:
                raise ValidationFailed.one("organisation", "This organisation is already a member")
            if membership is not None and membership.status == MembershipStatus.INVITED:
                raise ValidationFailed.one("organisation", ALREADY_INVITED)
            before = audit.snapshot(membership) if membership is not None else None
            if membership is None:
                membership = await NetworkMembership.create(
                    network=network, organisation=organisation, status=MembershipStatus.INVITED
                )
            else:
                membership.status = MembershipStatus.INVITED
                membership.responded_at = None
                await membership.save(update_fields=["status", "responded_at"])
            await audit.record(
                actor,
                "network.invite",
                membership,
                before=before,
                after=audit.snapshot(membership),
            )
            await _email_administrators(network, organisation)
    except IntegrityError:  # the same organisation invited twice at the same moment
        raise ValidationFailed.one("organisation", ALREADY_INVITED) from None
    return membership


async def _email_administrators(network: Network, organisation: Organisation) -> None:
    admins = await Membership.filter(
        organisation=organisation, role=Role.ORG_ADMIN, user__is_active=True
    ).prefetch_related("user")
    for admin in admins:
        await outbox.enqueue_email(
            to=admin.user.work_email,
            template="network_invitation",
            context={
                "name": admin.user.full_name,
                "network": network.name,
                "organisation": organisation.name,
                "url": f"{get_settings().base_url}/networks",
            },
            organisation_id=organisation.id,
        )


async def respond(actor: Actor, network_id: int, accept: bool) -> NetworkMembership:
    """The actor's organisation accepts or declines its invitation to the network. Only that
    organisation's administrator can; anyone else finds no invitation."""
    organisation_id = _organisation_admin(actor)
    async with in_transaction():
        membership = await (
            NetworkMembership.filter(network_id=network_id, organisation_id=organisation_id)
            .select_for_update()
            .first()
        )
        if membership is None:
            raise NotFound
        if membership.status != MembershipStatus.INVITED:
            raise Conflict(
                "Your organisation is already a member of this network"
                if membership.status == MembershipStatus.ACCEPTED
                else "Your organisation has declined this invitation; the network can invite "
                "it again"
            )
        before = audit.snapshot(membership)
        membership.status = MembershipStatus.ACCEPTED if accept else MembershipStatus.DECLINED
        membership.responded_at = _now()
        await membership.save(update_fields=["status", "responded_at"])
        await audit.record(
            actor,
            "network.accept" if accept else "network.decline",
            membership,
            before=before,
            after=audit.snapshot(membership),
        )
    return membership


async def visible(actor: Actor, network_id: int) -> Network:
    """A network the actor may see the members of: one they hold a role on, or one their
    organisation belongs to or is invited to."""
    network = await Network.get_or_none(id=network_id)
    if network is None:
        raise NotFound
    if network_id in actor.network_ids:
        return network
    if actor.organisation_id is not None and await NetworkMembership.exists(
        network_id=network_id,
        organisation_id=actor.organisation_id,
        status__in=(MembershipStatus.INVITED, MembershipStatus.ACCEPTED),
    ):
        return network
    raise NotFound


# ---------------------------------------------------------------------------- people


async def give_role(actor: Actor, network_id: int, data: Mapping[str, Any]) -> NetworkMember:
    """A network administrator gives a network role to a staff member of an organisation in the
    network. Reporters see the network's report; administrators also invite organisations and
    give roles. The person is emailed, and it takes effect at their next page."""
    network = await administered(actor, network_id)
    c = Checker(data)
    email = c.email("email")
    role = c.choice("role", "the role to give", [r.value for r in NetworkRole])
    c.done()
    # Network figures are never personal data, but who sees them is still the members' choice:
    # only their own staff may hold a role.
    user = await User.filter(
        email=email,
        is_active=True,
        memberships__role__in=sorted(STAFF_ROLES),
        memberships__organisation_id__in=Subquery(
            NetworkMembership.filter(network=network, status=MembershipStatus.ACCEPTED).values(
                "organisation_id"
            )
        ),
    ).first()
    if user is None:
        raise ValidationFailed.one("email", NOT_STAFF_OF_A_MEMBER)
    try:
        async with in_transaction():
            member = await NetworkMember.create(user=user, network=network, role=role)
            await audit.record(actor, "network.role_give", member, after=audit.snapshot(member))
            await outbox.enqueue_email(
                to=user.work_email,
                template="network_role",
                context={
                    "name": user.full_name,
                    "network": network.name,
                    "role": ROLE_LABELS[NetworkRole(role)].lower(),
                    "administers": role == NetworkRole.NETWORK_ADMIN,
                    "url": f"{get_settings().base_url}/networks/{network.id}",
                },
            )
    except IntegrityError:  # the unique (user, network, role) says they hold it already
        raise ValidationFailed.one("email", ALREADY_HOLDS) from None
    member.user = user
    return member


async def take_role(actor: Actor, network_id: int, member_id: int) -> NetworkMember:
    """A network administrator takes a role away (their own included), never the last
    administrator's: a network nobody administers could never change again."""
    network = await administered(actor, network_id)
    async with in_transaction():
        # Locking every administrator row stops two administrators removing each other at once.
        admins = await NetworkMember.filter(
            network=network, role=NetworkRole.NETWORK_ADMIN
        ).select_for_update()
        member = await NetworkMember.get_or_none(id=member_id, network=network)
        if member is None:
            raise NotFound
        if member.role == NetworkRole.NETWORK_ADMIN and len(admins) <= 1:
            raise Conflict(LAST_ADMINISTRATOR)
        await audit.record(actor, "network.role_take", member, before=audit.snapshot(member))
        await member.delete()
    return member


async def people(actor: Actor, network_id: int) -> QuerySet[NetworkMember]:
    """Who holds a role on the network, for its administrators."""
    network = await administered(actor, network_id)
    return NetworkMember.filter(network=network).prefetch_related("user")


# ---------------------------------------------------------------------------- reading


@dataclass
class NetworkView:
    """A network as the actor sees it: who hosts it, their organisation's place in it, and
    their own roles on it."""

    network: Network
    host: Organisation | None
    place: MembershipStatus | None
    roles: list[NetworkRole]


def yours(actor: Actor, status: MembershipStatus | None = None) -> QuerySet[Network]:
    """Networks the actor holds a role on or their organisation has a place in; with `status`,
    only those where their organisation's place is that (`invited`: waiting for an answer)."""
    places = NetworkMembership.filter(organisation_id=actor.organisation_id)
    if status is not None:
        return Network.filter(id__in=Subquery(places.filter(status=status).values("network_id")))
    return Network.filter(
        Q(id__in=Subquery(places.values("network_id"))) | Q(id__in=list(actor.network_ids))
    )


async def views(actor: Actor, found: list[Network]) -> list[NetworkView]:
    ids = [n.id for n in found]
    places = dict(
        await NetworkMembership.filter(
            network_id__in=ids, organisation_id=actor.organisation_id
        ).values_list("network_id", "status")
    )
    roles: dict[int, list[NetworkRole]] = {}
    if actor.user is not None:
        for network_id, role in await NetworkMember.filter(
            network_id__in=ids, user_id=actor.user.id
        ).values_list("network_id", "role"):
            roles.setdefault(network_id, []).append(NetworkRole(role))
    hosts = {
        org.id: org
        for org in await Organisation.filter(
            id__in=[n.host_organisation_id for n in found if n.host_organisation_id]
        )
    }
    return [
        NetworkView(
            network=n,
            host=hosts.get(n.host_organisation_id) if n.host_organisation_id else None,
            place=MembershipStatus(places[n.id]) if n.id in places else None,
            roles=sorted(roles.get(n.id, [])),
        )
        for n in found
    ]


async def members(
    actor: Actor, network_id: int, status: MembershipStatus | None = None
) -> QuerySet[NetworkMembership]:
    """A network's memberships the actor may see: all of them for its administrators; the
    members and their own organisation's invitation for anyone else in it."""
    network = await visible(actor, network_id)
    found = NetworkMembership.filter(network=network)
    if not await administers(actor, network_id):
        found = found.filter(
            Q(status=MembershipStatus.ACCEPTED) | Q(organisation_id=actor.organisation_id)
        )
    if status is not None:
        found = found.filter(status=status)
    return found.prefetch_related("organisation")
