"""The plumbing under every request: pool sizes, one connection per request, templates."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from jinja2 import ChainableUndefined, Environment, PackageLoader
from jinja2.runtime import Macro
from markupsafe import Markup
from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.transactions import in_transaction

from coprod import db
from coprod.config import ConfigError, load_settings
from coprod.models import Organisation, Role
from coprod.templating import RenderedComponents, environment
from tests.conftest import BACKEND, PG_NAME, sign_in
from tests.statements import counting

postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has no pool")


def test_pool_sizes_have_defaults_and_environment_overrides():
    defaults = load_settings(env={})
    assert (defaults.db_pool_min_size, defaults.db_pool_max_size) == (2, 10)
    chosen = load_settings(env={"DB_POOL_MIN_SIZE": "0", "DB_POOL_MAX_SIZE": "30"})
    assert (chosen.db_pool_min_size, chosen.db_pool_max_size) == (0, 30)
    with pytest.raises(ConfigError, match="DB_POOL_MAX_SIZE must be at least 1"):
        load_settings(env={"DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "4"})
    assert defaults.db_report_lanes == 2
    assert load_settings(env={"DB_REPORT_LANES": "4"}).db_report_lanes == 4
    with pytest.raises(ConfigError, match="DB_REPORT_LANES must be at least 1"):
        load_settings(env={"DB_REPORT_LANES": "0"})
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


def _design_system() -> Environment:
    """The NHS.UK macros as the package ships them, remembering nothing."""
    return Environment(
        loader=PackageLoader("nhsuk_frontend_jinja"),
        undefined=ChainableUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


RADIOS = '{% from "nhsuk/components/radios/macro.jinja" import radios %}'


def test_remembered_components_are_the_design_systems_own_html():
    env, plain = environment(), _design_system()
    # Installed where every template's import finds them, not only available.
    module = env.get_template("nhsuk/components/radios/macro.jinja").module
    assert not isinstance(module.radios, Macro)  # type: ignore[attr-defined]
    people = [{"value": i, "text": f"Ann <{i}>", "hint": {"text": "No contract"}} for i in (1, 2)]
    call = RADIOS + '{{ radios({"name": "who", "idPrefix": "who", "items": items}) }}'
    first = env.from_string(call).render(items=people)
    assert first == plain.from_string(call).render(items=people)
    assert "Ann &lt;1&gt;" in first and "<1>" not in first
    # Text is escaped and Markup is not: the same words must not share remembered HTML.
    as_html = [{**people[0], "text": Markup("<b>Ann</b>")}]
    assert "<b>Ann</b>" in env.from_string(call).render(items=as_html)
    as_text = [{**people[0], "text": "<b>Ann</b>"}]
    assert "&lt;b&gt;Ann&lt;/b&gt;" in env.from_string(call).render(items=as_text)
    # A call block's body is part of the HTML: it is keyed by what it draws.
    inset = (
        '{% from "nhsuk/components/inset-text/macro.jinja" import insetText %}'
        "{% call insetText({}) %}<p>{{ words }}</p>{% endcall %}"
    )
    for words in ("one", "two", "one", "<three>"):
        drawn = env.from_string(inset).render(words=words)
        assert drawn == plain.from_string(inset).render(words=words)
    assert "<p>&lt;three&gt;</p>" in drawn


def _counted(store: RenderedComponents, component: str, name: str) -> tuple[Any, list[object]]:
    """The design system's macro `name`, remembered by `store`, and a list of its drawings."""
    template: Any = _design_system().get_template(f"nhsuk/components/{component}/macro.jinja")
    macro = getattr(template.module, name)
    drawn: list[object] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        drawn.append(args)
        return macro(*args, **kwargs)

    counting.name = name  # type: ignore[attr-defined]
    return store.remember(counting), drawn  # type: ignore[arg-type]


def test_a_component_is_drawn_once_for_the_same_parameters_and_the_store_is_bounded():
    store = RenderedComponents(size=2)
    remembered, drawn = _counted(store, "label", "label")
    ann = remembered({"text": "Ann"})
    assert remembered({"text": "Ann"}) is ann and len(drawn) == 1
    assert remembered({"text": "Ann", "for": dt.date(2026, 1, 1)}) != ann  # a date: not keyed
    remembered({"text": "Bob"})
    remembered({"text": "Cy"})
    assert len(store.seen) == 2  # bounded: Ann, the least recently used, went
    remembered({"text": "Ann"})
    assert len(drawn) == 5


