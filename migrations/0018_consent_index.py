"""Indexes consent by person and purpose: every message to a representative, the call list and
the dashboard ask whether someone's consent is in force."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0017_next_catch_up")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Consent",
            index=Index(fields=["representative_id", "purpose"]),
        ),
    ]
