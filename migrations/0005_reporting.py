from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_pay_and_claims')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Involvement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='involvements', on_delete=OnDelete.CASCADE)),
                ('booking_id', fields.IntField(null=True, unique=True)),
                ('activity_id', fields.IntField(null=True)),
                ('project_id', fields.IntField(null=True)),
                ('team_id', fields.IntField(null=True, db_index=True)),
                ('representative_id', fields.IntField(db_index=True)),
                ('representative_type', fields.CharField(max_length=10)),
                ('category', fields.CharField(null=True, max_length=20)),
                ('kind', fields.CharField(max_length=20)),
                ('mode', fields.CharField(max_length=10)),
                ('day', fields.DateField(db_index=True)),
                ('minutes', fields.IntField()),
                ('fee_pence', fields.IntField(default=0)),
                ('expenses_pence', fields.IntField(default=0)),
            ],
            options={'table': 'involvement', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'day'])], 'pk_attr': 'id', 'table_description': 'One attended booking, copied flat so that reports aggregate in SQL over one table.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PopulationFigure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='population', on_delete=OnDelete.CASCADE)),
                ('characteristic', fields.CharField(max_length=40)),
                ('group', fields.CharField(max_length=80)),
                ('percent_tenths', fields.IntField()),
            ],
            options={'table': 'population_figure', 'app': 'models', 'unique_together': (('organisation', 'characteristic', 'group'),), 'pk_attr': 'id', 'table_description': 'The share of the local population in a group, as the organisation enters it (e.g. from'},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='AccessArrangement',
            name='done_on_time',
            field=fields.BooleanField(default=False),
        ),
    ]
