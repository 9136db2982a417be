"""The access roll-up gains a covering index, so that a report reads a period's arrangements
and wellbeing checks from the index alone rather than a table page for each organisation's day."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0034_training_rollups')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AccessDay',
            index=Index(fields=['organisation_id', 'day', 'team_id', 'arranged', 'on_time', 'proceed', 'postpone', 'adjust_role', 'not_this_time']),
        ),
    ]
