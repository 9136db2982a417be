"""Restores the unique (user, network, role) on network_member in SQLite databases.

0010_network_invitations altered the role column; on SQLite that rebuilds the table, and the
rebuild left out the unique constraint from 0001, so the same role could be given twice.
PostgreSQL altered the column in place and kept its constraint, so it needs nothing.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


async def restore_unique(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "sqlite":
        return
    # Copies made while the constraint was missing would stop the index being built.
    await client.execute_script(
        'DELETE FROM "network_member" WHERE "id" NOT IN '
        '(SELECT MIN("id") FROM "network_member" GROUP BY "user_id", "network_id", "role")'
    )
    await client.execute_script(
        'CREATE UNIQUE INDEX IF NOT EXISTS "uid_network_mem_user_id_network_role" '
        'ON "network_member" ("user_id", "network_id", "role")'
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0012_access_rollups')]

    initial = False

    operations = [ops.RunPython(restore_unique, ops.RunPython.noop)]
