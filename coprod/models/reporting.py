"""What reports count: one involvement per attended booking, and the local population figures
an organisation enters to compare reach against."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.org import Organisation


class Involvement(TimestampedModel):
    """One attended booking, copied flat so that reports aggregate in SQL over one table.

    Written when attendance is recorded, and its fee and expenses filled in when the claim is
    approved. It holds no names: reports never need them.
    """

    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="involvements", on_delete=fields.CASCADE
    )
    booking_id = fields.IntField(null=True, unique=True)
    activity_id = fields.IntField(null=True)
    project_id = fields.IntField(null=True)
    team_id = fields.IntField(null=True, db_index=True)
    representative_id = fields.IntField()
    representative_type = fields.CharField(max_length=10)
    category = fields.CharField(max_length=20, null=True)
    kind = fields.CharField(max_length=20)
    mode = fields.CharField(max_length=10)
    day = fields.DateField()
    minutes = fields.IntField()
    fee_pence = fields.IntField(default=0)
    expenses_pence = fields.IntField(default=0)

    class Meta:
        table = "involvement"
        # Reports filter by organisation and period; "new this period" and claims look up one
        # person's days. (A day-only index misled PostgreSQL's generic plans: see bench/.)
        indexes = (("organisation_id", "day"), ("representative_id", "organisation_id", "day"))


class PopulationFigure(TimestampedModel):
    """The share of the local population in a group, as the organisation enters it (e.g. from
    the census), to set the reach of involvement against."""

    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="population", on_delete=fields.CASCADE
    )
    characteristic = fields.CharField(max_length=40)
    group = fields.CharField(max_length=80)
    percent_tenths = fields.IntField()  # 12.5% is 125

    class Meta:
        table = "population_figure"
        unique_together = (("organisation", "characteristic", "group"),)
