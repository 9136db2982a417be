"""Reconciliation items (differences between Stripe's transfers and our claims) and the daily runs."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from coprod.models.reconciliation import DifferenceKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_payment_states')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReconciliationItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='reconciliation_items', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='UNKNOWN_TRANSFER: unknown_transfer\nUNRECORDED_TRANSFER: unrecorded_transfer\nMISSING_TRANSFER: missing_transfer\nDIFFERENT_AMOUNT: different_amount\nPAID_TWICE: paid_twice\nWRONG_ACCOUNT: wrong_account', enum_type=DifferenceKind, max_length=24)),
                ('subject', fields.CharField(max_length=100)),
                ('transfer_id', fields.CharField(null=True, max_length=100)),
                ('claim', fields.ForeignKeyField('models.Claim', source_field='claim_id', null=True, db_constraint=True, to_field='id', related_name='reconciliation_items', on_delete=OnDelete.SET_NULL)),
                ('ours_pence', fields.IntField(null=True)),
                ('stripe_pence', fields.IntField(null=True)),
                ('description', fields.TextField(unique=False)),
                ('found_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by', fields.ForeignKeyField('models.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name='reconciliation_items', on_delete=OnDelete.SET_NULL)),
                ('note', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'reconciliation_item', 'app': 'models', 'unique_together': (('organisation', 'kind', 'subject'),), 'indexes': [Index(fields=['organisation_id', 'resolved_at', 'found_at'])], 'pk_attr': 'id', 'table_description': 'One difference, found once. The unique (organisation, kind, subject) is what stops two'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ReconciliationRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('day', fields.DateField(unique=True)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('opened', fields.IntField(default=0)),
                ('closed', fields.IntField(default=0)),
            ],
            options={'table': 'reconciliation_run', 'app': 'models', 'pk_attr': 'id', 'table_description': "The daily job's run for one London date. The unique date is what lets only one worker"},
            bases=['TimestampedModel'],
        ),
    ]