def test_a_call_blocks_body_is_drawn_each_time_and_the_component_once_for_it():
    remembered, drawn = _counted(RenderedComponents(), "warning-callout", "warningCallout")
    bodies: list[str] = []

    def body(html: str) -> Any:
        def caller() -> Markup:
            bodies.append(html)
            return Markup(html)

        return caller

    stripe = remembered({"heading": "Set-up needed"}, caller=body("<p>Stripe</p>"))
    notify = remembered({"heading": "Set-up needed"}, caller=body("<p>Notify</p>"))
    again = remembered({"heading": "Set-up needed"}, caller=body("<p>Stripe</p>"))
    assert "<p>Stripe</p>" in stripe and "<p>Notify</p>" in notify and again == stripe
    assert len(bodies) == 3 and len(drawn) == 2  # every body drawn; the callout once for each


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
async def test_requests_arriving_together_at_a_fresh_start_open_one_pool(world, monkeypatch):
    """The pool opens at the first statement; fifty requests at once must not each open one
    (min_size connections apiece: "sorry, too many clients already" from the server)."""
    client: Any = connections.get("default")
    await client.close()  # as a fresh process, whose pool no statement has opened yet
    opened: list[object] = []
    create_connection = type(client).create_connection

    async def counting_create_connection(self: Any, *args: Any, **kwargs: Any) -> None:
        opened.append(self)
        await asyncio.sleep(0.01)  # as a real server takes its time to answer
        await create_connection(self, *args, **kwargs)

    monkeypatch.setattr(type(client), "create_connection", counting_create_connection)

    async def request() -> int:
        async with db.one_connection():
            return len(await Organisation.all())

    assert await asyncio.gather(*(request() for _ in range(50))) == [0] * 50
    assert len(opened) == 1
    assert client._pool.get_size() <= client._pool.get_max_size()


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


async def test_several_counts_are_one_statement_with_each_ones_parameters(world):
    first = await world.org("First Trust")
    await world.org("Second Trust")
    await world.org("Third Trust")
    # Each count has parameters of its own, numbered across the one statement on PostgreSQL.
    queries = {
        "named_first": Organisation.filter(name="First Trust").count(),
        "after_first": Organisation.filter(id__gt=first.id).count(),
        "none": Organisation.filter(name="Nowhere", id__gt=0).count(),
        "all": Organisation.all().count(),
    }
    async with db.one_connection(), counting() as statements:  # as a page runs them
        counted = await db.counts(**queries)
    assert counted == {"named_first": 1, "after_first": 2, "none": 0, "all": 3}
    assert statements.count == 1
    # Tortoise corrects a limited count in Python after it runs, which a subquery cannot do.
    with pytest.raises(ValueError, match="limit or offset"):
        await db.counts(few=Organisation.all().limit(2).count())
    assert await db.counts() == {}


@postgres_only
async def test_lock_really_locks_the_rows_and_can_skip_those_held(world):
    """Tortoise drops FOR UPDATE from a values query without a word; `db.lock` must not."""
    first, second, third = [await world.org(name) for name in ("First", "Second", "Third")]
    other = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}")
    try:
        async with in_transaction():
            held = await db.lock(Organisation.filter(id__in=[first.id, second.id]).order_by("id"))
            assert held == [first.id, second.id]
            # Another transaction cannot have them, and is told so at once.
            for organisation in (first, second):
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await other.fetch(
                        "SELECT id FROM organisation WHERE id = $1 FOR UPDATE NOWAIT",
                        organisation.id,
                    )
            assert await other.fetchval(
                "SELECT id FROM organisation WHERE id = $1 FOR UPDATE NOWAIT", third.id
            )
        # Rows another transaction holds are left out with skip_locked, not waited for.
        async with other.transaction():
            await other.execute("SELECT id FROM organisation WHERE id = $1 FOR UPDATE", first.id)
            async with in_transaction():
                everyone = Organisation.filter(id__in=[first.id, second.id, third.id])
                free = await db.lock(everyone.order_by("id"), skip_locked=True)
            assert free == [second.id, third.id]
    finally:
        await other.close()


def _chain(node: ast.expr) -> Iterator[str]:
    """The method names of a call chain, outermost first: a.b().c() gives c, b."""
    while isinstance(node, ast.Call | ast.Attribute | ast.Await):
        if isinstance(node, ast.Attribute):
            yield node.attr
        node = node.func if isinstance(node, ast.Call) else node.value


# Queries from which Tortoise drops FOR UPDATE silently (see db.lock).
UNLOCKED = (["values"], ["values_list"], ["exists"], ["count"])


