"""Messages travel by email, text or letter: the outbox keeps each one's notification kind,
person, letter address and print, GOV.UK Notify's id and delivery status, and how often a worker
took it. Each representative's usual channel and mobile number as Notify writes it are filled
in by the rules the services use (coprod.domain.notifications and phone_numbers)."""

import json

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from coprod.domain.notifications import Addresses, usual_channel
from coprod.domain.phone_numbers import normalise_mobile


async def fill(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    rows = await client.execute_query_dict(
        'SELECT "id", "contact_channels", "email", "mobile", "postal_address" FROM "representative"'
    )
    for row in rows:
        chosen = row["contact_channels"]
        if isinstance(chosen, str):
            chosen = json.loads(chosen)
        channel = usual_channel(
            chosen or [],
            Addresses(
                email=bool(row["email"]),
                mobile=bool(row["mobile"]),
                postal=bool(row["postal_address"]),
            ),
        )
        marks = ("$1", "$2", "$3") if postgres else ("?", "?", "?")
        await client.execute_query(
            f'UPDATE "representative" SET "usual_channel" = {marks[0]}, '
            f'"mobile_normalised" = {marks[1]} WHERE "id" = {marks[2]}',
            [channel and channel.value, normalise_mobile(row["mobile"]), int(row["id"])],
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0018_consent_index")]

    initial = False

    operations = [
        ops.AddField(
            model_name="OutboxMessage",
            name="representative",
            field=fields.ForeignKeyField(
                "models.Representative",
                source_field="representative_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="messages",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="notification",
            field=fields.CharField(max_length=40, null=True),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="postal_address",
            field=fields.TextField(null=True),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="letter_variant",
            field=fields.CharField(max_length=12, null=True),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="claims",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="provider_id",
            field=fields.CharField(max_length=64, null=True, db_index=True),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="delivery_status",
            field=fields.CharField(max_length=30, null=True),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="delivery_status_at",
            field=fields.DatetimeField(null=True),
        ),
        ops.AddField(
            model_name="Representative",
            name="usual_channel",
            field=fields.CharField(max_length=10, null=True),
        ),
        ops.AddField(
            model_name="Representative",
            name="mobile_normalised",
            field=fields.CharField(max_length=20, null=True, db_index=True),
        ),
        ops.RunPython(fill, ops.RunPython.noop),
    ]
