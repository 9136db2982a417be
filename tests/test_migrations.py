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


async def _unique_column_sets(table: str) -> set[frozenset[str]]:
    """The column sets the database itself holds unique, by constraint or unique index."""
    from tortoise import connections

    from tests.conftest import BACKEND

    conn = connections.get("default")
    if BACKEND == "postgres":
        _, rows = await conn.execute_query(
            "SELECT array_agg(a.attname::text) FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = $1::regclass AND i.indisunique GROUP BY i.indexrelid",
            [f'"{table}"'],
        )
        return {frozenset(row[0]) for row in rows}
    _, indexes = await conn.execute_query(f'PRAGMA index_list("{table}")')
    found = set()
    for index in indexes:
        if index["unique"]:
            _, columns = await conn.execute_query(f'PRAGMA index_info("{index["name"]}")')
            found.add(frozenset(column["name"] for column in columns))
    return found


async def test_the_database_enforces_every_uniqueness_the_models_declare():
    # What must never happen twice is refused by the database, not only by our checks; a
    # migration that rebuilds a table (SQLite's ALTER) must not drop a constraint on the way.
    missing = []
    for model in Tortoise.apps["models"].values():
        meta = model._meta
        declared = [
            frozenset(meta.fields_map[name].source_field or name for name in names)
            for names in meta.unique_together
        ] + [
            frozenset([field.source_field or name])
            for name, field in meta.fields_map.items()
            if field.unique and not field.pk and name in meta.db_fields | meta.fk_fields
        ]
        held = await _unique_column_sets(meta.db_table)
        missing += [
            f"{meta.db_table}{sorted(columns)}" for columns in declared if columns not in held
        ]
    assert missing == []
