"""Representatives with only a mobile number get an account (no email) and sign in with a
code sent by text: the codes, and a kind of sign-in attempt for throttling their requests.
People already recorded with a mobile number and no email are given their account here, as
services.representatives gives one to each person recorded from now on."""

import datetime as dt

from tortoise import migrations
from tortoise.migrations import operations as ops
from coprod.models.users import SignInKind
from tortoise.fields.base import OnDelete
from tortoise import fields

async def give_accounts(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"

    def marks(count: int) -> list[str]:
        return [f"${n}" for n in range(1, count + 1)] if postgres else ["?"] * count

    now = dt.datetime.now(dt.UTC)
    people = await client.execute_query_dict(
        'SELECT "id", "organisation_id", "full_name" FROM "representative" '
        'WHERE "user_id" IS NULL AND ("email" IS NULL OR "email" = \'\') '
        'AND "mobile_normalised" IS NOT NULL ORDER BY "id"'
    )
    for person in people:
        m = marks(3)
        [user] = await client.execute_query_dict(
            f'INSERT INTO "user" ("created_at", "email", "full_name", "is_active") '
            f'VALUES ({m[0]}, NULL, {m[1]}, {m[2]}) RETURNING "id"',
            [now, person["full_name"], True],
        )
        m = marks(4)
        await client.execute_query(
            f'INSERT INTO "membership" ("created_at", "user_id", "organisation_id", "role") '
            f'VALUES ({m[0]}, {m[1]}, {m[2]}, {m[3]})',
            [now, int(user["id"]), int(person["organisation_id"]), "representative"],
        )
        m = marks(2)
        await client.execute_query(
            f'UPDATE "representative" SET "user_id" = {m[0]} WHERE "id" = {m[1]}',
            [int(user["id"]), int(person["id"])],
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0020_received_texts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SignInCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('challenge_hash', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='sign_in_codes', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('tries', fields.IntField(default=0)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_in_code', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A six-digit code sent by text, and the page it is entered on. A request for a number with'},
            bases=['TimestampedModel'],
        ),
        ops.AlterField(
            model_name='SignInAttempt',
            name='kind',
            field=fields.CharEnumField(default=SignInKind.PASSWORD, description='PASSWORD: password\nLINK: link\nCODE: code', enum_type=SignInKind, max_length=10),
        ),
        ops.AlterField(
            model_name='User',
            name='email',
            field=fields.CharField(null=True, unique=True, max_length=254),
        ),
        ops.RunPython(give_accounts, ops.RunPython.noop),
    ]
