"""Organisations (trusts), their teams, and networks of organisations."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.users import User


class Network(TimestampedModel):
    """A group of organisations that compares figures, e.g. a quality network or an ICB."""

    host_organisation_id: int | None

    name = fields.CharField(max_length=200, unique=True)
    # The organisation whose administrator set the network up; null for networks made before
    # organisations could make them.
    host_organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="hosted_networks", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "network"
        ordering = ["name"]


class Organisation(TimestampedModel):
    """A trust. Every record that belongs to a trust points here, and access stops at it."""

    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=80, unique=True)
    # The payroll file's cost centre for money earned outside any team with its own.
    payroll_cost_centre = fields.CharField(max_length=20, null=True)

    class Meta:
        table = "organisation"
        ordering = ["name"]


class MembershipStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {"invited": "Invited", "accepted": "Member", "declined": "Declined"}[self.value]


class NetworkMembership(TimestampedModel):
    """An organisation's place in a network. Only accepted members count in the network's
    figures: an organisation joins by its own administrator accepting an invitation."""

    network_id: int
    organisation_id: int

    network: fields.ForeignKeyRelation[Network] = fields.ForeignKeyField(
        "models.Network", related_name="memberships", on_delete=fields.CASCADE
    )
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="network_memberships", on_delete=fields.CASCADE
    )
    # Memberships made before invitations existed were made by hand, as members.
    status = fields.CharEnumField(
        MembershipStatus, max_length=10, default=MembershipStatus.ACCEPTED
    )
    responded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "network_membership"
        unique_together = (("network", "organisation"),)


class Team(TimestampedModel):
    """A team or service within an organisation, e.g. a crisis resolution team."""

    organisation_id: int
    feedback_champion_id: int | None

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="teams", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    # Where payroll charges the fees and expenses earned for this team.
    cost_centre = fields.CharField(max_length=20, null=True)
    # Reads the team's new feedback, tags its themes and turns it into actions. Any member of
    # staff in the organisation; involvement leads can always do the same.
    feedback_champion: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="champion_of", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "team"
        unique_together = (("organisation", "name"),)
        ordering = ["name"]
