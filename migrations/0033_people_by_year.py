"""The monthly people roll-up becomes a yearly one, with a count for each month of the
financial year: a report for a year reads one row a person rather than twelve, and a quarter's
people are those of the year with something in its months. Its rows are built from the daily
roll-up; going back, the monthly roll-up is built from it again as migration 0030 built it."""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# The months of the financial year, in order: the new table's columns.
MONTHS = (
    "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "january", "february", "march",
)


def by_year(dialect: str, counted: str) -> tuple[str, str]:
    """SQL for a `day`'s financial year, and for the sums of `counted` in each of its months
    (the yearly roll-ups' columns, in order). Migration 0034 builds its own with it too."""
    if dialect == "postgres":
        year = "CAST(EXTRACT(YEAR FROM day - INTERVAL '3 months') AS integer)"
        month = "CAST(EXTRACT(MONTH FROM day) AS integer)"
    else:
        year = "CAST(strftime('%Y', day, '-3 months') AS integer)"
        month = "CAST(strftime('%m', day) AS integer)"
    counts = ", ".join(
        f"SUM(CASE WHEN {month} = {(i + 3) % 12 + 1} THEN {counted} ELSE 0 END)"
        for i in range(len(MONTHS))
    )
    return year, counts


def _from_days(dialect: str, *, by_team: bool, where: str = "") -> str:
    year, counts = by_year(dialect, "involvements")
    team = "team_id, " if by_team else ""
    return f"""
        INSERT INTO rollup_person_year (organisation_id, year, team_id, representative_id,
            representative_type, {", ".join(MONTHS)})
        SELECT organisation_id, {year}, {team or "0, "}representative_id, representative_type,
            {counts}
        FROM rollup_person_day {where}
        GROUP BY organisation_id, {year}, {team}representative_id, representative_type
        """


def fill_statements(dialect: str) -> list[str]:
    """Set-based SQL that builds the yearly people roll-up from the daily one (bench/report.py
    builds its seeded roll-ups with it too). In the daily one, team 0 is no team."""
    return [
        "DELETE FROM rollup_person_year",
        _from_days(dialect, by_team=False),
        _from_days(dialect, by_team=True, where="WHERE team_id <> 0"),
    ]


async def fill(apps, schema_editor) -> None:
    for sql in fill_statements(schema_editor.client.capabilities.dialect):
        await schema_editor.client.execute_script(sql)


async def back(apps, schema_editor) -> None:
    months = importlib.import_module("migrations.0030_whole_organisation_months")
    for sql in months.fill_statements(schema_editor.client.capabilities.dialect):
        await schema_editor.client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0032_report_index_by_mode')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersonYear',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='person_years', on_delete=OnDelete.CASCADE)),
                ('year', fields.IntField()),
                ('team_id', fields.IntField()),
                ('representative_id', fields.IntField()),
                ('representative_type', fields.CharField(max_length=10)),
                ('april', fields.IntField()),
                ('may', fields.IntField()),
                ('june', fields.IntField()),
                ('july', fields.IntField()),
                ('august', fields.IntField()),
                ('september', fields.IntField()),
                ('october', fields.IntField()),
                ('november', fields.IntField()),
                ('december', fields.IntField()),
                ('january', fields.IntField()),
                ('february', fields.IntField()),
                ('march', fields.IntField()),
            ],
            options={'table': 'rollup_person_year', 'app': 'models', 'unique_together': (('organisation', 'year', 'team_id', 'representative_id', 'representative_type'),), 'indexes': [Index(fields=['organisation_id', 'team_id', 'year', 'representative_id', 'representative_type'])], 'pk_attr': 'id', 'table_description': '`PersonDay` by financial year (April to March, named by its first year), with what a'},
            bases=['Model'],
        ),
        ops.RunPython(fill, back),
        ops.DeleteModel(name='PersonMonth'),
    ]
