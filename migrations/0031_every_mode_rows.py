"""The activity-day roll-up gains a row per activity and day for every way of taking part
(mode ""), beside one per way, so that figures not split by mode (by category, projects,
members) read about a third of the rows."""

from tortoise import migrations
from tortoise.migrations import operations as ops


def fill_statements(dialect: str) -> list[str]:
    """Set-based SQL that adds the rows for every mode to a roll-up built without them
    (bench/report.py builds its seeded roll-ups with it too)."""
    return [
        """
        INSERT INTO rollup_activity_day (organisation_id, day, activity_id, mode, category,
            team_id, project_id, involvements, minutes, fee_pence, expenses_pence)
        SELECT organisation_id, day, activity_id, '', category, team_id, project_id,
            SUM(involvements), SUM(minutes), SUM(fee_pence), SUM(expenses_pence)
        FROM rollup_activity_day
        WHERE mode <> ''
        GROUP BY organisation_id, day, activity_id, category, team_id, project_id
        """
    ]


async def fill(apps, schema_editor) -> None:
    for sql in fill_statements(schema_editor.client.capabilities.dialect):
        await schema_editor.client.execute_script(sql)


async def back(apps, schema_editor) -> None:
    await schema_editor.client.execute_script("DELETE FROM rollup_activity_day WHERE mode = ''")


class Migration(migrations.Migration):
    dependencies = [('models', '0030_whole_organisation_months')]

    initial = False

    operations = [
        ops.RunPython(fill, back),
    ]
