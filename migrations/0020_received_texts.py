"""Texts people send us through GOV.UK Notify, each kept once per organisation it concerns, and
the times a text invitation listed, in the order it numbered them."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from coprod.models.received import TextOutcome
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0019_channels')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReceivedText',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('notify_id', fields.CharField(max_length=64)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_constraint=True, to_field='id', related_name='received_texts', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', null=True, db_constraint=True, to_field='id', related_name='received_texts', on_delete=OnDelete.SET_NULL)),
                ('invitation', fields.ForeignKeyField('models.Invitation', source_field='invitation_id', null=True, db_constraint=True, to_field='id', related_name='received_texts', on_delete=OnDelete.SET_NULL)),
                ('from_number', fields.CharField(max_length=40)),
                ('message', fields.TextField(unique=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharEnumField(description='ANSWERED: answered\nUNCLEAR: unclear\nUNKNOWN_NUMBER: unknown_number\nSHARED_NUMBER: shared_number\nNOTHING_OPEN: nothing_open', enum_type=TextOutcome, max_length=16)),
                ('problem', fields.CharField(null=True, max_length=200)),
                ('dealt_with_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('dealt_with_by', fields.ForeignKeyField('models.User', source_field='dealt_with_by_id', null=True, db_constraint=True, to_field='id', related_name='texts_dealt_with', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'received_text', 'app': 'models', 'unique_together': (('notify_id', 'organisation'),), 'indexes': [Index(fields=['organisation_id', 'dealt_with_at', 'outcome'])], 'pk_attr': 'id', 'table_description': "One text, once for each organisation it concerns: a number two organisations' people"},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='Invitation',
            name='texted_option_ids',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
