"""Indexes for the busiest look-ups: an activity's bookings by status, a person's bookings by
time, an organisation's messages by status, and its activities of a kind by time."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0026_interest_sender')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Activity',
            index=Index(fields=['organisation_id', 'kind', 'starts_at']),
        ),
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['activity_id', 'status']),
        ),
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['representative_id', 'starts_at']),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['organisation_id', 'status']),
        ),
    ]
