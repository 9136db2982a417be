"""The monthly people roll-up gains a row for the whole organisation (team 0) per person and
month, beside each team's, so that a report across teams counts distinct people over a third
of the rows, and an index that finds those rows without stepping over the teams'. Its rows are
built again from the daily roll-up, either way."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


def _from_days(dialect: str, *, by_team: bool, where: str = "") -> str:
    month = (
        "CAST(date_trunc('month', day) AS date)"
        if dialect == "postgres"
        else "date(day, 'start of month')"
    )
    team = "team_id, " if by_team else ""
    return f"""
        INSERT INTO rollup_person_month (organisation_id, month, team_id, representative_id,
            representative_type, involvements)
        SELECT organisation_id, {month}, {team or "0, "}representative_id, representative_type,
            SUM(involvements)
        FROM rollup_person_day {where}
        GROUP BY organisation_id, {month}, {team}representative_id, representative_type
        """


def fill_statements(dialect: str) -> list[str]:
    """Set-based SQL that builds the monthly people roll-up from the daily one (bench/report.py
    builds its seeded roll-ups with it too). In the daily one, team 0 is no team."""
    return [
        "DELETE FROM rollup_person_month",
        _from_days(dialect, by_team=False),
        _from_days(dialect, by_team=True, where="WHERE team_id <> 0"),
    ]


async def fill(apps, schema_editor) -> None:
    for sql in fill_statements(schema_editor.client.capabilities.dialect):
        await schema_editor.client.execute_script(sql)


async def back(apps, schema_editor) -> None:
    """A person's months in each team, and with no team, as before."""
    dialect = schema_editor.client.capabilities.dialect
    await schema_editor.client.execute_script("DELETE FROM rollup_person_month")
    await schema_editor.client.execute_script(_from_days(dialect, by_team=True))


class Migration(migrations.Migration):
    dependencies = [('models', '0029_booking_attendees_index')]

    initial = False

    operations = [
        ops.RunPython(fill, back),
        ops.AddIndex(
            model_name='PersonMonth',
            index=Index(
                fields=[
                    'organisation_id', 'team_id', 'month', 'representative_id',
                    'representative_type',
                ]
            ),
        ),
    ]
