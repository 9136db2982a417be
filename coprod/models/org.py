"""Organisations (trusts), their teams, and networks of organisations."""

from __future__ import annotations

from tortoise import fields

from coprod.models.base import TimestampedModel


class Network(TimestampedModel):
    """A group of organisations that compares figures, e.g. a quality network or an ICB."""

    name = fields.CharField(max_length=200, unique=True)

    class Meta:
        table = "network"
        ordering = ["name"]


class Organisation(TimestampedModel):
    """A trust. Every record that belongs to a trust points here, and access stops at it."""

    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=80, unique=True)

    class Meta:
        table = "organisation"
        ordering = ["name"]


class NetworkMembership(TimestampedModel):
    network: fields.ForeignKeyRelation[Network] = fields.ForeignKeyField(
        "models.Network", related_name="memberships", on_delete=fields.CASCADE
    )
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="network_memberships", on_delete=fields.CASCADE
    )

    class Meta:
        table = "network_membership"
        unique_together = (("network", "organisation"),)


class Team(TimestampedModel):
    """A team or service within an organisation, e.g. a crisis resolution team."""

    organisation_id: int

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="teams", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)

    class Meta:
        table = "team"
        unique_together = (("organisation", "name"),)
        ordering = ["name"]
