"""Interest: an HMAC of the address a public form came from, for the flood limit."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0025_recruitment')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Interest',
            name='sender_hash',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddIndex(
            model_name='Interest',
            index=Index(fields=['sender_hash', 'created_at']),
        ),
    ]
