from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index



def fill_statements(dialect: str) -> list[str]:
    """Set-based SQL that builds every roll-up from the involvement rows (bench/report.py
    builds its seeded roll-ups with it too)."""
    month = (
        "CAST(date_trunc('month', day) AS date)"
        if dialect == "postgres"
        else "date(day, 'start of month')"
    )
    return [
        """
        INSERT INTO rollup_activity_day (organisation_id, day, activity_id, mode, category,
            team_id, project_id, involvements, minutes, fee_pence, expenses_pence)
        SELECT organisation_id, day, COALESCE(activity_id, 0), mode, COALESCE(category, ''),
            COALESCE(team_id, 0), COALESCE(project_id, 0), COUNT(*), SUM(minutes),
            SUM(fee_pence), SUM(expenses_pence)
        FROM involvement
        GROUP BY organisation_id, day, COALESCE(activity_id, 0), mode, COALESCE(category, ''),
            COALESCE(team_id, 0), COALESCE(project_id, 0)
        """,
        """
        INSERT INTO rollup_person_day (organisation_id, day, team_id, representative_id,
            representative_type, involvements)
        SELECT organisation_id, day, COALESCE(team_id, 0), representative_id,
            representative_type, COUNT(*)
        FROM involvement
        GROUP BY organisation_id, day, COALESCE(team_id, 0), representative_id,
            representative_type
        """,
        f"""
        INSERT INTO rollup_person_month (organisation_id, month, team_id, representative_id,
            representative_type, involvements)
        SELECT organisation_id, {month}, team_id, representative_id, representative_type,
            SUM(involvements)
        FROM rollup_person_day
        GROUP BY organisation_id, {month}, team_id, representative_id, representative_type
        """,
        # Team 0 is the whole organisation here; a person's first day in each team follows.
        """
        INSERT INTO rollup_person_first (organisation_id, team_id, representative_id, first_day)
        SELECT organisation_id, 0, representative_id, MIN(day)
        FROM rollup_person_day
        GROUP BY organisation_id, representative_id
        UNION ALL
        SELECT organisation_id, team_id, representative_id, MIN(day)
        FROM rollup_person_day
        WHERE team_id <> 0
        GROUP BY organisation_id, team_id, representative_id
        """,
    ]


async def fill(apps, schema_editor) -> None:
    """An upgraded database reports what it reported before."""
    for sql in fill_statements(schema_editor.client.capabilities.dialect):
        await schema_editor.client.execute_script(sql)


async def empty(apps, schema_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('models', '0010_network_invitations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ActivityDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='activity_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('activity_id', fields.IntField()),
                ('mode', fields.CharField(max_length=10)),
                ('category', fields.CharField(max_length=20)),
                ('team_id', fields.IntField()),
                ('project_id', fields.IntField()),
                ('involvements', fields.IntField()),
                ('minutes', fields.IntField()),
                ('fee_pence', fields.IntField()),
                ('expenses_pence', fields.IntField()),
            ],
            options={'table': 'rollup_activity_day', 'app': 'models', 'unique_together': (('organisation', 'day', 'activity_id', 'mode', 'category', 'team_id', 'project_id'),), 'pk_attr': 'id', 'table_description': 'Involvement summed per organisation, day and activity (with the mode, category, team'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PersonDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='person_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('team_id', fields.IntField()),
                ('representative_id', fields.IntField()),
                ('representative_type', fields.CharField(max_length=10)),
                ('involvements', fields.IntField()),
            ],
            options={'table': 'rollup_person_day', 'app': 'models', 'unique_together': (('organisation', 'day', 'team_id', 'representative_id', 'representative_type'),), 'indexes': [Index(fields=['representative_id', 'organisation_id', 'team_id'])], 'pk_attr': 'id', 'table_description': 'Who took part on each day: distinct people over a period need the person in the key.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PersonFirst',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='person_firsts', on_delete=OnDelete.CASCADE)),
                ('team_id', fields.IntField()),
                ('representative_id', fields.IntField()),
                ('first_day', fields.DateField()),
            ],
            options={'table': 'rollup_person_first', 'app': 'models', 'unique_together': (('organisation', 'team_id', 'representative_id'),), 'indexes': [Index(fields=['organisation_id', 'team_id', 'first_day'])], 'pk_attr': 'id', 'table_description': 'The first day a person took part: in the whole organisation (`team_id` 0), and in each'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PersonMonth',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='person_months', on_delete=OnDelete.CASCADE)),
                ('month', fields.DateField()),
                ('team_id', fields.IntField()),
                ('representative_id', fields.IntField()),
                ('representative_type', fields.CharField(max_length=10)),
                ('involvements', fields.IntField()),
            ],
            options={'table': 'rollup_person_month', 'app': 'models', 'unique_together': (('organisation', 'month', 'team_id', 'representative_id', 'representative_type'),), 'pk_attr': 'id', 'table_description': '`PersonDay` by calendar month (`month` is its first day). A period reads whole months'},
            bases=['Model'],
        ),
        ops.RunPython(fill, empty),
    ]
