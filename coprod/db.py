"""Database configuration and start-up."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate

from coprod.config import get_settings

MODEL_MODULES = ["coprod.models"]


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or get_settings().database_url
    return {
        "connections": {"default": url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # `tortoise` CLI reads TORTOISE_ORM (pyproject [tool.tortoise]); built lazily so that the
    # environment at call time decides the database.
    if name == "TORTOISE_ORM":
        return tortoise_config()
    raise AttributeError(name)


async def init_db(database_url: str | None = None) -> None:
    # The ASGI server runs the lifespan in a task of its own, and requests in others: the
    # global fallback lets every task see the one set of connections.
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str | None = None) -> None:
    await tortoise_migrate(config=tortoise_config(database_url))
