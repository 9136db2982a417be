"""An index holding every column the reports read from the activity-day roll-up, so that a
report reads the index alone rather than one table page per row."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0027_busy_lookups')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='ActivityDay',
            index=Index(
                fields=[
                    'organisation_id', 'day', 'team_id', 'category', 'mode', 'project_id',
                    'activity_id', 'involvements', 'minutes', 'fee_pence', 'expenses_pence',
                ]
            ),
        ),
    ]
