"""The models and the migrations in migrations/ must describe the same schema."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from coprod.db import tortoise_config


async def test_models_and_migrations_agree():
    apps_config = tortoise_config()["apps"]
    detector = MigrationAutodetector(Tortoise.apps, apps_config)
    changes = await detector.changes()
    pending = [
        op.describe() if hasattr(op, "describe") else repr(op)
        for writer in changes
        for op in writer.operations
    ]
    assert changes == [], (
        f"models changed without a migration (run `tortoise makemigrations`): {pending}"
    )


async def test_every_model_table_exists_after_migrating():
    from tortoise import connections

    conn = connections.get("default")
    for model in Tortoise.apps["models"].values():
        await conn.execute_query(f'SELECT COUNT(*) FROM "{model._meta.db_table}"')
