"""Database configuration and start-up."""

from __future__ import annotations

import socket
import sqlite3
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


# What the drivers raise when the database cannot be reached, is restarting or has gone away:
# a short wait and a retry will do, so people are told that (503) rather than shown a fault.
_UNAVAILABLE_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,  # includes Tortoise's DBConnectionError and refused connections
    socket.gaierror,
)
_UNAVAILABLE_SQLITE = ("unable to open database file", "disk i/o error", "database is locked")
# PostgreSQL while a database is closed to connections (ALLOW_CONNECTIONS false, or being
# dropped or restored), which asyncpg reports only by its message.
_UNAVAILABLE_POSTGRES = "not currently accepting connections"


def _unavailable_types() -> tuple[type[BaseException], ...]:
    try:
        import asyncpg
    except ImportError:  # SQLite-only installations
        return _UNAVAILABLE_TYPES
    return (
        *_UNAVAILABLE_TYPES,
        asyncpg.exceptions.PostgresConnectionError,
        asyncpg.exceptions.CannotConnectNowError,
        asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown
        asyncpg.exceptions.ConnectionDoesNotExistError,
        asyncpg.exceptions.TooManyConnectionsError,
        # A pooled connection the server ended mid-use: asyncpg finds its protocol state broken.
        asyncpg.exceptions.InternalClientError,
    )


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc`, or an error it was raised from, says the database is out of reach."""
    types = _unavailable_types()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, types):
            return True
        if isinstance(current, sqlite3.OperationalError) and any(
            text in str(current).lower() for text in _UNAVAILABLE_SQLITE
        ):
            return True
        if _UNAVAILABLE_POSTGRES in str(current):
            return True
        if type(current).__name__ == "InterfaceError" and "closed" in str(current).lower():
            return True  # asyncpg: the connection or pool closed under us
        current = current.__cause__ or current.__context__
    return False
