from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_reporting_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FeeDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='fee_days', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='fee_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('claim', fields.ForeignKeyField('models.Claim', source_field='claim_id', db_constraint=True, to_field='id', related_name='fee_days', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'fee_day', 'app': 'models', 'unique_together': (('organisation', 'representative', 'day'),), 'pk_attr': 'id', 'table_description': "A day a claim's fee line has taken. The unique key, not the code, is what stops one day"},
            bases=['TimestampedModel'],
        ),
        # Days already on claims take their place now. Should old data hold a day twice, the
        # earlier claim keeps it.
        ops.RunSQL(
            """
            INSERT INTO fee_day (created_at, organisation_id, representative_id, day, claim_id)
            SELECT CURRENT_TIMESTAMP, c.organisation_id, c.representative_id, l.day, MIN(c.id)
            FROM claim_line l JOIN claim c ON c.id = l.claim_id
            WHERE l.kind = 'fee' AND l.day IS NOT NULL AND c.status <> 'rejected'
            GROUP BY c.organisation_id, c.representative_id, l.day
            """,
            reverse_sql="SELECT 1",
        ),
        # Corrections now count towards earnings in the period of the day they put right; older
        # ones had no day, so they count at the end of their claim's dates.
        ops.RunSQL(
            """
            UPDATE claim_line SET day = (
                SELECT c.period_end FROM claim c WHERE c.id = claim_line.claim_id
            )
            WHERE kind = 'adjustment' AND day IS NULL
            """,
            reverse_sql="SELECT 1",
        ),
    ]
