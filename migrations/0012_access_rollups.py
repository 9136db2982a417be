from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


def london_day(column: str, dialect: str) -> str:
    """The London calendar day of a stored UTC time, in SQL. SQLite has no time zones, so
    British Summer Time (01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday
    of October) is written out."""
    if dialect == "postgres":
        return f"CAST({column} AT TIME ZONE 'Europe/London' AS date)"
    t = f"datetime({column})"
    year = f"strftime('%Y', {t})"
    return (
        f"date({t}, CASE WHEN {t} >= datetime({year} || '-03-25', 'weekday 0', '+1 hour')"
        f" AND {t} < datetime({year} || '-10-25', 'weekday 0', '+1 hour')"
        " THEN '+1 hour' ELSE '+0 hours' END)"
    )


def fill_statements(dialect: str) -> list[str]:
    """Set-based SQL that builds the access roll-up from the arrangements and checks, each
    placed on the London day its booking starts (bench/report.py uses it too)."""
    day = london_day("b.starts_at", dialect)
    outcomes = ("proceed", "postpone", "adjust_role", "not_this_time")
    counted = ", ".join(f"CASE WHEN w.outcome = '{o}' THEN 1 ELSE 0 END" for o in outcomes)
    return [
        f"""
        INSERT INTO rollup_access_day (organisation_id, day, team_id, arranged, on_time,
            {", ".join(outcomes)})
        SELECT organisation_id, day, team_id, SUM(arranged), SUM(on_time),
            {", ".join(f"SUM({o})" for o in outcomes)}
        FROM (
            SELECT a.organisation_id, {day} AS day, COALESCE(a.team_id, 0) AS team_id,
                1 AS arranged, CASE WHEN x.done_on_time THEN 1 ELSE 0 END AS on_time,
                {", ".join(f"0 AS {o}" for o in outcomes)}
            FROM access_arrangement x
            JOIN booking b ON b.id = x.booking_id
            JOIN activity a ON a.id = b.activity_id
            UNION ALL
            SELECT a.organisation_id, {day}, COALESCE(a.team_id, 0), 0, 0, {counted}
            FROM wellbeing_check w
            JOIN booking b ON b.id = w.booking_id
            JOIN activity a ON a.id = b.activity_id
        ) counted
        GROUP BY organisation_id, day, team_id
        """
    ]


async def fill(apps, schema_editor) -> None:
    """An upgraded database reports what it reported before."""
    for sql in fill_statements(schema_editor.client.capabilities.dialect):
        await schema_editor.client.execute_script(sql)


async def empty(apps, schema_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [("models", "0011_rollups")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AccessDay",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "organisation",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="organisation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="access_days",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("day", fields.DateField()),
                ("team_id", fields.IntField()),
                ("arranged", fields.IntField()),
                ("on_time", fields.IntField()),
                ("proceed", fields.IntField()),
                ("postpone", fields.IntField()),
                ("adjust_role", fields.IntField()),
                ("not_this_time", fields.IntField()),
            ],
            options={
                "table": "rollup_access_day",
                "app": "models",
                "unique_together": (("organisation", "day", "team_id"),),
                "pk_attr": "id",
                "table_description": "Access arrangements and wellbeing-check outcomes per organisation, team (0 for none)",
            },
            bases=["Model"],
        ),
        ops.RunPython(fill, empty),
    ]
