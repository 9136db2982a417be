"""Training delivered to staff gains roll-ups of its own, kept from the involvement rows of
kind training_delivery: sessions by day, and who delivered them by day and by financial year
(with a count for each month), so that a network report counts them over a few thousand rows
rather than every attended booking. They are built from the involvement rows."""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

DELIVERED = "FROM involvement WHERE kind = 'training_delivery'"
YEARLY = importlib.import_module("migrations.0033_people_by_year")


def fill_statements(dialect: str) -> list[str]:
    """Set-based SQL that builds the training roll-ups from the involvement rows
    (bench/report.py builds its seeded roll-ups with it too)."""
    year, counts = YEARLY.by_year(dialect, "1")
    return [
        "DELETE FROM rollup_training_day",
        "DELETE FROM rollup_trainer_day",
        "DELETE FROM rollup_trainer_year",
        f"""
        INSERT INTO rollup_training_day (organisation_id, day, activity_id, involvements)
        SELECT organisation_id, day, COALESCE(activity_id, 0), COUNT(*) {DELIVERED}
        GROUP BY organisation_id, day, COALESCE(activity_id, 0)
        """,
        f"""
        INSERT INTO rollup_trainer_day (organisation_id, day, representative_id, involvements)
        SELECT organisation_id, day, representative_id, COUNT(*) {DELIVERED}
        GROUP BY organisation_id, day, representative_id
        """,
        f"""
        INSERT INTO rollup_trainer_year (organisation_id, year, representative_id,
            {", ".join(YEARLY.MONTHS)})
        SELECT organisation_id, {year}, representative_id, {counts} {DELIVERED}
        GROUP BY organisation_id, {year}, representative_id
        """,
    ]


async def fill(apps, schema_editor) -> None:
    for sql in fill_statements(schema_editor.client.capabilities.dialect):
        await schema_editor.client.execute_script(sql)


async def empty(apps, schema_editor) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('models', '0033_people_by_year')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TrainerDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='trainer_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('representative_id', fields.IntField()),
                ('involvements', fields.IntField()),
            ],
            options={'table': 'rollup_trainer_day', 'app': 'models', 'unique_together': (('organisation', 'day', 'representative_id'),), 'pk_attr': 'id', 'table_description': 'Who delivered training to staff, by day, as `PersonDay` is for every kind of activity:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TrainerYear',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='trainer_years', on_delete=OnDelete.CASCADE)),
                ('year', fields.IntField()),
                ('representative_id', fields.IntField()),
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
            options={'table': 'rollup_trainer_year', 'app': 'models', 'unique_together': (('organisation', 'year', 'representative_id'),), 'pk_attr': 'id', 'table_description': 'Who delivered training to staff, by financial year with a count for each month, as'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TrainingDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='training_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('activity_id', fields.IntField()),
                ('involvements', fields.IntField()),
            ],
            options={'table': 'rollup_training_day', 'app': 'models', 'unique_together': (('organisation', 'day', 'activity_id'),), 'pk_attr': 'id', 'table_description': 'Sessions of training that representatives delivered to staff, by day: a row for each'},
            bases=['Model'],
        ),
        ops.RunPython(fill, empty),
    ]
