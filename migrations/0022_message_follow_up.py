"""Messages that did not arrive are followed up by a lead (who phoned the person, and when), and
letters for people who read Braille or listen to audio become transcription tasks on the lead's
checklist."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0021_sign_in_codes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TranscriptionTask',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='transcription_tasks', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='transcription_tasks', on_delete=OnDelete.CASCADE)),
                ('message', fields.ForeignKeyField('models.OutboxMessage', source_field='message_id', db_constraint=True, to_field='id', related_name='transcription_tasks', on_delete=OnDelete.CASCADE)),
                ('format', fields.CharField(max_length=20)),
                ('label', fields.CharField(max_length=200)),
                ('due_on', fields.DateField()),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('done_by', fields.ForeignKeyField('models.User', source_field='done_by_id', null=True, db_constraint=True, to_field='id', related_name='transcriptions_done', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'transcription_task', 'app': 'models', 'unique_together': (('message', 'format'),), 'indexes': [Index(fields=['organisation_id', 'done_at', 'due_on'])], 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='followed_up_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='followed_up_by',
            field=fields.ForeignKeyField('models.User', source_field='followed_up_by_id', null=True, db_constraint=True, to_field='id', related_name='messages_followed_up', on_delete=OnDelete.SET_NULL),
        ),
    ]
