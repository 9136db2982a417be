from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0023_feedback_loop')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ActivityFeedback',
            name='entered_by',
            field=fields.ForeignKeyField('models.User', source_field='entered_by_id', null=True, db_constraint=True, to_field='id', related_name='activity_feedback_entered', on_delete=OnDelete.SET_NULL),
        ),
    ]
