"""The plumbing under every request: pool sizes, one connection per request, templates."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup
from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.transactions import in_transaction

from coprod import db
from coprod.config import ConfigError, load_settings
from coprod.models import Organisation, Role
from coprod.templating import MemoisedMacro, environment
from tests.conftest import BACKEND, sign_in

postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has no pool")


def test_pool_sizes_have_defaults_and_environment_overrides():
    defaults = load_settings(env={})
    assert (defaults.db_pool_min_size, defaults.db_pool_max_size) == (2, 10)
    chosen = load_settings(env={"DB_POOL_MIN_SIZE": "0", "DB_POOL_MAX_SIZE": "30"})
    assert (chosen.db_pool_min_size, chosen.db_pool_max_size) == (0, 30)
    with pytest.raises(ConfigError, match="DB_POOL_MAX_SIZE must be at least 1"):
        load_settings(env={"DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "4"})
    with pytest.raises(ConfigError, match="DB_POOL_MAX_SIZE must be a whole number"):
        load_settings(env={"DB_POOL_MAX_SIZE": "lots"})


def test_pool_sizes_reach_tortoises_asyncpg_pool(monkeypatch):
    monkeypatch.setattr(db, "get_settings", lambda: load_settings(env={"DB_POOL_MAX_SIZE": "7"}))
    config = db.tortoise_config("postgres://app:secret@db.example:5432/coprod?ssl=require")
    credentials = expand_db_url(config["connections"]["default"])["credentials"]
    assert (int(credentials["minsize"]), int(credentials["maxsize"])) == (2, 7)
    assert credentials["ssl"] and credentials["password"] == "secret"
    # A URL that sets its own sizes keeps them; SQLite has no pool to size.
    own = db.with_pool_sizes("postgres://app@db.example/coprod?maxsize=3")
    assert int(expand_db_url(own)["credentials"]["maxsize"]) == 3
    assert db.with_pool_sizes("sqlite://var/x.sqlite3") == "sqlite://var/x.sqlite3"


def test_templates_are_not_reread_outside_development():
    assert environment().auto_reload is False  # the tests run as "test"


def test_the_remembered_header_is_the_design_systems_own_html():
    env = environment()
    direct = env.get_template("nhsuk/components/header/macro.jinja").module.header  # type: ignore[attr-defined]
    remembered = MemoisedMacro(env, "nhsuk/components/header/macro.jinja", "header", size=2)
    ann: dict[str, Any] = {"service": {"text": "Coprod", "href": "/"}}
    ann["account"] = {"items": [{"text": "Ann <script>", "icon": True}]}
    bob = {"service": {"text": "Coprod", "href": "/"}, "account": {"items": [{"text": "Bob"}]}}
    first = remembered(ann)
    assert isinstance(first, Markup) and first == direct(ann)
    assert "Ann &lt;script&gt;" in first and "<script>" not in first
    assert remembered(bob) == direct(bob) != first
    assert remembered(ann) is first  # remembered, not rendered again
    remembered({"service": {"text": "Other"}})
    assert len(remembered.seen) == 2  # bounded: the least recently used went


@postgres_only
async def test_a_page_takes_one_pooled_connection_for_all_its_statements(
    client, world, monkeypatch
):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    await sign_in(client, "lead@trust.example")
    pool: Any = connections.get("default")._pool  # type: ignore[attr-defined]
    taken: list[object] = []
    acquire = type(pool).acquire

    def counting_acquire(self: Any, *args: Any, **kwargs: Any) -> Any:
        taken.append(self)
        return acquire(self, *args, **kwargs)

    monkeypatch.setattr(type(pool), "acquire", counting_acquire)
    page = await client.get("/representatives")  # the sign-in check and the list's reads
    assert page.status_code == 200
    assert len(taken) == 1
    assert pool._queue.qsize() == pool.get_max_size()  # and gave it back


@postgres_only
async def test_transactions_on_the_held_connection_commit_and_roll_back(world):
    other_connection: Any = connections.get("default")
    async with db.one_connection():
        held = connections.get("default")
        assert held is not other_connection
        await Organisation.create(name="Autocommitted", slug="autocommitted")
        async with in_transaction():
            await Organisation.create(name="Committed", slug="committed")
            async with in_transaction():
                await Organisation.create(name="Inner savepoint", slug="inner-savepoint")
        with pytest.raises(RuntimeError):
            async with in_transaction():
                await Organisation.create(name="Rolled back", slug="rolled-back")
                raise RuntimeError("the service failed")
        with pytest.raises(RuntimeError):
            async with in_transaction():
                await Organisation.create(
                    name="Outer, rolled back too", slug="outer-rolled-back-too"
                )
                try:
                    async with in_transaction():
                        await Organisation.create(
                            name="Inner rolled back", slug="inner-rolled-back"
                        )
                        raise ValueError
                except ValueError:
                    pass
                raise RuntimeError("and then the outer failed")
        # Seen by another connection before the block ends: nothing is left uncommitted.
        seen = await other_connection.execute_query_dict('SELECT name FROM "organisation"')
    assert {row["name"] for row in seen} == {"Autocommitted", "Committed", "Inner savepoint"}
    assert connections.get("default") is other_connection
