"""The activity-day roll-up's covering index is ordered by mode before day, so that an
organisation's rows for every way of taking part (mode ""), and for each way, are each one
stretch of it: a report reads only the rows of the modes it counts, already grouped by
organisation, rather than stepping over every mode's rows day by day."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0031_every_mode_rows')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='ActivityDay',
            fields=[
                'organisation_id', 'day', 'team_id', 'category', 'mode', 'project_id',
                'activity_id', 'involvements', 'minutes', 'fee_pence', 'expenses_pence',
            ],
        ),
        ops.AddIndex(
            model_name='ActivityDay',
            index=Index(
                fields=[
                    'organisation_id', 'mode', 'day', 'team_id', 'category', 'project_id',
                    'activity_id', 'involvements', 'minutes', 'fee_pence', 'expenses_pence',
                ]
            ),
        ),
    ]