def test_no_lock_is_asked_of_a_query_that_drops_it():
    """Asking a values, exists or count query for a row lock locks nothing."""
    root = Path(db.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                names = list(_chain(node.func))
                if names[:1] in UNLOCKED and "select_for_update" in names:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert found == []
    # The check itself finds what it is for.
    tree = ast.parse("Booking.select_for_update().filter(id=1).values('id')")
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert list(_chain(call.func))[:1] == ["values"]
    assert "select_for_update" in _chain(call.func)


async def test_a_statement_around_an_orm_query_takes_its_parameters(world):
    for name in ("First Trust", "Second Trust", "Third Trust"):
        await world.org(name)
    # Parameters numbered on PostgreSQL, and the model's default order left to the statement.
    named = Organisation.filter(name__in=["First Trust", "Third Trust"]).values("name")
    async with db.one_connection(), counting() as statements:  # as a page runs it
        rows = await db.rows_around(
            named,
            "WITH o AS MATERIALIZED ({query}) SELECT COUNT(*) AS n, MIN(name) AS first FROM o",
        )
    assert rows == [{"n": 2, "first": "First Trust"}]
    assert statements.count == 1 and "ORDER BY" not in statements.sql[0]


async def _backend_and_organisations() -> tuple[int, int]:
    rows = await connections.get("default").execute_query_dict(
        'SELECT pg_backend_pid() AS pid, (SELECT COUNT(*) FROM "organisation") AS n'
    )
    return int(rows[0]["pid"]), int(rows[0]["n"])


@postgres_only
async def test_reads_at_once_run_on_several_connections_that_see_one_moment(world):
    await world.org("First Trust")
    pool_client: Any = connections.get("default")
    async with db.one_connection():
        async with db.reads_at_once(lanes=3) as read:
            # Committed by someone else once the reads have begun: none of them may see it,
            # or one part of a report would count it and another not.
            await Organisation.create(name="Late Trust", slug="late-trust", using_db=pool_client)
            parts = [read(_backend_and_organisations()) for _ in range(3)]
        found = [part.result() for part in parts]
        assert len({pid for pid, _ in found}) == 3
        assert {n for _, n in found} == {1}
        assert await Organisation.all().count() == 2  # the request's connection sees it now
    pool = pool_client._pool
    assert pool._queue.qsize() == pool.get_max_size()  # every connection given back


@postgres_only
async def test_reads_at_once_go_on_with_fewer_connections_when_the_pool_has_none_spare(world):
    await world.org("First Trust")
    pool: Any = connections.get("default")._pool  # type: ignore[attr-defined]
    others = [await pool.acquire() for _ in range(pool.get_max_size() - 1)]
    try:
        async with db.one_connection():
            started = time.monotonic()
            async with db.reads_at_once(lanes=3) as read:
                parts = [read(_backend_and_organisations()) for _ in range(3)]
            # The request's own connection did it all, without waiting for another.
            assert len({part.result()[0] for part in parts}) == 1
            assert time.monotonic() - started < db._LANE_WAIT_SECONDS / 2
    finally:
        for connection in others:
            await pool.release(connection)


@postgres_only
async def test_a_failed_part_stops_the_others_and_gives_the_connections_back(world):
    pool: Any = connections.get("default")._pool  # type: ignore[attr-defined]
    unfinished: list[Any] = []

    async def slow() -> None:
        try:
            await connections.get("default").execute_query("SELECT pg_sleep(5)")
        finally:
            unfinished.append("ended")

    async def failing() -> None:
        await connections.get("default").execute_query('SELECT * FROM "no_such_table"')

    with pytest.raises(Exception, match="no_such_table"):
        async with db.one_connection(), db.reads_at_once(lanes=2) as read:
            read(slow())
            read(failing())
    assert unfinished == ["ended"]
    assert pool._queue.qsize() == pool.get_max_size()


async def _lane_settings() -> dict[str, str]:
    names = [name for name, _ in db._LANE_SETTINGS]
    row = (
        await connections.get("default").execute_query_dict(
            "SELECT " + ", ".join(f"current_setting('{n}') AS {n}" for n in names)
        )
    )[0]
    return {n: str(row[n]) for n in names}


@postgres_only
async def test_report_lanes_plan_for_data_in_memory_and_leave_the_pool_as_it_was(world):
    client: Any = connections.get("default")
    servers_own = (await client.execute_query_dict("SHOW random_page_cost"))[0]["random_page_cost"]
    assert servers_own != "1.1"
    async with db.one_connection(), db.reads_at_once(lanes=2) as read:
        parts = [read(_lane_settings()) for _ in range(2)]
    wanted = {"jit": "off", "work_mem": "32MB", "max_parallel_workers_per_gather": "0"}
    for part in parts:
        assert part.result() == {**wanted, "random_page_cost": "1.1"}
    # Set for the lanes' transactions only: every pooled connection is back to the server's own.
    pool = client._pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        for connection in held:
            assert await connection.fetchval("SHOW random_page_cost") == servers_own
    finally:
        for connection in held:
            await pool.release(connection)


async def _organisations() -> int:
    return await Organisation.all().count()


async def test_reads_at_once_inside_a_transaction_see_what_it_has_written(world):
    async with in_transaction():
        await Organisation.create(name="Uncommitted Trust", slug="uncommitted-trust")
        async with db.reads_at_once(lanes=3) as read:
            counted = [read(_organisations()) for _ in range(3)]
    assert [part.result() for part in counted] == [1, 1, 1]
