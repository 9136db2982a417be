"""The index on an activity's bookings by status holds the person too, so that who attended a
set of activities (the training delivered, in reports) is read from the index alone. It
replaces the index without the person, which it serves as well."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0028_report_covering_index')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['activity_id', 'status', 'representative_id']),
        ),
        ops.RemoveIndex(model_name='Booking', fields=['activity_id', 'status']),
    ]
