"""What reports count: one involvement per attended booking, and the local population figures
an organisation enters to compare reach against."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

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


# Roll-ups of `involvement`, kept in step with it in the same transaction by
# `services/rollups.py`. Reports read these; the raw rows stay the record they are checked
# against. Keys hold no NULLs (0 or "" for "none") so that the unique key, and ON CONFLICT
# upserts on it, treat "no team" as one value on every database.


class ActivityDay(Model):
    """Involvement summed per organisation, day and activity (with the mode, category, team
    and project each involvement was recorded with). Sums add up over any set of days, and an
    activity is in a period exactly when it has a row on one of its days, so distinct
    activities stay exact for any period. An activity's day has a row for each way people
    took part and one for every way (mode ""), which figures not split by mode read."""

    id = fields.IntField(primary_key=True)
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="activity_days", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    activity_id = fields.IntField()
    mode = fields.CharField(max_length=10)
    category = fields.CharField(max_length=20)
    team_id = fields.IntField()
    project_id = fields.IntField()
    involvements = fields.IntField()
    minutes = fields.IntField()
    fee_pence = fields.IntField()
    expenses_pence = fields.IntField()

    class Meta:
        table = "rollup_activity_day"
        unique_together = (
            ("organisation", "day", "activity_id", "mode", "category", "team_id", "project_id"),
        )
        # Every column a report reads, so that it reads the index alone: an organisation's
        # rows for a year lie one to a page of the table, written day by day among everyone's.
        # Mode before day: each mode's rows for a period (and those of every mode) are one
        # stretch of the index.
        indexes = (
            (
                "organisation_id",
                "mode",
                "day",
                "team_id",
                "category",
                "project_id",
                "activity_id",
                "involvements",
                "minutes",
                "fee_pence",
                "expenses_pence",
            ),
        )


class PersonDay(Model):
    """Who took part on each day: distinct people over a period need the person in the key."""

    id = fields.IntField(primary_key=True)
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="person_days", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    team_id = fields.IntField()
    representative_id = fields.IntField()
    representative_type = fields.CharField(max_length=10)
    involvements = fields.IntField()

    class Meta:
        table = "rollup_person_day"
        unique_together = (
            ("organisation", "day", "team_id", "representative_id", "representative_type"),
        )
        indexes = (("representative_id", "organisation_id", "team_id"),)


class MonthCounts(Model):
    """A yearly roll-up's count for each month of the financial year, April to March
    (`domain.reporting.MONTHS`)."""

    april = fields.IntField()
    may = fields.IntField()
    june = fields.IntField()
    july = fields.IntField()
    august = fields.IntField()
    september = fields.IntField()
    october = fields.IntField()
    november = fields.IntField()
    december = fields.IntField()
    january = fields.IntField()
    february = fields.IntField()
    march = fields.IntField()

    class Meta:
        abstract = True


class PersonYear(MonthCounts):
    """`PersonDay` by financial year (April to March, named by its first year), with what a
    person did in each of its months. A period reads its whole months here and only its ragged
    ends from `PersonDay`, so a year is one row a person, not 365. A row is kept only while
    some month counts. Team 0 is the whole organisation, as in `PersonFirst`: a person has a
    row there for every year they took part, and a row for each team they took part in."""

    id = fields.IntField(primary_key=True)
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="person_years", on_delete=fields.CASCADE
    )
    year = fields.IntField()
    team_id = fields.IntField()
    representative_id = fields.IntField()
    representative_type = fields.CharField(max_length=10)

    class Meta:
        table = "rollup_person_year"
        unique_together = (
            ("organisation", "year", "team_id", "representative_id", "representative_type"),
        )
        # The team before the year: a report across teams reads the whole organisation's
        # rows (team 0) without stepping over each team's between them.
        indexes = (
            ("organisation_id", "team_id", "year", "representative_id", "representative_type"),
        )


class TrainingDay(Model):
    """Sessions of training that representatives delivered to staff, by day: a row for each
    session with someone's attendance recorded (`involvements` of kind training_delivery)."""

    id = fields.IntField(primary_key=True)
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="training_days", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    activity_id = fields.IntField()
    involvements = fields.IntField()

    class Meta:
        table = "rollup_training_day"
        unique_together = (("organisation", "day", "activity_id"),)


class TrainerDay(Model):
    """Who delivered training to staff, by day, as `PersonDay` is for every kind of activity:
    the ragged ends of a period that do not make whole months."""

    id = fields.IntField(primary_key=True)
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="trainer_days", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    representative_id = fields.IntField()
    involvements = fields.IntField()

    class Meta:
        table = "rollup_trainer_day"
        unique_together = (("organisation", "day", "representative_id"),)


class TrainerYear(MonthCounts):
    """Who delivered training to staff, by financial year with a count for each month, as
    `PersonYear` is for every kind of activity."""

    id = fields.IntField(primary_key=True)
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="trainer_years", on_delete=fields.CASCADE
    )
    year = fields.IntField()
    representative_id = fields.IntField()

    class Meta:
        table = "rollup_trainer_year"
        unique_together = (("organisation", "year", "representative_id"),)


class PersonFirst(Model):
    """The first day a person took part: in the whole organisation (`team_id` 0), and in each
    team. "New this period" counts the people whose first day falls in it."""

    id = fields.IntField(primary_key=True)
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="person_firsts", on_delete=fields.CASCADE
    )
    team_id = fields.IntField()
    representative_id = fields.IntField()
    first_day = fields.DateField()

    class Meta:
        table = "rollup_person_first"
        unique_together = (("organisation", "team_id", "representative_id"),)
        indexes = (("organisation_id", "team_id", "first_day"),)


class AccessDay(Model):
    """Access arrangements and wellbeing-check outcomes per organisation, team (0 for none)
    and the London day their booking starts: the day reports place them on. Kept by
    `services/rollups.access_changed` wherever bookings, their arrangements or checks, or
    their activity's team change."""

    id = fields.IntField(primary_key=True)
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="access_days", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    team_id = fields.IntField()
    arranged = fields.IntField()
    on_time = fields.IntField()
    proceed = fields.IntField()
    postpone = fields.IntField()
    adjust_role = fields.IntField()
    not_this_time = fields.IntField()

    class Meta:
        table = "rollup_access_day"
        unique_together = (("organisation", "day", "team_id"),)
        # Covering: a period's rows are read from the index alone (an organisation's days lie
        # scattered over the table, a page read each).
        indexes = (
            (
                "organisation_id",
                "day",
                "team_id",
                "arranged",
                "on_time",
                "proceed",
                "postpone",
                "adjust_role",
                "not_this_time",
            ),
        )
